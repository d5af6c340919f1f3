#!/usr/bin/env bash
# compare-jmh.sh: the page walk of two builds side by side, paired: rounds of one short JMH run of
# each jar in turn (the order alternating from round to round), then, per benchmark and
# parameter set, the median records/s of each and the median of the per-round ratios new/old.
# The machines drift within minutes (RESULTS.md): only ratios from the same round mean much.
#
# Usage: parser-bench/compare-jmh.sh [-r ROUNDS] [-o OUTDIR] OLD_BENCHMARKS_JAR NEW_BENCHMARKS_JAR [JMH ARGS...]
#   default JMH args: MigrationReaderPagesBench.skipPages -p sourceKind=mapped,heap
#                     -f 1 -wi 3 -i 5 -w 1s -r 1s
#   OLD jar: e.g. built from the commit before (git worktree add /tmp/qevm-old REV &&
#            (cd /tmp/qevm-old && mvn -q -B -DskipTests package)) -> /tmp/qevm-old/parser-bench/target/benchmarks.jar
# Prints a markdown table; the raw JSON of every run stays in OUTDIR (default: a temp dir).
set -euo pipefail
rounds=4
out=
while getopts "r:o:h" opt; do
    case $opt in
        r) rounds=$OPTARG ;;
        o) out=$OPTARG ;;
        *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
old=$(readlink -f "$1")
new=$(readlink -f "$2")
shift 2
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    args=(MigrationReaderPagesBench.skipPages -p sourceKind=mapped,heap -f 1 -wi 3 -i 5 -w 1s -r 1s)
fi
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
out=${out:-$(mktemp -d /tmp/compare-jmh.XXXXXX)}
mkdir -p "$out"
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order=(old new); else order=(new old); fi
    for which in "${order[@]}"; do
        jar=$old
        [ "$which" = new ] && jar=$new
        echo "compare-jmh: round $round/$rounds, $which" >&2
        "$java" -jar "$jar" "${args[@]}" -rf json -rff "$out/$which-$round.json" >"$out/$which-$round.log" 2>&1 \
            || { echo "compare-jmh: $which run $round failed, see $out/$which-$round.log" >&2; exit 1; }
    done
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def load(path):
    res = {}
    for r in json.load(open(path)):
        p = r.get("params", {})
        key = (r["benchmark"].split(".")[-2] + "." + r["benchmark"].split(".")[-1],
               p.get("sourceKind", ""), p.get("streamKind", ""))
        rec = r.get("secondaryMetrics", {}).get("records")
        raw = [x for f in (rec or r["primaryMetric"])["rawData"] for x in f]
        res[key] = statistics.median(raw)
    return res
runs = {w: [load(f"{out}/{w}-{i}.json") for i in range(1, rounds + 1)] for w in ("old", "new")}
print("| benchmark | source | stream | old records/s (median) | new records/s (median) | new/old (median of rounds) | rounds |")
print("|---|---|---|---:|---:|---:|---:|")
for key in runs["new"][0]:
    if key not in runs["old"][0]:
        print(f"| {key[0]} | {key[1]} | {key[2]} | - | {statistics.median(r[key] for r in runs['new'])/1e6:.2f} M | - | {rounds} |")
        continue
    olds = [r[key] for r in runs["old"]]
    news = [r[key] for r in runs["new"]]
    ratios = [n / o for n, o in zip(news, olds)]
    print(f"| {key[0]} | {key[1]} | {key[2]} | {statistics.median(olds)/1e6:.2f} M | {statistics.median(news)/1e6:.2f} M "
          f"| {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) | {rounds} |")
PY
echo "compare-jmh: raw results in $out" >&2
