"""Output: one node output as shoal publishes and stores it (design §4, §6).

On the wire an output is a MessagePack map {node, id, seq, bucket, value}: `bucket` is the end of
its event-time bucket in ns since the epoch (UTC), `seq` counts the node's outputs from 1 without
gaps, `id` is the node's NodeID in hex. A vector output's value is {assets: [...], values: [...]}.
"""
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from .tidy import tidy_rows

KEYS = frozenset(("node", "id", "seq", "bucket", "value"))


class DecodeError(ValueError):
    """Bytes that are not an Output."""


@dataclass(frozen=True)
class Output:
    node: str
    id: str
    seq: int
    bucket: np.datetime64  # datetime64[ns], UTC
    value: Any

    @property
    def bucket_ns(self) -> int:
        return int(self.bucket.astype("int64"))

    @classmethod
    def decode(cls, data: bytes) -> "Output":
        try:
            m = msgpack.unpackb(data, raw=False, strict_map_key=False)
        except Exception as e:  # malformed bytes raise many types (TypeError for list keys, …)
            raise DecodeError(f"not MessagePack: {e}") from None
        return cls.from_map(m)

    @classmethod
    def from_map(cls, m) -> "Output":
        if not isinstance(m, dict) or set(m) != KEYS:
            got = sorted(map(str, m)) if isinstance(m, dict) else type(m).__name__
            raise DecodeError(f"an Output is a map with keys {sorted(KEYS)}, got {got}")
        if not isinstance(m["bucket"], int) or not isinstance(m["seq"], int):
            raise DecodeError("an Output's bucket and seq are integers")
        if not isinstance(m["node"], str) or not isinstance(m["id"], str):
            raise DecodeError("an Output's node and id are strings")
        return cls(m["node"], m["id"], m["seq"], np.datetime64(m["bucket"], "ns"), m["value"])

    def rows(self):
        """The value in tidy form: (asset, field, value) triples (docs/clients.md)."""
        return tidy_rows(self.value)
