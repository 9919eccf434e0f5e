"""An independent reading of shoal's wire digest (decisions: "Digests"), straight from a data
dir's LMDB `outputs` database with python3-lmdb, for checking the engine's own digests.

Per NodeID: H0 = 32 zero bytes, Hi = SHA-256(Hi-1 || stored Output bytes of output i), outputs in
seq order (the store keys a node's outputs by bucket, which grows with seq). Every 1,024 outputs
the chain value is marked with its bucket. Nodes are named by the `node` field of their stored
Outputs (the store keeps each NodeID under its first name).

    /usr/bin/python3 tests/integration/wire_digest.py DIR   # prints the digest JSON
"""
import hashlib
import json
import sys

import lmdb
import msgpack

MARK_EVERY = 1024


def digest_of_dir(path):
    env = lmdb.open(path, readonly=True, lock=False, max_dbs=16, subdir=True)
    outputs = env.open_db(b"outputs", create=False)
    nodes = {}
    with env.begin(db=outputs) as txn:
        for key, value in txn.cursor():
            node_id = key[:32].hex()
            bucket = int.from_bytes(key[32:], "big") ^ 0x8000000000000000
            bucket -= 1 << 64 if bucket >= 1 << 63 else 0
            n = nodes.get(node_id)
            if n is None:
                name = msgpack.unpackb(value, raw=False, strict_map_key=False)["node"]
                n = nodes[node_id] = {"name": name, "h": bytes(32), "count": 0, "marks": [],
                                      "last_bucket": None}
            n["h"] = hashlib.sha256(n["h"] + bytes(value)).digest()
            n["count"] += 1
            n["last_bucket"] = bucket
            if n["count"] % MARK_EVERY == 0:
                n["marks"].append([n["count"], bucket, n["h"].hex()])
    env.close()
    return {n["name"]: {"id": node_id, "outputs": n["count"], "digest": n["h"].hex(),
                        "last_bucket": n["last_bucket"], "marks": n["marks"]}
            for node_id, n in sorted(nodes.items(), key=lambda kv: kv[1]["name"])}


if __name__ == "__main__":
    print(json.dumps({"format": "shoal-digest/1", "nodes": digest_of_dir(sys.argv[1])}, indent=1, sort_keys=True))
