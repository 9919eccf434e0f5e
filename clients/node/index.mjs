// shoal-client: a shoal engine's outputs, typed and gap-checked, and its admin socket.
// The same client as clients/python (docs/clients.md): a Subscriber that yields every output of
// its topics once, in seq order per topic, taking what it missed from the engine's snapshot
// endpoint (at start with catchUp, after its own restart with resume, after a reconnect, and
// whenever a seq jumps); what even the snapshot no longer holds is reported as a gap.
import { readFileSync } from "node:fs";
import net from "node:net";
import { Dealer, Request, Subscriber as ZmqSubscriber } from "zeromq";
import { Packr, Unpackr } from "msgpackr";

export const SNAPSHOT_MAX = 100000;

// Buckets are ns since the epoch (> 2^53): 64-bit integers decode as BigInt, not lossy numbers.
const unpackr = new Unpackr({ int64AsType: "bigint", mapsAsObjects: true });
const packr = new Packr({ useRecords: false });

export class DecodeError extends Error {}
export class SubscriberError extends Error {}
export class AdminError extends Error {}

const KEYS = "bucket,id,node,seq,value";

// One output as published: node, id (NodeID hex), seq (Number), bucket (BigInt ns since the
// epoch, UTC) and value (a vector output: {assets: [...], values: [...]}).
export class Output {
  constructor(node, id, seq, bucket, value) {
    Object.assign(this, { node, id, seq, bucket, value });
  }
  static fromMap(m) {
    if (m === null || typeof m !== "object" || Object.keys(m).sort().join(",") !== KEYS)
      throw new DecodeError(`an Output is a map with keys ${KEYS}`);
    return new Output(m.node, m.id, Number(m.seq), BigInt(m.bucket), m.value);
  }
  static decode(bytes) {
    let m;
    try {
      m = unpackr.unpack(bytes);
    } catch (e) {
      throw new DecodeError(`not MessagePack: ${e.message}`);
    }
    return Output.fromMap(m);
  }
  // The bucket as a Date (ms precision; `bucket` keeps the ns).
  get time() {
    return new Date(Number(this.bucket / 1000000n));
  }
  // The value in tidy form: [asset, field, value] rows (docs/clients.md).
  rows() {
    return tidyRows(this.value);
  }
}

export function tidyRows(value) {
  const rows = [];
  const flatten = (v, prefix, asset) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      const assets = Array.isArray(v.assets) ? v.assets : null;
      for (const [key, entry] of Object.entries(v)) {
        if (assets && key === "assets") continue;
        const name = prefix ? `${prefix}.${key}` : key;
        if (assets && Array.isArray(entry) && entry.length === assets.length)
          entry.forEach((x, i) => flatten(x, name, assets[i]));
        else flatten(entry, name, asset);
      }
    } else rows.push([asset ?? null, prefix ?? "value", v]);
  };
  flatten(value, null, null);
  return rows;
}

// A ZeroMQ certificate (`shoal keys gen`): `public-key = "..."`, `secret-key = "..."` (Z85).
function curveOptions(curveSecret, serverKey) {
  if (!curveSecret && !serverKey) return {};
  if (!curveSecret || !serverKey) throw new Error("curveSecret and serverKey go together");
  const text = readFileSync(curveSecret, "utf8");
  const key = (name) => (text.match(new RegExp(`${name}\\s*=\\s*"([^"]{40})"`)) || [])[1];
  const options = { curvePublicKey: key("public-key"), curveSecretKey: key("secret-key"), curveServerKey: serverKey };
  if (!options.curvePublicKey || !options.curveSecretKey)
    throw new Error(`${curveSecret}: no public-key and secret-key`);
  return options;
}

// The last n outputs of topic from an engine's snapshot endpoint, oldest first.
export async function snapshot(endpoint, topic, n, { timeout = 5000, curveSecret, serverKey } = {}) {
  const req = new Request({ receiveTimeout: timeout, linger: 0, ...curveOptions(curveSecret, serverKey) });
  let answer;
  try {
    req.connect(endpoint);
    await req.send(packr.pack({ topic, n }));
    try {
      [answer] = await req.receive();
    } catch (e) {
      if (e.code === "EAGAIN")
        throw new SubscriberError(`no answer from the snapshot endpoint ${endpoint} within ${timeout} ms`);
      throw e;
    }
  } finally {
    req.close();
  }
  answer = unpackr.unpack(answer);
  if (!answer.ok) throw new SubscriberError(`snapshot of "${topic}" from ${endpoint}: ${answer.error}`);
  return answer.outputs.map((m) => Output.fromMap(m));
}

export class Subscriber {
  // endpoint: the engine's publish endpoint (with `track`, its publish_tracked one).
  // options: topics (exact node names; none: every topic), snapshot (endpoint), catchUp,
  // resume ({topic: last seq}), track (a name), curveSecret + serverKey, silence (ms).
  constructor(endpoint, options = {}) {
    const { topics = [], snapshot: snap, catchUp = 0, resume = {}, track, curveSecret, serverKey } = options;
    if (catchUp && !(topics.length && snap)) throw new Error("catchUp needs topics and the snapshot endpoint");
    if (!(catchUp >= 0 && catchUp <= SNAPSHOT_MAX)) throw new Error(`catchUp must be in [0, ${SNAPSHOT_MAX}]`);
    Object.assign(this, { endpoint, topics: [...topics], snapshotEndpoint: snap, track });
    if (typeof topics === "string") throw new TypeError("topics is a list of node names, not one string");
    // The last seq handed to the caller per topic: what to `resume` from next time.
    this.lastSeq = { ...resume };
    this._accepted = { ...resume }; // queued for the caller, too
    this.gaps = []; // {topic, after, got, missed}
    this.duplicates = 0;
    this.resets = 0;
    this.reconnects = 0;
    this.filled = 0;
    this._catchUp = catchUp;
    this._curve = { curveSecret, serverKey };
    this._silence = options.silence ?? 10000;
    this._ready = [];
    this._acks = new Set();
    this._needCatchUp = Boolean(snap && (catchUp || Object.keys(this._accepted).length));
    const common = { linger: 0, receiveTimeout: 100, ...curveOptions(curveSecret, serverKey) };
    if (track) {
      this._sock = new Dealer({ routingId: track, ...common });
      this._sock.connect(endpoint);
      this._subscribeTracked();
    } else {
      this._sock = new ZmqSubscriber(common);
      this._sock.connect(endpoint);
      if (this.topics.length) this.topics.forEach((t) => this._sock.subscribe(t));
      else this._sock.subscribe();
    }
    this._heard = Date.now();
    this._connectedOnce = false;
    this._watchEvents();
  }

  async _watchEvents() {
    // The socket's events: a connection made again after one was lost is a reconnect. It
    // counts once its handshake succeeded (a refused CURVE key never does).
    try {
      for await (const event of this._sock.events) {
        if (event.type !== "handshake") continue;
        if (this._connectedOnce) {
          this.reconnects += 1;
          this._acks.clear();
          if (this.track) this._subscribeTracked(); // the engine forgets us when it restarts
          if (this.snapshotEndpoint && Object.keys(this._accepted).length) this._needCatchUp = true;
        }
        this._connectedOnce = true;
      }
    } catch {
      // the socket was closed
    }
  }

  // One send at a time on a zeromq.js socket: requests go through this chain. While the engine
  // is away sends wait; a resubscribe while one is still waiting is not queued again.
  _send(frames) {
    this._sending = (this._sending ?? Promise.resolve()).then(() => this._sock.send(frames)).catch(() => {});
    return this._sending;
  }

  _subscribeTracked() {
    if (this._subscribing) return;
    this._subscribing = true;
    let last;
    for (const t of this.topics.length ? this.topics : [""]) last = this._send(["subscribe", t]);
    last.then(() => (this._subscribing = false));
  }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      const out = await this.receive();
      if (out) yield out;
    }
  }

  // The next output, or null when none came within timeout ms (default: wait for ever).
  async receive(timeout = Infinity) {
    const deadline = Date.now() + timeout;
    for (;;) {
      if (this._ready.length) {
        const out = this._ready.shift();
        this.lastSeq[out.node] = out.seq;
        return out;
      }
      if (this._needCatchUp) {
        this._needCatchUp = false;
        await this._startCatchUp();
        continue;
      }
      await this._poll();
      if (!this._ready.length && Date.now() >= deadline) return null;
    }
  }

  // One receive (100 ms at most): an output goes through _accept, or into `pending`.
  async _poll(pending) {
    let frames;
    try {
      frames = await this._sock.receive(); // one receive at a time: do not call receive() concurrently
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      if (this.track && Date.now() - this._heard > this._silence) {
        // Not even a ping (sent every 5 s): the engine may have restarted; subscribing again is
        // idempotent.
        this._heard = Date.now();
        this._subscribeTracked();
      }
      return;
    }
    this._heard = Date.now();
    if (frames.length !== 2) return; // not [topic][output]: not from a shoal engine
    const [topic, body] = frames;
    if (this.track && topic.length === 0) {
      let answer;
      try {
        answer = unpackr.unpack(body);
      } catch {
        return;
      }
      if (answer === null || typeof answer !== "object") return;
      if (answer.error !== undefined) throw new SubscriberError(`the engine refused: ${answer.error}`);
      if (answer.subscribed !== undefined) this._acks.add(String(answer.subscribed));
      return;
    }
    let out;
    try {
      out = Output.decode(body);
    } catch (e) {
      if (e instanceof DecodeError) return; // not an output of a shoal engine
      throw e;
    }
    if (this.topics.length && !this.topics.includes(out.node)) return;
    if (pending) pending.push(out);
    else await this._accept(out, false);
  }

  async _startCatchUp() {
    // Subscribe first and wait until the subscription demonstrably works (an output came, or
    // the tracked endpoint confirmed every topic; else a second passes), then ask for the
    // snapshot: it overlaps the live stream and never leaves a gap between them.
    const pending = [];
    const until = Date.now() + 1000;
    const wanted = this.topics.length ? this.topics : [""];
    const confirmed = () => (this.track ? wanted.every((t) => this._acks.has(t)) : pending.length > 0);
    while (Date.now() < until && !confirmed()) await this._poll(pending);
    const topics = this.topics.length ? this.topics : Object.keys(this._accepted).sort();
    try {
      for (const topic of topics) {
        if (!(this._catchUp || topic in this._accepted)) continue;
        try {
          await this._fill(topic, this._catchUp, null);
        } catch (e) {
          // Not to be had (a removed node, or no answer): holes stay gaps.
          if (!(e instanceof SubscriberError)) throw e;
        }
      }
    } finally {
      for (const out of pending) await this._accept(out, false);
    }
  }

  // Takes topic's outputs after lastSeq (and before seq `until`) from the snapshot: the newest
  // n, or when lastSeq is known, as many as reach back to it (asked for in growing steps).
  async _fill(topic, n, until) {
    const last = this._accepted[topic];
    let ask = last === undefined ? Math.min(n, SNAPSHOT_MAX) : 1024;
    let outputs;
    for (;;) {
      outputs = await snapshot(this.snapshotEndpoint, topic, ask, this._curve);
      const reached = last === undefined || !outputs.length || outputs[0].seq <= last + 1;
      if (reached || outputs.length < ask || ask >= SNAPSHOT_MAX) break;
      ask = Math.min(ask * 8, SNAPSHOT_MAX);
    }
    for (const out of outputs) {
      if (until !== null && out.seq >= until) break;
      const seen = this._accepted[topic];
      if (seen !== undefined && out.seq <= seen) continue;
      this.filled += 1;
      await this._accept(out, true);
    }
  }

  async _accept(out, filling) {
    let last = this._accepted[out.node];
    if (last !== undefined && out.seq === 1 && last > 1 && !filling) {
      // The sender's seqs began again (an engine on a fresh data dir): follow them.
      this.resets += 1;
      last = undefined;
      delete this._accepted[out.node];
    }
    if (last !== undefined && out.seq <= last) {
      this.duplicates += 1;
      return;
    }
    if (last !== undefined && out.seq > last + 1 && !filling && this.snapshotEndpoint) {
      try {
        await this._fill(out.node, SNAPSHOT_MAX, out.seq);
      } catch (e) {
        if (!(e instanceof SubscriberError)) throw e; // no snapshot now: the hole stays a gap
      }
      last = this._accepted[out.node];
    }
    if (last !== undefined && out.seq > last + 1)
      this.gaps.push({ topic: out.node, after: last, got: out.seq, missed: out.seq - last - 1 });
    this._accepted[out.node] = out.seq;
    this._ready.push(out);
  }

  close() {
    if (this.track && !this._sock.closed) {
      // Say bye when the socket is free (within 200 ms), then close.
      const sock = this._sock;
      Promise.race([this._send(["bye"]), new Promise((r) => setTimeout(r, 200))]).then(() => sock.close());
      return;
    }
    this._sock.close();
  }
}

// JSON whose integers beyond 2^53 (ns times) become BigInt instead of rounded numbers: such
// literals are quoted with a marker before parsing (outside strings), then revived.
function parseJson(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
      const literal = text.slice(i, j);
      const big = /^-?\d{16,}$/.test(literal) && !Number.isSafeInteger(Number(literal));
      out += big ? `"\\u0000${literal}"` : literal;
      i = j - 1;
    } else out += c;
  }
  return JSON.parse(out, (k, v) => (typeof v === "string" && v.startsWith("\u0000") ? BigInt(v.slice(1)) : v));
}

// An engine's admin socket: newline-delimited JSON over its Unix socket (<data dir>/shoal.sock),
// or loopback TCP (`tcp: "127.0.0.1:7070"` with the admin token).
export class Admin {
  static async connect({ socket, tcp, token, dataDir, timeout = 30000 } = {}) {
    const path = socket ?? (dataDir ? `${dataDir}/shoal.sock` : undefined);
    if ([path, tcp].filter(Boolean).length !== 1) throw new Error("give one of socket, tcp or dataDir");
    const where = path ?? tcp;
    const conn = await new Promise((resolve, reject) => {
      const c = path ? net.createConnection(path) : net.createConnection(Number(tcp.split(":").pop()), tcp.slice(0, tcp.lastIndexOf(":")));
      c.once("connect", () => resolve(c));
      c.once("error", (e) => reject(new AdminError(`cannot reach the admin socket ${where}: ${e.message}`)));
    });
    return new Admin(conn, where, token, timeout);
  }

  constructor(conn, where, token, timeout = 30000) {
    Object.assign(this, { where, _conn: conn, _token: token, _timeout: timeout, _buffer: "", _waiting: [] });
    this._closed = null;
    conn.setEncoding("utf8");
    conn.on("data", (chunk) => {
      this._buffer += chunk;
      let i;
      while ((i = this._buffer.indexOf("\n")) >= 0) {
        const line = this._buffer.slice(0, i);
        this._buffer = this._buffer.slice(i + 1);
        this._waiting.shift()?.resolve(line);
      }
    });
    const fail = (why) => {
      this._closed ??= why;
      this._waiting.splice(0).forEach((w) => w.reject(new AdminError(`${where}: ${why}`)));
    };
    conn.on("close", () => fail("closed the connection"));
    conn.on("error", (e) => fail(e.message));
    this._fail = fail;
  }

  // One request; resolves to the answer, or rejects with AdminError carrying the engine's error.
  async request(cmd, args = {}) {
    const message = { cmd };
    for (const [k, v] of Object.entries(args)) if (v !== undefined && v !== null) message[k] = v;
    if (this._token !== undefined) message.token = this._token;
    if (this._closed || this._conn.destroyed) throw new AdminError(`${this.where}: ${this._closed ?? "closed"}`);
    const line = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The answer may still come: this connection can no longer pair answers with requests.
        this._fail(`no answer within ${this._timeout} ms (connection closed)`);
        this._conn.destroy();
      }, this._timeout);
      const settle = (f) => (x) => {
        clearTimeout(timer);
        f(x);
      };
      this._waiting.push({ resolve: settle(resolve), reject: settle(reject) });
      // A bucket is ns since the epoch, beyond a double's integers: BigInts go out as digits.
      const text = JSON.stringify(message, (k, v) => (typeof v === "bigint" ? `\u0000${v}` : v));
      this._conn.write(text.replace(/"\\u0000(-?\d+)"/g, "$1") + "\n");
    });
    const answer = parseJson(line);
    if (!answer.ok) throw new AdminError(answer.error ?? `${cmd}: failed`);
    return answer;
  }

  version() { return this.request("version"); }
  graph() { return this.request("graph"); }
  async nodes() { return (await this.request("nodes")).nodes; }
  inspect(node) { return this.request("inspect", { node }); }
  async state(node) { return (await this.inspect(node)).state; }
  window(node) { return this.request("window", { node }); }
  async outputs(node, n = 100) { return (await this.request("outputs", { node, n })).outputs.map((m) => Output.fromMap(m)); }
  pause(node) { return this.request("pause", { node }); }
  resume(node) { return this.request("resume", { node }); }
  restart(node, { fresh = false } = {}) { return this.request("restart", { node, fresh: fresh || undefined }); }
  async metrics() { return (await this.request("metrics")).text; }
  strategies() { return this.request("strategies"); }
  subscribers() { return this.request("subscribers"); }
  submit({ text, file, dryRun = false } = {}) { return this.request("submit", { text, file, dry_run: dryRun || undefined }); }
  remove(strategy, { dryRun = false } = {}) { return this.request("remove", { strategy, dry_run: dryRun || undefined }); }
  checkpoint() { return this.request("checkpoint"); }
  explain(node, bucket, depth) { return this.request("explain", { node, bucket, depth }); }
  close() { this._conn.end(); }
}
