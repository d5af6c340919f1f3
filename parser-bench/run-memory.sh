#!/usr/bin/env bash
# run-memory.sh: issue 12's subcommands on two big dumps, timed in turns, as a markdown table on
# stdout (progress and the per-run log on stderr and in the log directory).
#
# Usage: parser-bench/run-memory.sh [-n RUNS] [-o LOGDIR] [B [M]]
#   B        a big dump (default $QEVM_BIG/l-large-4G.mig, QEVM_BIG=/work/big)
#   M        another dump of the same guest, different contents (default $QEVM_BIG/l-mixed-4G.mig)
#   -n RUNS  rounds (default 5); the table shows medians
#   -o DIR   where the raw log (one line a run) and the report's HTML go (default: a temp dir)
#
# Each round runs every command once, in order, the next round in the reverse order (so that no
# command always follows the same one): `qevm -f B -d state`; `qevm read B --gpa 0x1000000
# --length 4096` (the index built, then one read); `qevm grep B --text <absent>`; `qevm diff B B`;
# `qevm diff B M`; `cat B B`; `cat B M`; `qevm stats B`; `qevm report B -o FILE`; `qevm events B`.
# Outputs go to /dev/null (report: to a file in DIR). Peak RSS comes from GNU time
# (/usr/bin/time -v: "Maximum resident set size"; wall time from `date +%s%N` around it, to the
# millisecond, GNU time's own wall clock having 10 ms steps). Ratios are paired:
# each run's time over its round's `-d state` (for read, grep, stats, report, events) or over its
# round's `cat` of the same two files (diff), the median of those. The 1-minute load average is
# logged before each round. Both dumps are read once first, so every run reads the page cache;
# Each command runs once untimed first (./qevm's class-data archive: one per subcommand). Requires GNU time and python3.
set -euo pipefail

here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
runs=5
logdir=
while getopts "n:o:h" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        o) logdir=$OPTARG ;;
        *) sed -n '2,20p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
big=${QEVM_BIG:-/work/big}
B=${1:-$big/l-large-4G.mig}
M=${2:-$big/l-mixed-4G.mig}
[ -n "$logdir" ] || logdir=$(mktemp -d)
mkdir -p "$logdir"
log=$logdir/runs.tsv
qevm=$root/qevm
absent=qevm-absent-string-0b9f6e1c

names=(state read grep diff-BB diff-BM cat-BB cat-BM stats report events)
cmd() {
    case $1 in
        state) echo "$qevm -f $B -d state" ;;
        read) echo "$qevm read $B --gpa 0x1000000 --length 4096" ;;
        grep) echo "$qevm grep $B --text $absent" ;;
        diff-BB) echo "$qevm diff $B $B" ;;
        diff-BM) echo "$qevm diff $B $M" ;;
        cat-BB) echo "cat $B $B" ;;
        cat-BM) echo "cat $B $M" ;;
        stats) echo "$qevm stats $B" ;;
        report) echo "$qevm report $B -o $logdir/report.html" ;;
        events) echo "$qevm events $B" ;;
    esac
}

cat "$B" "$M" > /dev/null
small=$root/src-samples/a-pc-paused/a-pc-paused.mig
for warm in "-f $small -d state" "read $small --gpa 0 --length 16" "grep $small --text qevm" "diff $small $small" \
    "stats $small" "report $small -o $logdir/warm.html" "events $small"; do
    # shellcheck disable=SC2086 # the words of each warm-up command
    "$qevm" $warm > /dev/null 2>&1 || true
done
printf 'round\tcommand\texit\twall_s\tmaxrss_kb\tload1\n' > "$log"
for ((r = 1; r <= runs; r++)); do
    order=("${names[@]}")
    if ((r % 2 == 0)); then
        order=()
        for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[i]}"); done
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "round $r (load $load)" >&2
    for name in "${order[@]}"; do
        status=0
        start=$(date +%s%N)
        # shellcheck disable=SC2046
        /usr/bin/time -v -o "$logdir/time.log" $(cmd "$name") > /dev/null 2> "$logdir/stderr.log" || status=$?
        end=$(date +%s%N)
        # to the millisecond (GNU time's own wall clock has 10 ms steps: 5% of a 0.2 s command)
        wall=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$logdir/time.log")
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "$status" "$wall" "$rss" "$load" >> "$log"
        printf '  %-8s exit %s  %6s s  %7s KB\n' "$name" "$status" "$wall" "$rss" >&2
    done
done

python3 - "$log" "$B" "$M" <<'EOF'
import csv, statistics, sys, os
log, B, M = sys.argv[1:4]
rows = list(csv.DictReader(open(log), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault(r["command"], {})[int(r["round"])] = r
guest = 3 << 30  # l-large-4G: 3 GiB of loader data (the rest of its 4 GiB guest is zero pages)
cmds = {
    "state": "`qevm -f B -d state`", "read": "`qevm read B --gpa 0x1000000 --length 4096` (index + one read)",
    "grep": "`qevm grep B --text <absent>`", "diff-BB": "`qevm diff B B`", "diff-BM": "`qevm diff B M`",
    "cat-BB": "`cat B B`", "cat-BM": "`cat B M`", "stats": "`qevm stats B`",
    "report": "`qevm report B -o FILE`", "events": "`qevm events B`",
}
base = {"read": "state", "grep": "state", "stats": "state", "report": "state", "events": "state",
        "diff-BB": "cat-BB", "diff-BM": "cat-BM"}
print(f"B = {B} ({os.path.getsize(B)} bytes), M = {M} ({os.path.getsize(M)} bytes)\n")
print("| command | median s | min-max s | paired ratio | of | exits | peak RSS MiB (max) |")
print("|---|---:|---:|---:|---|---|---:|")
for name, label in cmds.items():
    runs = by.get(name, {})
    if not runs:
        continue
    walls = [float(r["wall_s"]) for r in runs.values()]
    rss = max(int(r["maxrss_kb"]) for r in runs.values()) / 1024
    exits = ",".join(sorted({r["exit"] for r in runs.values()}))
    ratio, of = "", ""
    if name in base:
        ratios = [float(runs[k]["wall_s"]) / float(by[base[name]][k]["wall_s"]) for k in runs if k in by[base[name]]]
        ratio = f"{statistics.median(ratios):.2f}"
        of = cmds[base[name]]
    print(f"| {label} | {statistics.median(walls):.3f} | {min(walls):.3f}-{max(walls):.3f} | {ratio} | {of} | {exits} | {rss:.0f} |")
g = statistics.median(float(r["wall_s"]) for r in by["grep"].values())
print(f"\ngrep: {guest / g / 1e9:.2f} GB/s of guest data (3 GiB of data pages over the whole run, index included)")
loads = sorted({r["round"] + ":" + r["load1"] for r in rows})
print("load average (1 min) before each round: " + ", ".join(loads))
EOF
