// A shoal subscriber in Node (npm zeromq + msgpackr).
// Subscribes to an engine's publish endpoint, decodes every [topic][msgpack Output] frame,
// checks each topic's seqs are contiguous, and prints a JSON summary like the Python client:
//   {"topics": {topic: {count, first, last, gaps, missed}}, "received": N}
// Usage: node subscriber.mjs ENDPOINT SECONDS [TRACK_NAME] [--curve-secret FILE --server-key KEY]
// With TRACK_NAME it is a tracked subscriber: a Dealer named TRACK_NAME connected to the
// engine's publish_tracked endpoint, which counts what it drops for us by that name.
// --curve-secret (a .key_secret certificate from `shoal keys gen`) and --server-key (the
// engine's public key) speak CURVE to an engine with [engine] curve.
import { readFileSync } from "node:fs";
import { Dealer, Subscriber } from "zeromq";
import { Unpackr } from "msgpackr";

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
// A ZeroMQ certificate: `public-key = "..."` and `secret-key = "..."` lines (Z85).
const curve = {};
if (curveSecret) {
  const text = readFileSync(curveSecret, "utf8");
  const key = (name) => (text.match(new RegExp(`${name}\\s*=\\s*"([^"]{40})"`)) || [])[1];
  Object.assign(curve, {
    curvePublicKey: key("public-key"),
    curveSecretKey: key("secret-key"),
    curveServerKey: serverKey,
  });
  if (!curve.curvePublicKey || !curve.curveSecretKey || !serverKey)
    throw new Error(`${curveSecret}: no public-key and secret-key, or no --server-key`);
}
// Buckets are ns since the epoch (> 2^53): decode 64-bit integers as BigInt, not lossy numbers.
const unpackr = new Unpackr({ int64AsType: "bigint", mapsAsObjects: true });
let sock;
if (track) {
  sock = new Dealer({ routingId: track, receiveTimeout: 100, ...curve });
  sock.connect(endpoint);
  await sock.send(["subscribe", ""]); // every topic
} else {
  sock = new Subscriber({ receiveTimeout: 100, ...curve });
  sock.connect(endpoint);
  sock.subscribe();
}
console.error("ready"); // connecting; a test may start the engine now

const topics = {};
let received = 0;
const end = Date.now() + Number(seconds) * 1000;
while (Date.now() < end) {
  let frames;
  try {
    frames = await sock.receive();
  } catch (e) {
    if (e.code === "EAGAIN") continue;
    throw e;
  }
  const [topic, body] = frames;
  if (track && topic.length === 0) {
    // The engine's answer to a request: {subscribed: prefix} or {error: why}.
    const reply = unpackr.unpack(body);
    if (reply.error) throw new Error(`the engine refused: ${reply.error}`);
    continue;
  }
  const out = unpackr.unpack(body);
  const keys = Object.keys(out).sort().join(",");
  if (keys !== "bucket,id,node,seq,value") throw new Error(`unexpected keys ${keys}`);
  if (out.node !== topic.toString()) throw new Error(`node ${out.node} on topic ${topic}`);
  const seq = Number(out.seq);
  const t = (topics[out.node] ??= { count: 0, first: seq, last: null, gaps: 0, missed: 0 });
  if (t.last !== null && seq !== t.last + 1) {
    t.gaps += 1;
    t.missed += seq - t.last - 1;
  }
  t.last = seq;
  t.count += 1;
  received += 1;
}
sock.close();
console.log(JSON.stringify({ topics, received }));
