// Type declarations for shoal-client (index.mjs). docs/clients.md describes the behaviour.

export const SNAPSHOT_MAX: number;

export class DecodeError extends Error {}
export class SubscriberError extends Error {}
export class AdminError extends Error {}

/** A vector output's value; other kinds publish numbers or maps. */
export interface VectorValue {
  assets: string[];
  values: (number | null)[];
}

export type TidyRow = [asset: string | null, field: string, value: unknown];

export class Output<V = unknown> {
  constructor(node: string, id: string, seq: number, bucket: bigint, value: V);
  readonly node: string;
  /** The node's NodeID, hex. */
  readonly id: string;
  /** 1, 2, 3, … per node, without holes. */
  readonly seq: number;
  /** End of the event-time bucket, ns since the epoch (UTC). */
  readonly bucket: bigint;
  readonly value: V;
  /** The bucket as a Date (ms precision). */
  readonly time: Date;
  rows(): TidyRow[];
  static decode(bytes: Uint8Array): Output;
  static fromMap(m: unknown): Output;
}

export function tidyRows(value: unknown): TidyRow[];

export interface CurveOptions {
  /** Our certificate from `shoal keys gen` (.key_secret). */
  curveSecret?: string;
  /** The engine's CURVE public key (Z85). */
  serverKey?: string;
}

export function snapshot(
  endpoint: string,
  topic: string,
  n: number,
  options?: CurveOptions & { timeout?: number },
): Promise<Output[]>;

export interface Gap {
  topic: string;
  /** The last seq had before the hole. */
  after: number;
  /** The seq that came after it. */
  got: number;
  /** got − after − 1. */
  missed: number;
}

export interface SubscriberOptions extends CurveOptions {
  /** Exact node names; none: every topic. */
  topics?: string[];
  /** The engine's snapshot endpoint: enables catch-up and filling of gaps. */
  snapshot?: string;
  /** First yield each topic's last `catchUp` outputs (needs topics and snapshot). */
  catchUp?: number;
  /** {topic: last seq seen}: continue after those seqs. */
  resume?: Record<string, number>;
  /** Subscribe on the tracked endpoint under this name. */
  track?: string;
  /** ms without a message (not even a ping) after which a tracked subscription is sent again. */
  silence?: number;
}

/** One receive() at a time (zeromq.js allows one pending receive per socket). */
export class Subscriber implements AsyncIterable<Output> {
  constructor(endpoint: string, options?: SubscriberOptions);
  readonly endpoint: string;
  readonly topics: string[];
  readonly snapshotEndpoint: string | undefined;
  readonly track: string | undefined;
  /** The last seq handed to the caller per topic: what to `resume` from next time. */
  readonly lastSeq: Record<string, number>;
  readonly gaps: Gap[];
  readonly duplicates: number;
  /** Topics whose seqs began again at 1 (a sender on a fresh data dir). */
  readonly resets: number;
  readonly reconnects: number;
  readonly filled: number;
  /** The next output, or null when none came within timeout ms. */
  receive(timeout?: number): Promise<Output | null>;
  [Symbol.asyncIterator](): AsyncIterator<Output>;
  close(): void;
}

export interface NodeSummary {
  name: string;
  id: string;
  kind: string;
  state: "WARMING" | "RUNNING" | "PAUSED" | "FAILED" | "BLOCKED";
  events_in: number;
  outputs: number;
  late_dropped: number;
  rejected: number;
}

export type Answer = { ok: true } & Record<string, any>;

export class Admin {
  /** timeout: ms to wait for each answer (30 s); a connection that times out is closed. */
  static connect(options: {
    socket?: string;
    tcp?: string;
    token?: string;
    dataDir?: string;
    timeout?: number;
  }): Promise<Admin>;
  private constructor();
  readonly where: string;
  request(cmd: string, args?: Record<string, unknown>): Promise<Answer>;
  version(): Promise<Answer>;
  graph(): Promise<Answer>;
  nodes(): Promise<NodeSummary[]>;
  inspect(node: string): Promise<Answer>;
  state(node: string): Promise<NodeSummary["state"]>;
  window(node: string): Promise<Answer>;
  /** The node's last n stored outputs (default 100, at most 1000), oldest first. */
  outputs(node: string, n?: number): Promise<Output[]>;
  pause(node?: string): Promise<Answer>;
  resume(node?: string): Promise<Answer>;
  restart(node: string, options?: { fresh?: boolean }): Promise<Answer>;
  metrics(): Promise<string>;
  strategies(): Promise<Answer>;
  subscribers(): Promise<Answer>;
  submit(options?: { text?: string; file?: string; dryRun?: boolean }): Promise<Answer>;
  remove(strategy: string, options?: { dryRun?: boolean }): Promise<Answer>;
  checkpoint(): Promise<Answer>;
  explain(node: string, bucket: bigint | number, depth?: number): Promise<Answer>;
  close(): void;
}
