"""Layering, checked on what the compiler actually read (its depfiles, *.o.d), not on a grep:
- kernels and wire types (actors/, messages/) depend on nothing under runtime/, on no CAF and
  no ZeroMQ header;
- CAF headers reach only the actor shells: the node actor (runtime/engine/node_host.cpp) and
  the engine that owns the actor system (runtime/engine/engine*.cpp). Ingest, sources,
  transport, store, window, metrics, admin, graph, clock and the CLI compile without CAF.

    python3 tests/layering/check_layers.py BUILD_DIR SOURCE_DIR
"""
import glob
import json
import os
import shlex
import sys

build, source = (os.path.abspath(p) for p in sys.argv[1:3])
CAF_ALLOWED = {"runtime/engine/node_host.cpp", "runtime/engine/engine.cpp",
               "runtime/engine/engine_changes.cpp", "runtime/engine/engine_admin.cpp",
               "runtime/engine/engine_metrics.cpp", "runtime/engine/engine_replay.cpp",
               "runtime/engine/engine_handover.cpp", "runtime/engine/engine_scheduler.cpp",
               "runtime/engine/engine_take.cpp", "runtime/engine/engine_give.cpp"}


def deps_of(depfile):
    text = open(depfile).read().replace("\\\n", " ")
    _, _, rest = text.partition(":")
    return [os.path.normpath(p) for p in rest.split()]


def sources_of(first):
    """The shoal sources an object compiled: the file itself, or (a unity batch, SHOAL_UNITY in
    CI) the sources its generated file includes. What the batch read counts for each of them:
    CMakeLists.txt keeps the CAF shells in a batch of their own."""
    if "/Unity/unity_" not in first:
        return [os.path.relpath(first, source)]
    if not os.path.exists(first):
        problems.append(f"{first}: a unity batch's depfile names it, but it is gone")
        return []
    included = [line.split('"')[1] for line in open(first) if line.startswith("#include \"")]
    return [os.path.relpath(p, source) for p in included if p.startswith(source + os.sep)]


def current_objects():
    """The objects the build dir's configuration compiles now (compile_commands.json): a dir
    switched between unity and file-by-file keeps the other mode's depfiles."""
    objects = set()
    for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
        args = shlex.split(entry["command"])
        if "-o" in args:
            objects.add(os.path.normpath(os.path.join(entry["directory"], args[args.index("-o") + 1])))
    return objects


checked, problems = 0, []
objects = current_objects()
for depfile in glob.glob(os.path.join(build, "CMakeFiles", "**", "*.o.d"), recursive=True):
    if os.path.normpath(depfile[:-2]) not in objects:
        continue
    deps = deps_of(depfile)
    if not deps:
        continue
    srcs = [s for s in sources_of(deps[0])
            if not s.startswith(("..", "tests/")) and os.path.exists(os.path.join(source, s))]
    if not srcs:
        continue  # not shoal's, a test, or a file since moved (a stale depfile)
    checked += len(srcs)
    caf = [d for d in deps if "/caf/" in d]
    kernels = [s for s in srcs if s.startswith(("actors/", "messages/"))]
    if kernels:
        runtime = [os.path.relpath(d, source) for d in deps
                   if d.startswith(os.path.join(source, "runtime") + os.sep)]
        zmq = [d for d in deps if os.path.basename(d) in ("zmq.h", "zmq.hpp")]
        for what, found in (("runtime/", runtime), ("CAF", caf), ("ZeroMQ", zmq)):
            if found:
                problems.append(f"{' or '.join(kernels)} depends on {what}: {found[0]}")
    banned = [s for s in srcs if s not in CAF_ALLOWED and s not in kernels]
    if caf and banned:
        via = [os.path.relpath(d, source) for d in deps if d.startswith(source + os.sep)]
        batch = " (a unity batch: build with -DSHOAL_UNITY=OFF to see which)" if len(srcs) > 1 else ""
        problems.append(f"{' or '.join(banned)} depends on CAF ({caf[0]}){batch}; it includes {via[1:6]}")

if checked < 50:
    print(f"layering: only {checked} sources with depfiles under {build}: is it built?")
    sys.exit(1)
for p in problems:
    print("layering:", p)
if problems:
    sys.exit(1)
print(f"ok: {checked} sources; actors/ and messages/ free of runtime/, CAF and ZeroMQ; CAF only in "
      f"{', '.join(sorted(CAF_ALLOWED))}")
