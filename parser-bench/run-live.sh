#!/usr/bin/env bash
# run-live.sh: live capture measured (issue 11): the 4 GiB guest of make-dump.sh's recipe
# l-large-4G (pc, -m 4G, paused, three 1 GiB loader inputs at 0x10000000, 0x50000000 and
# 0x100000000) migrated by a real QEMU into each destination, the destinations taking turns;
# a markdown table on stdout (progress on stderr) with the exact commands.
#
# Usage: parser-bench/run-live.sh [-n RUNS] [-i INPUTS] [-w WORKDIR] [-t TARGETS]
#   -n RUNS     runs of each destination (default 3); round k runs them in order, round k+1 in
#               the reverse order, so that none always follows the same one
#   -i DIR      the loader inputs large0.bin, large1.bin, large2.bin (default: $QEVM_BIG/inputs,
#               QEVM_BIG=/work/big; make them with `head -c 1G /dev/urandom > DIR/largeN.bin`,
#               as make-dump.sh does)
#   -w DIR      scratch directory for -x outputs and logs (default: a temp dir beside INPUTS)
#   -t TARGETS  which destinations, comma-separated (default: all that this qevm supports):
#                 cat         migrate "exec:cat > /dev/null" (the baseline: QEMU's own cost)
#                 cat-file    migrate "exec:cat > FILE" (writes the stream: the baseline of -x,
#                             which writes as many bytes; FILE beside DIR)
#                 sink        migrate -d tcp:127.0.0.1:PORT into a reader that discards (Python,
#                             1 MiB recv_into): QEMU's cost over the transport --incoming uses,
#                             without exec:'s 64 KiB pipe, which slows cat (not qevm -f -, which
#                             asks for a 1 MiB pipe buffer)
#                 save        qevm --incoming tcp:127.0.0.1:PORT -d state --save FILE (the
#                             capture kept: the baseline is cat-file)
#                 x           qevm --incoming tcp:127.0.0.1:PORT -x -o DIR
#                 state       qevm --incoming tcp:127.0.0.1:PORT -d state
#                 exec-x      migrate "exec:qevm -f - -x -o DIR" (the pipe source)
#                 exec-state  migrate "exec:qevm -f - -d state"
#               x and state need a qevm with --incoming (qevm --help says so); without it the
#               default is cat,cat-file,exec-state,exec-x and the script says so.
#
# Each run starts a fresh QEMU (qemu-system-x86_64 -accel tcg, the recipe's command line; loading
# 3 GiB takes a few seconds, outside the timing), sets max-bandwidth 64G as the recipe does,
# starts the destination (--incoming: in the background, waited for until it listens), then
# times from just before `migrate -d URI` to the `info migrate` poll (every 50 ms) that sees
# `completed` ("to completed"), and to the destination's exit ("to exit": for qevm -x, until
# its files are written and closed). QEMU's own "total time" is shown too. Peak RSS is the
# destination's, from GNU time (/usr/bin/time -v: apt-get install -y time). -x outputs are
# removed and `sync` run after each run, outside the timing. qevm is ./qevm (the jar built with
# mvn -DskipTests -pl cli -am package), run once untimed first (its CDS archive).
set -euo pipefail

here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
hmp=$here/scripts/hmp.py
runs=3
inputs=
work=
targets=
while getopts "n:i:w:t:h" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        i) inputs=$OPTARG ;;
        w) work=$OPTARG ;;
        t) targets=$OPTARG ;;
        *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "run-live: no arguments expected (see -h)" >&2; exit 2; }

die() {
    echo "run-live: $*" >&2
    exit 2
}
inputs=${inputs:-${QEVM_BIG:-/work/big}/inputs}
for i in 0 1 2; do
    [ -f "$inputs/large$i.bin" ] || die "no $inputs/large$i.bin (head -c 1G /dev/urandom > $inputs/large$i.bin)"
done
inputs=$(readlink -f "$inputs")
command -v qemu-system-x86_64 >/dev/null || die "needs QEMU: apt-get install -y qemu-system-x86"
[ -x /usr/bin/time ] || die "needs GNU time: apt-get install -y time"
command -v python3 >/dev/null || die "needs python3 (scripts/hmp.py drives QEMU's monitor)"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
qevm=$root/qevm
ls "$root"/cli/target/qevm-cli-*-all.jar >/dev/null 2>&1 \
    || die "no cli/target/qevm-cli-*-all.jar: build with mvn -B -DskipTests -pl cli -am package"

incoming=0
if "$qevm" --help 2>/dev/null | grep -q -- '--incoming'; then
    incoming=1
fi
if [ -z "$targets" ]; then
    if [ "$incoming" = 1 ]; then
        targets=cat,cat-file,sink,state,save,x,exec-state,exec-x
    else
        targets=cat,cat-file,sink,exec-state,exec-x
        echo "run-live: this qevm has no --incoming: measuring exec:qevm -f - against exec:cat" >&2
    fi
fi
IFS=, read -r -a target_list <<<"$targets"
for t in "${target_list[@]}"; do
    case $t in
        cat | cat-file | sink | exec-x | exec-state) ;;
        x | state | save) [ "$incoming" = 1 ] || die "target $t needs qevm --incoming, which this build lacks" ;;
        *) die "unknown target $t (cat, cat-file, sink, x, state, save, exec-x, exec-state)" ;;
    esac
done

own_work=0
if [ -z "$work" ]; then
    work=$(mktemp -d "$(dirname "$inputs")/qevm-live.XXXXXX")
    own_work=1
fi
mkdir -p "$work"
work=$(readlink -f "$work")
stats=$work/stats.tsv
: > "$stats"
qemu_args=(-M pc -m 4G -nodefaults -S
    -device "loader,file=$inputs/large0.bin,addr=0x10000000,force-raw=on"
    -device "loader,file=$inputs/large1.bin,addr=0x50000000,force-raw=on"
    -device "loader,file=$inputs/large2.bin,addr=0x100000000,force-raw=on")
setup=("migrate_set_parameter max-bandwidth 64G")

# dest.sh PREFIX OUT CMD...: the destination under GNU time, its stdout into OUT (/dev/null but
# for exec:cat > FILE), its stderr in PREFIX.err; when it ends, "STATUS CLOCK_NS" in PREFIX.end (QEMU does not wait for an exec:
# command, and --incoming runs in the background: the script waits for this file).
cat > "$work/dest.sh" <<'EOF'
#!/bin/sh
p=$1
out=$2
shift 2
/usr/bin/time -v -o "$p.time" "$@" > "$out" 2> "$p.err"
s=$?
echo "$s $(date +%s%N)" > "$p.end.tmp" && mv "$p.end.tmp" "$p.end"
EOF

# sink.py PORT: accepts one connection on 127.0.0.1:PORT and discards what it reads.
cat > "$work/sink.py" <<'EOF2'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(1)
    c, _ = s.accept()
    buf = memoryview(bytearray(1 << 20))
    while c.recv_into(buf):
        pass
EOF2

# The processes of a run: QEMU and a background destination, each started by setsid as the
# leader of a process group of its own (QEMU's exec: command in QEMU's), stopped by group on
# any exit: SIGTERM, then SIGKILL what is left a second later.
qemu_pid='' dest_pid=''
cleanup() {
    local pid left=
    for pid in $dest_pid $qemu_pid; do
        kill -TERM -- "-$pid" 2>/dev/null && left=1
    done
    if [ -n "$left" ]; then
        sleep 1
        for pid in $dest_pid $qemu_pid; do
            kill -KILL -- "-$pid" 2>/dev/null || true
        done
    fi
    qemu_pid='' dest_pid=''
}
trap 'cleanup; [ "$own_work" = 0 ] || rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Whether something listens on TCP port $1 (Linux's /proc/net/tcp: state 0A).
listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# one TARGET RUN: one timed migration into TARGET; appends a row to the stats.
one() {
    local target=$1 run=$2 p=$work/$1.$2 sock=$work/qemu.sock port uri label
    rm -f "$sock" "$p".*
    rm -rf "$work/x"
    mkdir -p "$work/x"
    port=$(python3 "$hmp" --free-port)
    case $target in
        cat) uri="exec:sh $work/dest.sh $p /dev/null cat"
            label='migrate "exec:cat > /dev/null"' ;;
        cat-file) uri="exec:sh $work/dest.sh $p $work/x/stream.mig cat"
            label='migrate "exec:cat > FILE"' ;;
        exec-x) uri="exec:sh $work/dest.sh $p /dev/null $qevm -f - -x -o $work/x"
            label='migrate "exec:./qevm -f - -x -o DIR"' ;;
        exec-state) uri="exec:sh $work/dest.sh $p /dev/null $qevm -f - -d state"
            label='migrate "exec:./qevm -f - -d state"' ;;
        x) uri="tcp:127.0.0.1:$port"
            label='./qevm --incoming tcp:127.0.0.1:PORT -x -o DIR' ;;
        save) uri="tcp:127.0.0.1:$port"
            label='./qevm --incoming tcp:127.0.0.1:PORT -d state --save FILE' ;;
        sink) uri="tcp:127.0.0.1:$port"
            label='migrate -d tcp:127.0.0.1:PORT into a sink' ;;
        state) uri="tcp:127.0.0.1:$port"
            label='./qevm --incoming tcp:127.0.0.1:PORT -d state' ;;
    esac
    setsid qemu-system-x86_64 -accel tcg -display none -monitor "unix:$sock,server=on,wait=off" "${qemu_args[@]}" \
        > "$p.qemu.log" 2>&1 < /dev/null &
    qemu_pid=$!
    python3 "$hmp" "$sock" "${setup[@]}" > /dev/null
    case $target in
        x) setsid sh "$work/dest.sh" "$p" /dev/null "$qevm" --incoming "$uri" -x -o "$work/x" & dest_pid=$! ;;
        state) setsid sh "$work/dest.sh" "$p" /dev/null "$qevm" --incoming "$uri" -d state & dest_pid=$! ;;
        save) setsid sh "$work/dest.sh" "$p" /dev/null "$qevm" --incoming "$uri" -d state --save "$work/x/stream.mig" &
            dest_pid=$! ;;
        sink) setsid sh "$work/dest.sh" "$p" /dev/null python3 "$work/sink.py" "$port" & dest_pid=$! ;;
    esac
    if [ -n "$dest_pid" ]; then
        local waited=0
        until listening "$port"; do
            [ -f "$p.end" ] && die "$label exited before listening: $(head -c 500 "$p.err")"
            ((waited++ < 300)) || die "$label did not listen on $port within 30 s"
            sleep 0.1
        done
    fi
    local start='' end='' status='' total=''
    read -r start end status total < <(python3 "$hmp" "$sock" --migrate "$uri" --timeout 600 --info "$p.info")
    [ -n "$status" ] || die "$label: no answer from QEMU's monitor (see $p.qemu.log)"
    local waited=0
    until [ -f "$p.end" ]; do
        ((waited++ < 6000)) || die "$label still running 600 s after the migration ended ($status)"
        sleep 0.1
    done
    local exit_status exit_ns rss
    read -r exit_status exit_ns < "$p.end"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$p.time")
    python3 "$hmp" "$sock" quit > /dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    [ -z "$dest_pid" ] || wait "$dest_pid" 2>/dev/null || true
    qemu_pid='' dest_pid=''
    if [ "$status" != completed ] || [ "$exit_status" != 0 ]; then
        echo "run-live: $label: migration $status, destination exit $exit_status: $(head -c 300 "$p.err" | tr '\n' ' ')" >&2
    fi
    local to_completed to_exit
    to_completed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    to_exit=$(awk -v a="$start" -v b="$exit_ns" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$run" "$to_completed" "$to_exit" "$total" "${rss:-0}" \
        "$status" "$exit_status" >> "$stats"
    printf '  %-52s run %s: to completed %7.2f s, to exit %7.2f s, QEMU %6s ms, RSS %8d KB, %s, exit %s\n' \
        "$label" "$run" "$to_completed" "$to_exit" "$total" "${rss:-0}" "$status" "$exit_status" >&2
    rm -rf "$work/x"
    sync
}

echo "run-live: $(qemu-system-x86_64 --version | head -n 1); inputs $inputs; $runs runs of: $targets" >&2
echo "run-live: one untimed qevm run (its CDS archive)" >&2
"$qevm" -f "$root/src-samples/a-pc-paused/a-pc-paused.mig" -d state > /dev/null
for ((i = 1; i <= runs; i++)); do
    n=${#target_list[@]}
    for ((k = 0; k < n; k++)); do
        j=$((i % 2 ? k : n - 1 - k))
        one "${target_list[j]}" "$i"
    done
done

quote() {
    local a out=
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./=,:@+%-]+$ ]]; then out+="$a "; else out+="'$a' "; fi
    done
    printf '%s' "${out% }"
}
python3 - "$stats" "$runs" "$(quote qemu-system-x86_64 -accel tcg -display none -monitor unix:SOCK,server=on,wait=off "${qemu_args[@]}")" \
    "${setup[*]}" "$(qemu-system-x86_64 --version | head -n 1)" "$incoming" <<'EOF'
import statistics, sys
stats, runs, qemu, setup, version, incoming = sys.argv[1:7]
rows = {}
for line in open(stats):
    label, run, to_completed, to_exit, total, rss, status, exit_status = line.rstrip("\n").split("\t")
    r = rows.setdefault(label, {"completed": [], "exit": [], "total": [], "rss": [], "fail": 0})
    r["completed"].append(float(to_completed)); r["exit"].append(float(to_exit))
    r["total"].append(float(total) / 1000 if total != "-" else float("nan")); r["rss"].append(int(rss or 0))
    r["fail"] += status != "completed" or exit_status != "0"
med = {k: statistics.median(v["completed"]) for k, v in rows.items()}
base = 'migrate "exec:cat > /dev/null"'
base_file = 'migrate "exec:cat > FILE"'
base_sink = 'migrate -d tcp:127.0.0.1:PORT into a sink'
print(f"{version}, TCG; {runs} runs of each destination, in turns. Source (l-large-4G):\n")
print(f"    {qemu}\n    (qemu) {setup}\n    (qemu) migrate -d URI\n")
if incoming != "1":
    print("This qevm has no --incoming: the pipe source (exec:) only.\n")
head = ["destination", "to completed s (median)", "min", "max", "x cat", "x cat > FILE", "x sink", "to exit s (median)",
        "QEMU total time s", "peak RSS MiB (median)", "max", "failed runs"]
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
for label, r in rows.items():
    c = r["completed"]
    cells = [f"`{label}`", f"{med[label]:.2f}", f"{min(c):.2f}", f"{max(c):.2f}",
             f"{med[label] / med[base]:.3f}" if base in med and med[base] > 0 else "-",
             f"{med[label] / med[base_file]:.3f}" if base_file in med and med[base_file] > 0 else "-",
             f"{med[label] / med[base_sink]:.3f}" if base_sink in med and med[base_sink] > 0 else "-",
             f"{statistics.median(r['exit']):.2f}", f"{statistics.median(r['total']):.2f}",
             f"{statistics.median(r['rss']) / 1024:.0f}", f"{max(r['rss']) / 1024:.0f}",
             f"{r['fail']}/{len(c)}"]
    print("| " + " | ".join(cells) + " |")
print("\n`to completed`: from just before `migrate -d URI` to the `info migrate` poll (every 50 ms) that saw "
      "`completed`; `x cat` is its median over that of `exec:cat > /dev/null`, `x cat > FILE` over that of `exec:cat > FILE` (for -x and --save, which write too; -x writes RAM blocks without their zero pages, cat the whole stream), `x sink` over that of the TCP sink. `to exit`: to the destination's "
      "exit (qevm -x: its files written and closed). Peak RSS: the destination's (GNU time). DIR and PORT: a "
      "scratch directory beside the inputs, a free port of 127.0.0.1.")
EOF
