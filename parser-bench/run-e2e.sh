#!/usr/bin/env bash
# run-e2e.sh: end-to-end timings of qevm against cat, cp and the reference analyze-migration.py
# on one dump, side by side, as a markdown table on stdout (progress on stderr).
#
# Usage: parser-bench/run-e2e.sh [-n RUNS] [-w WORKDIR] [-s] [DUMP]
#   DUMP     a migration dump (default: $QEVM_BIG/l-large-4G.mig, QEVM_BIG=/work/big, made with
#            ../shared/tools/dumps/make-dump.sh recipe l-large-4G when missing; that needs
#            qemu-system-x86 and about 6.5 GB of free disk for the inputs and the dump)
#   -n RUNS  timed runs of each command (default 5); the table shows medians
#   -w DIR   scratch directory for cp and -x outputs (default: a temp dir beside the dump,
#            so that the copy lands on the same disk and not in a tmpfs)
#   -s       skip the reference script (minutes per run on a multi-GB dump)
#
# Every command reads the dump from the page cache: it is read once before timing (cat), and
# each command's stdout goes to /dev/null. -x outputs are deleted after each run, outside the
# timing. Peak RSS comes from /usr/bin/time -v ("Maximum resident set size"). Requires GNU time
# (apt-get install -y time) and python3.
set -euo pipefail

here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
shared=${QEVM_SHARED:-$(cd -P -- "$root/../shared" 2>/dev/null && pwd || echo /work/shared)}
runs=5
work=
skip_reference=0
while getopts "n:w:sh" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        w) work=$OPTARG ;;
        s) skip_reference=1 ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

big=${QEVM_BIG:-/work/big}
dump=${1:-$big/l-large-4G.mig}
if [ ! -f "$dump" ]; then
    if [ $# -gt 0 ]; then
        echo "run-e2e: no such dump: $dump" >&2
        exit 2
    fi
    command -v qemu-system-x86_64 >/dev/null || {
        echo "run-e2e: making the default dump needs QEMU: apt-get update && apt-get install -y qemu-system-x86" >&2
        exit 2
    }
    echo "run-e2e: making $dump (make-dump.sh recipe l-large-4G, about a minute)" >&2
    mkdir -p "$big"
    OUTDIR=$big INDIR=$big/inputs "$shared/tools/dumps/make-dump.sh" recipe l-large-4G >&2
fi
dump=$(readlink -f "$dump")
[ -x /usr/bin/time ] || { echo "run-e2e: needs GNU time: apt-get install -y time" >&2; exit 2; }

reference=$shared/reference/analyze-migration-fixed.py
if [ -x "$root/qevm" ]; then
    qevm=("$root/qevm")
    qevm_name="./qevm"
else
    jar=$(ls -t "$root"/parser-core/target/parser-core-*-cli.jar 2>/dev/null | head -n 1 || true)
    [ -n "$jar" ] || { echo "run-e2e: no ./qevm and no parser-core/target/parser-core-*-cli.jar: build with mvn -DskipTests package" >&2; exit 2; }
    java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
    qevm=("$java" -jar "$jar")
    qevm_name="java -jar ${jar#$root/}"
fi

if [ -z "$work" ]; then
    work=$(mktemp -d "$(dirname "$dump")/qevm-e2e.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
stats=$work/stats.tsv
: > "$stats"

# time_one LABEL DIR CMD...: runs CMD in DIR under /usr/bin/time; appends "label secs rss_kb status".
time_one() {
    local label=$1 dir=$2
    shift 2
    local log=$work/time.log
    local status=0 t0 t1
    # wall time from the clock around the run (GNU time's own is to 10 ms only)
    t0=$(date +%s%N)
    (cd "$dir" && /usr/bin/time -v -o "$log" "$@" > /dev/null 2> "$work/stderr.log") || status=$?
    t1=$(date +%s%N)
    local wall rss
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    if [ "$status" != 0 ]; then
        echo "run-e2e: $label exited $status: $(head -c 300 "$work/stderr.log" | tr '\n' ' ')" >&2
    fi
    printf '%s\t%s\t%s\t%s\n' "$label" "$wall" "$rss" "$status" >> "$stats"
    printf '  %-34s %8.2f s  %8d KB  exit %s\n' "$label" "$wall" "$rss" "$status" >&2
}

# bench LABEL CLEANUP DIR CMD...: RUNS timed runs of CMD, running CLEANUP (a shell snippet) after each.
bench() {
    local label=$1 cleanup=$2 dir=$3
    shift 3
    local i
    for ((i = 1; i <= runs; i++)); do
        time_one "$label" "$dir" "$@"
        [ -z "$cleanup" ] || eval "$cleanup"
    done
}

size=$(stat -c %s "$dump")
echo "run-e2e: $dump ($size bytes), $runs runs each, qevm = $qevm_name" >&2
echo "run-e2e: warming the page cache" >&2
cat "$dump" > /dev/null
cat "$dump" > /dev/null

extract=$work/x
bench "cat" "" "$work" cat "$dump"
bench "cp (+ rm)" 'rm -f "$work/copy.mig"' "$work" cp "$dump" "$work/copy.mig"
if [ "$skip_reference" = 0 ]; then
    bench "reference -d state" "" "$work" python3 "$reference" -f "$dump" -d state
    bench "reference -x" 'rm -rf "$extract"' "$work" bash -c 'mkdir -p "$1" && cd "$1" && exec python3 "$2" -f "$3" -x' _ "$extract" "$reference" "$dump"
fi
bench "qevm -d state" "" "$work" "${qevm[@]}" -f "$dump" -d state
bench "qevm -d desc" "" "$work" "${qevm[@]}" -f "$dump" -d desc
mkdir -p "$extract"
bench "qevm -x -o DIR" 'rm -rf "$extract"; mkdir -p "$extract"' "$work" "${qevm[@]}" -f "$dump" -x -o "$extract"
rm -rf "$extract"

# The table: medians, ratios to cat and to the reference's matching command.
python3 - "$stats" "$size" "$dump" "$runs" "$qevm_name" <<'EOF'
import statistics, sys
stats, size, dump, runs, qevm = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
rows = {}
for line in open(stats):
    label, wall, rss, status = line.rstrip("\n").split("\t")
    r = rows.setdefault(label, {"wall": [], "rss": [], "fail": 0})
    r["wall"].append(float(wall)); r["rss"].append(int(rss or 0)); r["fail"] += status != "0"
med = {k: statistics.median(v["wall"]) for k, v in rows.items()}
ref_of = {"qevm -d state": "reference -d state", "qevm -x -o DIR": "reference -x",
          "reference -d state": "reference -d state", "reference -x": "reference -x"}
print(f"Dump: `{dump}` ({size:,} bytes = {size / 2**30:.2f} GiB); {runs} runs each, page cache warm; qevm = `{qevm}`.\n")
print("| command | median s | min s | max s | GB/s | x cat | x reference | peak RSS MiB | failed runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for label, r in rows.items():
    m = med[label]
    ref = ref_of.get(label)
    vs_ref = f"{m / med[ref]:.3f}" if ref in med and med[ref] > 0 else "-"
    vs_cat = f"{m / med['cat']:.1f}" if med.get("cat", 0) > 0 else "-"
    gbps = f"{size / m / 1e9:.2f}" if m > 0 else "-"
    print(f"| `{label}` | {m:.3f} | {min(r['wall']):.3f} | {max(r['wall']):.3f} | {gbps} | {vs_cat} | {vs_ref} "
          f"| {statistics.median(r['rss']) / 1024:.0f} | {r['fail']}/{len(r['wall'])} |")
print("\n`x cat` and `x reference` are ratios of medians (time / time of cat, or of the reference's same "
      "command): below 1 is faster. A failed run (non-zero exit, e.g. 'not implemented yet') is still timed.")
EOF
