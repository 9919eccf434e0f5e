"""Layering, checked on what the compiler actually read (its depfiles, *.o.d), not on a grep:
- kernels and wire types (actors/, messages/) depend on nothing under runtime/, on no CAF and
  no ZeroMQ header;
- CAF headers reach only the actor shells: the node actor (runtime/engine/node_host.cpp) and
  the engine that owns the actor system (runtime/engine/engine*.cpp). Ingest, sources,
  transport, store, window, metrics, admin, graph, clock and the CLI compile without CAF.

    python3 tests/layering/check_layers.py BUILD_DIR SOURCE_DIR
"""
import glob
import os
import sys

build, source = (os.path.abspath(p) for p in sys.argv[1:3])
CAF_ALLOWED = {"runtime/engine/node_host.cpp", "runtime/engine/engine.cpp",
               "runtime/engine/engine_changes.cpp", "runtime/engine/engine_admin.cpp",
               "runtime/engine/engine_metrics.cpp", "runtime/engine/engine_replay.cpp"}


def deps_of(depfile):
    text = open(depfile).read().replace("\\\n", " ")
    _, _, rest = text.partition(":")
    return [os.path.normpath(p) for p in rest.split()]


checked, problems = 0, []
for depfile in glob.glob(os.path.join(build, "CMakeFiles", "**", "*.o.d"), recursive=True):
    deps = deps_of(depfile)
    if not deps:
        continue
    src = os.path.relpath(deps[0], source)
    if src.startswith("..") or src.startswith("tests/") or not os.path.exists(deps[0]):
        continue  # not shoal's, a test, or a file since moved (a stale depfile)
    checked += 1
    caf = [d for d in deps if "/caf/" in d]
    if src.startswith(("actors/", "messages/")):
        runtime = [os.path.relpath(d, source) for d in deps
                   if d.startswith(os.path.join(source, "runtime") + os.sep)]
        zmq = [d for d in deps if os.path.basename(d) in ("zmq.h", "zmq.hpp")]
        for what, found in (("runtime/", runtime), ("CAF", caf), ("ZeroMQ", zmq)):
            if found:
                problems.append(f"{src} depends on {what}: {found[0]}")
    elif caf and src not in CAF_ALLOWED:
        via = [os.path.relpath(d, source) for d in deps if d.startswith(source + os.sep)]
        problems.append(f"{src} depends on CAF ({caf[0]}); it includes {via[1:6]}")

if checked < 50:
    print(f"layering: only {checked} objects with depfiles under {build}: is it built?")
    sys.exit(1)
for p in problems:
    print("layering:", p)
if problems:
    sys.exit(1)
print(f"ok: {checked} objects; actors/ and messages/ free of runtime/, CAF and ZeroMQ; CAF only in "
      f"{', '.join(sorted(CAF_ALLOWED))}")
