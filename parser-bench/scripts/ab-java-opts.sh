#!/usr/bin/env bash
# ab-java-opts.sh: ./qevm commands with two sets of extra JVM options (QEVM_JAVA_OPTS), in turns,
# to the millisecond; prints the median of each command under each set and their paired ratio
# (each round's B over its A). For launcher flags: both sets use the launcher's own flags and
# its AOT cache.
#
# Usage: parser-bench/scripts/ab-java-opts.sh ROUNDS "OPTS_A" "OPTS_B" "ARGS" ["ARGS" ...]
#   e.g. ab-java-opts.sh 15 "" "-XX:Tier3BackEdgeThreshold=2000" "-f B.mig -d state" "read B.mig --gpa 0 --length 16"
# Outputs go to /dev/null; each command runs once untimed with each set first.
set -euo pipefail
here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
qevm=$here/../../qevm
rounds=$1 a=$2 b=$3
shift 3
for args in "$@"; do
    for opts in "$a" "$b"; do
        # shellcheck disable=SC2086 # the words of ARGS
        QEVM_JAVA_OPTS="$opts" "$qevm" $args > /dev/null 2>&1 || true
    done
done
{
    for ((r = 1; r <= rounds; r++)); do
        for args in "$@"; do
            for set in A B; do
                opts=$a
                [ "$set" = B ] && opts=$b
                start=$(date +%s%N)
                # shellcheck disable=SC2086
                QEVM_JAVA_OPTS="$opts" "$qevm" $args > /dev/null 2>&1 || true
                end=$(date +%s%N)
                printf '%s\t%s\t%s\t%s\n' "$r" "$args" "$set" $(((end - start) / 1000))
            done
        done
    done
} | python3 -c '
import sys, statistics as st
a, b = sys.argv[1:3]
t = {}
for line in sys.stdin:
    r, args, s, us = line.rstrip("\n").split("\t")
    t.setdefault(args, {}).setdefault(s, {})[int(r)] = int(us) / 1e6
print(f"A = [{a}], B = [{b}]; medians in s, ratio = median of B/A per round")
for args, sets in t.items():
    ratios = [sets["B"][r] / sets["A"][r] for r in sets["A"]]
    ma, mb = st.median(sets["A"].values()), st.median(sets["B"].values())
    print(f"{args}: A {ma:.3f}  B {mb:.3f}  B/A {st.median(ratios):.3f}")
' "$a" "$b"
