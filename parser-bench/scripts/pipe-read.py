#!/usr/bin/env python3
"""How fast a reader that does nothing drains a pipe, with Linux's default 64 KiB pipe buffer
or a larger one asked for with fcntl(F_SETPIPE_SZ), as qevm -f - asks for 1 MiB (cli/Pipes).

    cat DUMP | python3 parser-bench/scripts/pipe-read.py            # default buffer
    cat DUMP | python3 parser-bench/scripts/pipe-read.py 1048576    # 1 MiB

Prints the bytes read and the seconds; results: parser-bench/results/issue8/pipe-read.log."""
import fcntl, os, sys, time

F_SETPIPE_SZ = 1031
if len(sys.argv) > 1:
    fcntl.fcntl(0, F_SETPIPE_SZ, int(sys.argv[1]))
buf = memoryview(bytearray(4 << 20))
total, start = 0, time.time()
while True:
    n = os.readv(0, [buf])
    if n == 0:
        break
    total += n
print(total, "%.2f s" % (time.time() - start), file=sys.stderr)
