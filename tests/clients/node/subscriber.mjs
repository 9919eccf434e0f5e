// A shoal subscriber in Node (npm zeromq + msgpackr).
// Subscribes to an engine's publish endpoint, decodes every [topic][msgpack Output] frame,
// checks each topic's seqs are contiguous, and prints a JSON summary like the Python client:
//   {"topics": {topic: {count, first, last, gaps, missed}}, "received": N}
// Usage: node subscriber.mjs ENDPOINT SECONDS [TRACK_NAME]
// With TRACK_NAME it is a tracked subscriber: a Dealer named TRACK_NAME connected to the
// engine's publish_tracked endpoint, which counts what it drops for us by that name.
import { Dealer, Subscriber } from "zeromq";
import { Unpackr } from "msgpackr";

const [endpoint, seconds = "5", track] = process.argv.slice(2);
// Buckets are ns since the epoch (> 2^53): decode 64-bit integers as BigInt, not lossy numbers.
const unpackr = new Unpackr({ int64AsType: "bigint", mapsAsObjects: true });
let sock;
if (track) {
  sock = new Dealer({ routingId: track, receiveTimeout: 100 });
  sock.connect(endpoint);
  await sock.send(["subscribe", ""]); // every topic
} else {
  sock = new Subscriber({ receiveTimeout: 100 });
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
