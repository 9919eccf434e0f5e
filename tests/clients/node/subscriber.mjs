// A shoal subscriber in Node (npm zeromq + msgpackr).
// Subscribes to an engine's publish endpoint, decodes every [topic][msgpack Output] frame,
// checks each topic's seqs are contiguous, and prints a JSON summary like the Python client:
//   {"topics": {topic: {count, first, last, gaps, missed}}, "received": N}
// Usage: node subscriber.mjs ENDPOINT SECONDS
import { Subscriber } from "zeromq";
import { Unpackr } from "msgpackr";

const [endpoint, seconds = "5"] = process.argv.slice(2);
// Buckets are ns since the epoch (> 2^53): decode 64-bit integers as BigInt, not lossy numbers.
const unpackr = new Unpackr({ int64AsType: "bigint", mapsAsObjects: true });
const sock = new Subscriber({ receiveTimeout: 100 });
sock.connect(endpoint);
sock.subscribe();

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
