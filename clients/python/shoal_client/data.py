"""read_outputs: a data dir's stored outputs as a pandas DataFrame (needs python3-pandas and
python3-lmdb; the `data` extra).

The outputs database (design §7) is keyed by NodeID bytes + the bucket as a big-endian i64, and
holds each Output's MessagePack bytes as published. A data dir in use by a running engine can be
read: LMDB readers never block its writer, and each call reads one consistent snapshot.
"""
import struct
from typing import Optional, Union

import msgpack
import numpy as np

from .output import Output
from .tidy import tidy_rows

TimeLike = Union[None, int, str, np.datetime64, "pandas.Timestamp"]


def _ns(t: TimeLike) -> Optional[int]:
    """ns since the epoch: an int is taken as ns; strings and datetimes as UTC times."""
    if t is None:
        return None
    if isinstance(t, (int, np.integer)):
        return int(t)
    import pandas as pd
    ts = pd.Timestamp(t)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return int(ts.value)


def _successor(prefix: bytes) -> Optional[bytes]:
    """The smallest key after every key starting with prefix."""
    b = bytearray(prefix)
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return None
    b[-1] += 1
    return bytes(b)


def _bucket_key(ns: int) -> bytes:
    """A bucket as the store keys it: the i64 with its sign bit flipped, big-endian, so that
    byte order is numeric order, negative times included."""
    return struct.pack(">Q", (ns & 0xFFFFFFFFFFFFFFFF) ^ (1 << 63))


def iter_outputs(data_dir: str, node: Optional[str] = None, start: TimeLike = None,
                 end: TimeLike = None):
    """Stored Outputs in (node id, bucket) order; `node` matches a NodeID (hex) or the name its
    outputs are stored under (a node shared by several strategies: its first name); start and
    end bound the bucket, both inclusive."""
    import lmdb
    lo, hi = _ns(start), _ns(end)
    env = lmdb.open(data_dir, readonly=True, max_dbs=8, subdir=True, lock=True)
    try:
        db = env.open_db(b"outputs", create=False)
        with env.begin(db=db, buffers=False) as txn:
            cursor = txn.cursor()
            found = cursor.first()
            while found:
                key = cursor.key()
                node_key = key[:-8]
                first = Output.from_map(msgpack.unpackb(cursor.value(), raw=False,
                                                        strict_map_key=False))
                if node is not None and node not in (first.node, first.id):
                    nxt = _successor(node_key)  # skip the rest of this node's outputs
                    found = nxt is not None and cursor.set_range(nxt)
                    continue
                # This node's outputs: from the first bucket >= start.
                if lo is not None and first.bucket_ns < lo:
                    found = cursor.set_range(node_key + _bucket_key(lo))
                    if found and cursor.key()[:-8] != node_key:
                        continue
                while found and cursor.key()[:-8] == node_key:
                    out = Output.from_map(msgpack.unpackb(cursor.value(), raw=False,
                                                          strict_map_key=False))
                    if hi is not None and out.bucket_ns > hi:
                        nxt = _successor(node_key)
                        found = nxt is not None and cursor.set_range(nxt)
                        break
                    if lo is None or out.bucket_ns >= lo:
                        yield out
                    found = cursor.next()
    finally:
        env.close()


def read_outputs(data_dir: str, node: Optional[str] = None, start: TimeLike = None,
                 end: TimeLike = None, form: str = "long"):
    """A data dir's outputs as a DataFrame.

    form="long" (tidy): one row per number, columns bucket (datetime64[ns]), node, seq, asset,
      field, value — a vector output gives one row per asset (docs/clients.md has the rule);
    form="wide": one row per bucket, one column per asset (or (field, asset) when the node has
      more than one field; per node when `node` is not given).
    """
    import pandas as pd
    if form not in ("long", "wide"):
        raise ValueError(f'form is "long" or "wide", got {form!r}')
    buckets, nodes, seqs, assets, fields, values = [], [], [], [], [], []
    for out in iter_outputs(data_dir, node, start, end):
        for asset, field, value in tidy_rows(out.value):
            buckets.append(out.bucket_ns)
            nodes.append(out.node)
            seqs.append(out.seq)
            assets.append(asset)
            fields.append(field)
            values.append(value)
    df = pd.DataFrame({
        "bucket": np.array(buckets, dtype="int64").astype("datetime64[ns]"),
        "node": pd.Series(nodes, dtype="object"),
        "seq": np.array(seqs, dtype="int64"),
        "asset": pd.Series(assets, dtype="object"),
        "field": pd.Series(fields, dtype="object"),
        "value": pd.Series(values, dtype="object").infer_objects(),
    })
    if form == "long":
        return df
    columns = ["field", "asset"] if node is not None else ["node", "field", "asset"]
    # One output per (node, bucket): each (bucket, node, field, asset) is one cell.
    wide = df.assign(asset=df["asset"].fillna("")).pivot(index="bucket", columns=columns,
                                                         values="value")
    # Drop levels that say nothing (one field, no assets).
    for level in list(wide.columns.names):
        if wide.columns.nlevels > 1 and wide.columns.get_level_values(level).nunique() == 1:
            wide.columns = wide.columns.droplevel(level)
    return wide
