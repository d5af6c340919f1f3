#!/usr/bin/env python3
"""A QEMU human-monitor client for run-live.sh (after shared/tools/dumps/hmp.py).

  hmp.py SOCKET CMD...          runs each monitor command, prints its output
  hmp.py SOCKET --migrate URI [--timeout S] [--info FILE] [--after S CMD]...
                                `migrate -d URI`, then `info migrate` every 50 ms until the
                                status is completed, failed or cancelled (or S seconds passed:
                                migrate_cancel, status "timeout"); prints one line
                                "START_NS END_NS STATUS TOTAL_MS": the clock (CLOCK_REALTIME,
                                as `date +%s%N`) just before `migrate` and when the end was
                                seen, and QEMU's own "total time"; the last `info migrate` goes
                                to FILE; --after S CMD runs CMD once S seconds after
                                `migrate` (a live migration made to converge)
  hmp.py --free-port            prints a TCP port of 127.0.0.1 that was free a moment ago

The monitor is a unix socket (QEMU's -monitor unix:SOCKET,server=on,wait=off); a command's
output is what comes before the next "(qemu) " prompt, its first line (the echo) dropped.
Every wait is bounded: 10 s to connect, 60 s per command.
"""
import re
import socket
import sys
import time

PROMPT = b"(qemu) "


def read_until_prompt(s, timeout=60.0):
    buf = b""
    end = time.time() + timeout
    while not buf.endswith(PROMPT):
        if time.time() > end:
            raise TimeoutError("no monitor prompt; got %r" % buf[-200:])
        s.settimeout(max(0.1, end - time.time()))
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("QEMU closed its monitor; got %r" % buf[-200:])
        buf += chunk
    return buf


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("hmp.py: cannot connect to %s" % path)
    read_until_prompt(s)
    return s


def command(s, cmd):
    s.sendall(cmd.encode() + b"\n")
    if cmd.strip() in ("quit", "q"):
        try:
            s.settimeout(5)
            while s.recv(65536):
                pass
        except OSError:
            pass
        return ""
    out = read_until_prompt(s).decode("utf-8", "replace")
    lines = out.replace("\r", "").split("\n")
    body = "\n".join(lines[1:])
    return body[: -len("(qemu) ")] if body.endswith("(qemu) ") else body


def migrate(s, uri, timeout, info_file, after=()):
    start = time.time_ns()
    pending = sorted(after)
    out = command(s, 'migrate -d "%s"' % uri)
    if out.strip():
        sys.stderr.write("migrate: " + out)
    status, info = "none", ""
    while True:
        info = command(s, "info migrate")
        m = re.search(r"^Migration status: *([a-z-]+)", info, re.M)
        status = m.group(1) if m else "none"
        if status in ("completed", "failed", "cancelled"):
            break
        while pending and time.time_ns() - start >= pending[0][0] * 1e9:
            command(s, pending.pop(0)[1])
        if time.time_ns() - start > timeout * 1e9:
            command(s, "migrate_cancel")
            status = "timeout"
            break
        time.sleep(0.05)
    end = time.time_ns()
    if info_file:
        with open(info_file, "w") as f:
            f.write(info)
    m = re.search(r"^total time: *(\d+)", info, re.M)
    print(start, end, status, m.group(1) if m else "-")


def main():
    args = sys.argv[1:]
    if args == ["--free-port"]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
        return
    if len(args) < 2:
        sys.exit(__doc__)
    s = connect(args[0])
    if args[1] == "--migrate":
        uri, timeout, info, after = args[2], 3600.0, None, []
        rest = args[3:]
        while rest:
            if rest[0] == "--timeout":
                timeout = float(rest[1])
            elif rest[0] == "--info":
                info = rest[1]
            elif rest[0] == "--after":
                after.append((float(rest[1]), rest[2]))
                rest = rest[1:]
            else:
                sys.exit("hmp.py: unknown option %s" % rest[0])
            rest = rest[2:]
        migrate(s, uri, timeout, info, after)
    else:
        for cmd in args[1:]:
            sys.stdout.write(command(s, cmd))
            sys.stdout.flush()
    s.close()


if __name__ == "__main__":
    main()
