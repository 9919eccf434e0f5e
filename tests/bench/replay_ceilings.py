#!/usr/bin/env python3
"""What a replay of a recorded run can reach on this machine, whatever the engine does.

usage: replay_ceilings.py DATA_DIR

DATA_DIR is the data dir a stored replay (`shoal replay --out`) wrote. Printed, one figure per
line (scripts/bench turns them into scans/s and ratios):

  outputs N              outputs stored
  output_bytes B         their encoded bytes: what `replay --digest` hashes (SHA-256)
  store_bytes B          the store's file: what a stored replay writes and syncs
  disk_mb_per_s X        this disk writing and syncing (fdatasync) that many bytes, in a
                         scratch file beside the store
  sha256_mb_per_s X      SHA-256 over one large buffer: a bound the digest's chain (one hash per
                         output) cannot beat
"""
import hashlib
import os
import sys
import time

import lmdb


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = sys.argv[1]
    env = lmdb.open(data, readonly=True, lock=False, max_dbs=8, subdir=True)
    outputs = output_bytes = 0
    with env.begin() as txn:
        db = env.open_db(b"outputs", txn=txn, create=False)
        for _, value in txn.cursor(db=db):
            outputs += 1
            output_bytes += len(value)
    env.close()
    store_bytes = os.path.getsize(os.path.join(data, "data.mdb"))

    # The disk: the store's size written in 1 MiB blocks, then synced, as the replay's end does.
    scratch = os.path.join(data, "ceiling.scratch")
    block = os.urandom(1 << 20)
    start = time.perf_counter()
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        left = store_bytes
        while left > 0:
            left -= os.write(fd, block[: min(left, len(block))])
        os.fdatasync(fd)
    finally:
        os.close(fd)
        disk_s = time.perf_counter() - start
        os.unlink(scratch)

    # SHA-256 at its best: large updates, no per-output finalisation. The best of three.
    buf = os.urandom(64 << 20)
    sha_s = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        hashlib.sha256(buf).digest()
        sha_s = min(sha_s, time.perf_counter() - start)

    print("outputs", outputs)
    print("output_bytes", output_bytes)
    print("store_bytes", store_bytes)
    print("disk_mb_per_s %.0f" % (store_bytes / disk_s / 1e6))
    print("sha256_mb_per_s %.0f" % (len(buf) / sha_s / 1e6))


if __name__ == "__main__":
    main()
