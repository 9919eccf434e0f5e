// A shoal subscriber in Node, on the client package (clients/node, shoal-client).
// Subscribes to an engine's publish endpoint and prints a JSON summary like the Python client:
//   {"topics": {topic: {count, first, last, gaps, missed}}, "received": N}
// Usage: node subscriber.mjs ENDPOINT SECONDS [TRACK_NAME] [--curve-secret FILE --server-key KEY]
// With TRACK_NAME it is a tracked subscriber, named TRACK_NAME on the engine's publish_tracked
// endpoint, which counts what it drops for us by that name. --curve-secret (a .key_secret
// certificate from `shoal keys gen`) and --server-key (the engine's public key) speak CURVE to
// an engine with [engine] curve. No snapshot endpoint is given: what ZeroMQ drops shows as gaps.
import { Subscriber } from "shoal-client";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const curveSecret = option("--curve-secret");
const serverKey = option("--server-key");
const [endpoint, seconds = "5", track] = args;
const sub = new Subscriber(endpoint, { track, curveSecret, serverKey });
console.error("ready"); // connecting; a test may start the engine now

const topics = {};
let received = 0;
const end = Date.now() + Number(seconds) * 1000;
while (Date.now() < end) {
  const out = await sub.receive(100);
  if (!out) continue;
  const t = (topics[out.node] ??= { count: 0, first: out.seq, last: null, gaps: 0, missed: 0 });
  t.last = out.seq;
  t.count += 1;
  received += 1;
}
for (const gap of sub.gaps) {
  topics[gap.topic].gaps += 1;
  topics[gap.topic].missed += gap.got - gap.after - 1;
}
sub.close();
console.log(JSON.stringify({ topics, received }));
