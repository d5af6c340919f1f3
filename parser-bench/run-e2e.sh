#!/usr/bin/env bash
# run-e2e.sh: end-to-end timings of qevm against cat, cp and the reference analyze-migration.py
# on one dump, side by side, as a markdown table on stdout (progress on stderr); optionally
# against an older CLI jar in the same run, paired run by run.
#
# Usage: parser-bench/run-e2e.sh [-n RUNS] [-w WORKDIR] [-s] [-b BASELINE.jar] [-c | -C] [-X]
#                                [-L | -l SCALED_DUMP...] [DUMP]
#   DUMP     a migration dump (default: $QEVM_BIG/l-large-4G.mig, QEVM_BIG=/work/big, made with
#            ../shared/tools/dumps/make-dump.sh recipe l-large-4G when missing; that needs
#            qemu-system-x86 and about 6.5 GB of free disk for the inputs and the dump)
#   -n RUNS  timed runs of each command (default 5); the table shows medians
#   -w DIR   scratch directory for cp and -x outputs (default: a temp dir beside the dump,
#            so that the copy lands on the same disk and not in a tmpfs)
#   -s       skip the reference script (minutes per run on a multi-GB dump)
#   -b JAR   also run every qevm command with this CLI jar (e.g. a build of an older commit),
#            as "baseline ...": same JVM and flags as the ./qevm launcher, its own CDS archive in
#            the scratch directory; each baseline run right before or after the matching qevm
#            run (the order alternating), and the table gets their paired ratio. A baseline
#            command that fails its first run (e.g. no `-f -` in an older CLI) is not run again.
#   -c       also the compressed rows (containers): DUMP.zst and DUMP.xz beside DUMP, made once
#            when missing (zstd -1 -T0, xz -1 -T0: minutes for 3.2 GB); the decompressor alone
#            (`zstd -dc`, `xz -dc` > /dev/null), `xz -dc DUMP.xz | qevm -f - -d state`, and qevm
#            reading DUMP.zst and DUMP.xz itself (-d desc, -d state, -x with sync before, beside
#            qevm -x of DUMP and `zstd -dc` into a file, both with sync before); the table's
#            `x decompressor` column is each row's time over its decompressor's alone (for -x:
#            over `zstd -dc` into a file, which writes as many bytes)
#   -C       only those compressed rows (no cat, cp, reference or plain qevm rows)
#   -X       with -c/-C, no xz rows (on a compressible dump `xz -dc` alone takes minutes a run)
#   -L       also the scaling case (issue 13: time per GB flat across dump sizes), on
#            $QEVM_BIG/l-large-{1G,2G,4G}.mig: guests of 1, 2 and 4 GiB made the same way, 75% random
#            data (parser-bench/make-scaled-dumps.sh makes the missing ones: seconds to a minute each,
#            about 2.4 GB of disk for the 1G and 2G dumps and their inputs). On each: cat, qevm -d
#            state, cp and qevm -x -o DIR (both with sync before), all of them in one interleaved group
#            (so that the sizes compared are measured in the same rounds), and after the main table
#            a second one: per dump its bytes and guest RAM, per command the median s, s/GB and peak
#            RSS at each size, the spread (max - min) / min of s/GB and of RSS across the sizes and a
#            verdict against the issue's 10%, and a least-squares fit s = fixed + per GB x GB
#   -l DUMP  the scaling case on these dumps instead (repeat it; implies -L), in the table in the order given
#
# Commands, each RUNS times: cat; cp; the reference -d state and -x; qevm -d state, -d desc and
# -x; cp and qevm -x again with `sync` before each run (outside the timing), interleaved run by
# run, so that no run pays for the dirty pages of the one before; and through a pipe:
# `cat DUMP | cat` (the pipe's own cost), `cat DUMP | qevm -f - -d state` and
# `cat DUMP | qevm -f - -x -o DIR`.
#
# Every command reads the dump from the page cache: it is read once before timing (cat), and
# each command's stdout goes to /dev/null. -x outputs are deleted after each run, outside the
# timing. Wall time is the clock around the whole command (for a pipe: around the pipeline).
# Peak RSS comes from /usr/bin/time -v ("Maximum resident set size") of the command itself; in a
# pipe, GNU time runs inside the pipeline around the reading side only (`cat DUMP | time qevm`),
# so it is qevm's and not cat's (around `sh -c 'cat | qevm'` it would be the largest of the
# shell's children, not their sum, and not necessarily qevm's). Before timing, qevm (and the
# baseline) run once untimed, so that no timed run makes a CDS archive. Requires GNU time
# (apt-get install -y time) and python3.
set -euo pipefail

here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
shared=${QEVM_SHARED:-$(cd -P -- "$root/../shared" 2>/dev/null && pwd || echo /work/shared)}
runs=5
work=
skip_reference=0
baseline_jar=
containers=0
skip_xz=0
scale=0
scale_dumps=()
while getopts "n:w:sb:cCXLl:h" opt; do
    case $opt in
        n) runs=$OPTARG ;;
        w) work=$OPTARG ;;
        s) skip_reference=1 ;;
        b) baseline_jar=$OPTARG ;;
        c) containers=1 ;;
        C) containers=2 ;;
        X) skip_xz=1 ;;
        L) scale=1 ;;
        l) scale=1 scale_dumps+=("$OPTARG") ;;
        *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
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
# the scaling dumps are found (or made) before any timing, so that a missing one stops the run
# before it has spent minutes on the main rows
if [ "$scale" = 1 ]; then
    if [ ${#scale_dumps[@]} -eq 0 ]; then
        missing=()
        for size in 1G 2G 4G; do
            scale_dumps+=("$big/l-large-$size.mig")
            [ -f "$big/l-large-$size.mig" ] || missing+=("$size")
        done
        if [ ${#missing[@]} -gt 0 ]; then
            echo "run-e2e: making the scaling dumps ${missing[*]} (parser-bench/make-scaled-dumps.sh)" >&2
            QEVM_BIG=$big QEVM_SHARED=$shared "$here/make-scaled-dumps.sh" "${missing[@]}" >&2
        fi
    fi
    for k in "${!scale_dumps[@]}"; do
        [ -f "${scale_dumps[k]}" ] || { echo "run-e2e: no such dump: ${scale_dumps[k]}" >&2; exit 2; }
        scale_dumps[k]=$(readlink -f "${scale_dumps[k]}")
    done
fi
[ -x /usr/bin/time ] || { echo "run-e2e: needs GNU time: apt-get install -y time" >&2; exit 2; }
if [ -n "$baseline_jar" ]; then
    [ -f "$baseline_jar" ] || { echo "run-e2e: no such baseline jar: $baseline_jar" >&2; exit 2; }
    baseline_jar=$(readlink -f "$baseline_jar")
fi

if [ -z "$work" ]; then
    work=$(mktemp -d "$(dirname "$dump")/qevm-e2e.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(readlink -f "$work")
stats=$work/stats.tsv
: > "$stats"

# One JDK for ./qevm and the baseline: the launcher takes JAVA_HOME when it is 25 or newer.
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
java=$JAVA_HOME/bin/java
[ -x "$java" ] || { echo "run-e2e: no $java: set JAVA_HOME to a JDK 25" >&2; exit 2; }
# The JVM flags of the launcher (../qevm) before its AOT cache (issue 13), for a baseline jar (and
# for the jar itself when there is no ./qevm): serial GC, C1 only, CDS (-Xshare:auto is the
# default, spelled out) with an archive of the application's classes made by the first run, JVM
# logging off.
# run_jar JAR ARCHIVE: the command line the launcher would exec for JAR, with its archive at ARCHIVE.
run_jar() {
    # shellcheck disable=SC2206 # QEVM_JAVA_OPTS is split into words, as the launcher does
    jar_cmd=("$java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:Tier3BackEdgeThreshold=2000 -Xshare:auto
        -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="$2" -Xlog:disable
        -Dqevm.stderr.tty=false ${QEVM_JAVA_OPTS:-} -jar "$1")
}

reference=$shared/reference/analyze-migration-fixed.py
jar=$(ls -t "$root"/cli/target/qevm-cli-*-all.jar 2>/dev/null | head -n 1 || true)
if [ -x "$root/qevm" ]; then
    qevm=("$root/qevm")
    qevm_name="./qevm"
else
    [ -n "$jar" ] || { echo "run-e2e: no ./qevm and no cli/target/qevm-cli-*-all.jar: build with mvn -DskipTests -pl cli -am package" >&2; exit 2; }
    run_jar "$jar" "${jar%.jar}.jsa"
    qevm=("${jar_cmd[@]}")
    qevm_name="java (the launcher's flags) -jar ${jar#$root/}"
fi
baseline=()
if [ -n "$baseline_jar" ]; then
    run_jar "$baseline_jar" "$work/baseline.jsa"
    baseline=("${jar_cmd[@]}")
fi

# time_one LABEL RUN PIPE CMD...: runs CMD in $work under /usr/bin/time, fed by a pipe when PIPE
# is not empty (`cat PIPE |` when PIPE is a file, else the shell command PIPE), and appends "label run secs rss_kb status role twin" to the stats, role and
# twin from the globals of the same names; leaves the exit status in $last_status.
time_one() {
    local label=$1 run=$2 pipe=$3
    shift 3
    local log=$work/time.log
    local status=0 t0 t1
    # wall time from the clock around the run (GNU time's own is to 10 ms only)
    t0=$(date +%s%N)
    if [ -z "$pipe" ]; then
        (cd "$work" && /usr/bin/time -v -o "$log" "$@" > /dev/null 2> "$work/stderr.log") || status=$?
    else
        # pipefail: the status is the reader's when it fails (cat then dies of SIGPIPE), else cat's
        local feed=(cat "$pipe")
        [ -f "$pipe" ] || feed=(bash -c "$pipe")
        (cd "$work" && "${feed[@]}" | /usr/bin/time -v -o "$log" "$@" > /dev/null 2> "$work/stderr.log") || status=$?
    fi
    t1=$(date +%s%N)
    local wall rss
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
    if [ "$status" != 0 ]; then
        echo "run-e2e: $label exited $status: $(head -c 300 "$work/stderr.log" | tr '\n' ' ')" >&2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$run" "$wall" "${rss:-0}" "$status" "$role" "$twin" >> "$stats"
    printf '  %-46s %8.2f s  %8d KB  exit %s\n' "$label" "$wall" "${rss:-0}" "$status" >&2
    last_status=$status
}

# A group of rows run interleaved: RUNS rounds, each row once per round, in the order the rows
# were added on odd rounds and in the reverse order on even ones, so that a qevm row and its
# baseline twin (added one after the other) take turns going first. A group of one row is RUNS
# runs in a row.
g_label=() g_pre=() g_cleanup=() g_pipe=() g_cmd=() g_role=() g_twin=()

# row LABEL PRE CLEANUP PIPE CMD...: adds a row to the group: PRE and CLEANUP are shell snippets
# run before and after each run, outside the timing.
row() {
    g_label+=("$1") g_pre+=("$2") g_cleanup+=("$3") g_pipe+=("$4") g_role+=("${role:--}") g_twin+=("${twin:--}")
    shift 4
    g_cmd+=("$(printf '%q ' "$@")")
}

# qevm_row TEMPLATE PRE CLEANUP PIPE ARGS...: a row running qevm with ARGS, labelled TEMPLATE with
# %s = qevm, and, with -b, its twin running the baseline jar, labelled with %s = baseline.
qevm_row() {
    local template=$1 pre=$2 cleanup=$3 pipe=$4
    shift 4
    local new base
    # shellcheck disable=SC2059 # the template is ours
    new=$(printf "$template" qevm)
    # shellcheck disable=SC2059
    base=$(printf "$template" baseline)
    if [ ${#baseline[@]} -eq 0 ]; then
        row "$new" "$pre" "$cleanup" "$pipe" "${qevm[@]}" "$@"
        return
    fi
    role=new twin=$base row "$new" "$pre" "$cleanup" "$pipe" "${qevm[@]}" "$@"
    role=base twin=$new row "$base" "$pre" "$cleanup" "$pipe" "${baseline[@]}" "$@"
}

# run_group: runs the rows added since the last run_group, then forgets them.
run_group() {
    local n=${#g_label[@]} i k j role twin
    local -A given_up=()
    for ((i = 1; i <= runs; i++)); do
        for ((k = 0; k < n; k++)); do
            j=$((i % 2 ? k : n - 1 - k))
            [ -z "${given_up[$j]:-}" ] || continue
            [ -z "${g_pre[j]}" ] || eval "${g_pre[j]}"
            role=${g_role[j]} twin=${g_twin[j]}
            eval "time_one \"\${g_label[j]}\" $i \"\${g_pipe[j]}\" ${g_cmd[j]}"
            [ -z "${g_cleanup[j]}" ] || eval "${g_cleanup[j]}"
            if [ "$i" = 1 ] && [ "$last_status" != 0 ] && [ "${g_role[j]}" = base ]; then
                echo "run-e2e: ${g_label[j]} failed its first run: not run again" >&2
                given_up[$j]=1
            fi
        done
    done
    g_label=() g_pre=() g_cleanup=() g_pipe=() g_cmd=() g_role=() g_twin=()
}

# bench LABEL CLEANUP CMD...: RUNS runs of CMD in a row, running CLEANUP after each.
bench() {
    local label=$1 cleanup=$2
    shift 2
    row "$label" "" "$cleanup" "" "$@"
    run_group
}

size=$(stat -c %s "$dump")
jar_id() { printf '%s (sha256 %.12s)' "${1#$root/}" "$(sha256sum "$1" | cut -d ' ' -f 1)"; }
qevm_desc="\`$qevm_name\`${jar:+, jar $(jar_id "$jar")}"
baseline_desc=${baseline_jar:+$(jar_id "$baseline_jar")}
echo "run-e2e: $dump ($size bytes), $runs runs each, qevm = $qevm_desc${baseline_desc:+, baseline = $baseline_desc}" >&2
echo "run-e2e: warming the page cache" >&2
cat "$dump" > /dev/null
cat "$dump" > /dev/null
# untimed: the first run of a jar may make its CDS archive, which takes longer
echo "run-e2e: one untimed run of qevm${baseline_jar:+ and the baseline} (-d state)" >&2
(cd "$work" && "${qevm[@]}" -f "$dump" -d state > /dev/null 2>&1) || echo "run-e2e: the untimed qevm -d state failed" >&2
if [ ${#baseline[@]} -gt 0 ]; then
    (cd "$work" && "${baseline[@]}" -f "$dump" -d state > /dev/null 2>&1) || echo "run-e2e: the untimed baseline -d state failed" >&2
fi

extract=$work/x
fresh_extract='rm -rf "$extract"; mkdir -p "$extract"'
if [ "$containers" != 0 ]; then
    tools=(zstd)
    [ "$skip_xz" = 1 ] || tools+=(xz)
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null || { echo "run-e2e: -c needs $tool (apt-get install -y zstd xz-utils)" >&2; exit 2; }
        ext=${tool/zstd/zst}
        if [ ! -f "$dump.$ext" ]; then
            echo "run-e2e: making $dump.$ext ($tool -1 -T0)" >&2
            "$tool" -1 -T0 -q -c "$dump" > "$dump.$ext.tmp" && mv "$dump.$ext.tmp" "$dump.$ext"
        fi
        cat "$dump.$ext" > /dev/null
    done
    echo "run-e2e: $dump.zst $(stat -c %s "$dump.zst") bytes" >&2
    bench "zstd -dc DUMP.zst > /dev/null" "" zstd -dc "$dump.zst"
    if [ "$skip_xz" = 0 ]; then
        echo "run-e2e: $dump.xz $(stat -c %s "$dump.xz") bytes" >&2
        bench "xz -dc DUMP.xz > /dev/null" "" xz -dc "$dump.xz"
        qevm_row "xz -dc DUMP.xz | %s -f - -d state" "" "" "$(printf 'xz -dc %q' "$dump.xz")" -f - -d state
        run_group
    fi
    qevm_row "%s -f DUMP.zst -d desc" "" "" "" -f "$dump.zst" -d desc
    run_group
    qevm_row "%s -f DUMP.zst -d state" "" "" "" -f "$dump.zst" -d state
    run_group
    if [ "$skip_xz" = 0 ]; then
        qevm_row "%s -f DUMP.xz -d state" "" "" "" -f "$dump.xz" -d state
        run_group
    fi
    mkdir -p "$extract"
    row "zstd -dc DUMP.zst > FILE, sync before" "sync" 'rm -f "$work/copy.mig"' "" zstd -q -f -d "$dump.zst" -o "$work/copy.mig"
    qevm_row "%s -f DUMP -x -o DIR, sync before" "sync" "$fresh_extract" "" -f "$dump" -x -o "$extract"
    qevm_row "%s -f DUMP.zst -x -o DIR, sync before" "sync" "$fresh_extract" "" -f "$dump.zst" -x -o "$extract"
    run_group
    rm -rf "$extract"
fi
if [ "$containers" = 2 ]; then
    skip_reference=1
fi
if [ "$containers" != 2 ]; then
bench "cat" "" cat "$dump"
bench "cp (+ rm)" 'rm -f "$work/copy.mig"' cp "$dump" "$work/copy.mig"
if [ "$skip_reference" = 0 ]; then
    bench "reference -d state" "" python3 "$reference" -f "$dump" -d state
    bench "reference -x" 'rm -rf "$extract"' bash -c 'mkdir -p "$1" && cd "$1" && exec python3 "$2" -f "$3" -x' _ "$extract" "$reference" "$dump"
fi
qevm_row "%s -d state" "" "" "" -f "$dump" -d state
run_group
qevm_row "%s -d desc" "" "" "" -f "$dump" -d desc
run_group
mkdir -p "$extract"
qevm_row "%s -x -o DIR" "" "$fresh_extract" "" -f "$dump" -x -o "$extract"
run_group
# writeback: without a sync, a run that writes GBs is timed against what the runs before it
# left dirty; with one, each starts clean (and what it leaves dirty is the next sync's)
row "cp (+ rm), sync before" "sync" 'rm -f "$work/copy.mig"' "" cp "$dump" "$work/copy.mig"
qevm_row "%s -x -o DIR, sync before" "sync" "$fresh_extract" "" -f "$dump" -x -o "$extract"
run_group
row "cat DUMP | cat" "" "" "$dump" cat
run_group
qevm_row "cat DUMP | %s -f - -d state" "" "" "$dump" -f - -d state
run_group
qevm_row "cat DUMP | %s -f - -x -o DIR" "" "$fresh_extract" "$dump" -f - -x -o "$extract"
run_group
rm -rf "$extract"
fi

# The table: medians, ratios to cat (or to cat | cat), cp, the reference's matching command, and
# the baseline (median of the paired ratios).
python3 - "$stats" "$size" "$dump" "$runs" "$qevm_desc" "$baseline_desc" <<'EOF'
import statistics, sys
stats, size, dump, runs, qevm, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
rows = {}
for line in open(stats):
    label, run, wall, rss, status, role, twin = line.rstrip("\n").split("\t")
    r = rows.setdefault(label, {"wall": {}, "ok": {}, "rss": [], "fail": 0, "role": role, "twin": twin})
    r["wall"][int(run)] = float(wall); r["ok"][int(run)] = status == "0"
    r["rss"].append(int(rss or 0)); r["fail"] += status != "0"
med = {k: statistics.median(v["wall"].values()) for k, v in rows.items()}

def ratio(label, other):
    return f"{med[label] / med[other]:.3f}" if other in med and med[other] > 0 else "-"

def cat_of(label):
    if "DUMP." in label:
        return None  # a compressed row: compared with its decompressor instead
    return "cat DUMP | cat" if label.startswith("cat DUMP |") else "cat"

def decompressor_of(label):
    if "DUMP.zst" in label and " -x " in label and not label.startswith("zstd "):
        return "zstd -dc DUMP.zst > FILE, sync before"  # -x writes the dump's bytes: so does this
    if "DUMP.zst" in label and not label.startswith("zstd "):
        return "zstd -dc DUMP.zst > /dev/null"
    if "DUMP.xz" in label and not label.startswith("xz -dc DUMP.xz >"):
        return "xz -dc DUMP.xz > /dev/null"
    return None

def cp_of(label):
    if " -x" not in label or label.startswith("reference") or "DUMP." in label:
        return None
    return "cp (+ rm), sync before" if label.endswith("sync before") else "cp (+ rm)"

def ref_of(label):
    for suffix, ref in ((" -d state", "reference -d state"), (" -x -o DIR", "reference -x")):
        if not label.startswith("cat ") and label.endswith(suffix) and label.split(" ")[0] in ("qevm", "baseline"):
            return ref
    return {"reference -d state": "reference -d state", "reference -x": "reference -x"}.get(label)

def vs_baseline(label, r):
    if r["role"] == "base":
        return "1.000" if any(r["ok"].values()) else "-"
    if r["role"] != "new" or r["twin"] not in rows:
        return "-"
    b = rows[r["twin"]]
    paired = [r["wall"][i] / b["wall"][i] for i in r["wall"]
              if i in b["wall"] and r["ok"][i] and b["ok"][i] and b["wall"][i] > 0]
    return f"{statistics.median(paired):.3f}" if paired else "-"

with_baseline = any(r["role"] != "-" for r in rows.values())
print(f"Dump: `{dump}` ({size:,} bytes = {size / 2**30:.2f} GiB); {runs} runs each, page cache warm; "
      f"qevm = {qevm}" + (f"; baseline = `{baseline}`, the launcher's JVM flags" if baseline else "") + ".\n")
head = ["command", "median s", "min s", "max s", "GB/s", "x cat", "x cp", "x reference"]
head += ["x baseline"] if with_baseline else []
with_decompressor = any(decompressor_of(label) in med for label in rows if decompressor_of(label))
head += ["x decompressor"] if with_decompressor else []
head += ["peak RSS MiB", "failed runs"]
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
for label, r in rows.items():
    m = med[label]
    walls = r["wall"].values()
    cells = [f"`{label}`".replace("|", "\\|"), f"{m:.3f}", f"{min(walls):.3f}", f"{max(walls):.3f}",
             f"{size / m / 1e9:.2f}" if m > 0 else "-", ratio(label, cat_of(label)),
             ratio(label, cp_of(label)) if cp_of(label) else "-", ratio(label, ref_of(label)) if ref_of(label) else "-"]
    cells += [vs_baseline(label, r)] if with_baseline else []
    cells += [ratio(label, decompressor_of(label)) if decompressor_of(label) else "-"] if with_decompressor else []
    cells += [f"{statistics.median(r['rss']) / 1024:.0f}", f"{r['fail']}/{len(r['wall'])}"]
    print("| " + " | ".join(cells) + " |")
print("\n`x cat`, `x cp` and `x reference` are ratios of medians (time / time of `cat`, or of `cat DUMP | cat` "
      "for a pipe; of `cp` for -x, of `cp` with sync for -x with sync; of the reference's same command): below 1 "
      "is faster. A failed run (non-zero exit, e.g. 'not implemented yet') is still timed. Peak RSS is the "
      "command's own; in a pipe, the reading side's (qevm, or the second cat).")
if with_baseline:
    print("`x baseline` is the median over runs of qevm's time / the baseline's time in the same round (the two ran "
          "one right after the other, the order alternating), runs where either failed left out.")
EOF

# The scaling case (-L, -l): after the main table, so that a failure here leaves that one printed.
if [ "$scale" = 0 ]; then
    exit 0
fi
# its own stats file: the same commands on several dumps, told apart by a "K:NAME: " label prefix
stats=$work/scaling.tsv
: > "$stats"
echo "run-e2e: scaling case on ${scale_dumps[*]}: warming the page cache" >&2
for d in "${scale_dumps[@]}"; do
    cat "$d" > /dev/null
    cat "$d" > /dev/null
done
mkdir -p "$extract"
# one group for all the dumps: a round measures every size, so that what the machine does meanwhile
# (the other core's load, writeback) weighs on the sizes alike and not on the spread between them
for k in "${!scale_dumps[@]}"; do
    d=${scale_dumps[k]}
    tag="$k:$(basename "$d"):"
    row "$tag cat" "" "" "" cat "$d"
    # the tag goes into a printf template: a % in a file name is doubled
    qevm_row "${tag//%/%%} %s -d state" "" "" "" -f "$d" -d state
    # start-up and the description alone: what a run costs whatever the dump's size
    qevm_row "${tag//%/%%} %s -d desc" "" "" "" -f "$d" -d desc
    row "$tag cp (+ rm), sync before" "sync" 'rm -f "$work/copy.mig"' "" cp "$d" "$work/copy.mig"
    qevm_row "${tag//%/%%} %s -x -o DIR, sync before" "sync" "$fresh_extract" "" -f "$d" -x -o "$extract"
done
run_group
rm -rf "$extract"

# The scaling table: per command and dump the median s, s/GB (GB = 1e9 bytes of dump) and peak RSS;
# per command the spread of s/GB and of RSS across the dumps, (max - min) / min, against the issue's
# 10%, and a least-squares line through (GB, s), which separates the fixed cost (JVM start) from the
# cost per GB.
python3 - "$stats" "$runs" "$qevm_desc" "$baseline_desc" "${scale_dumps[@]}" <<'EOF'
import os, re, statistics, struct, sys
stats, runs, qevm, baseline, dumps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
TARGET = 10.0  # %, issue 13: "time per GB within 10% and flat RSS"

def guest_ram(path):
    # the largest RAM block in the ram section's MEM_SIZE list (pc.ram on pc), from the stream's
    # first bytes: section start 0x01, id, "ram", instance, version, then be64 total | 0x04 and per
    # block a length-prefixed name and its be64 size; None where it is not that shape
    head = open(path, "rb").read(1 << 16)
    m = re.search(rb"\x01.{4}\x03ram.{8}", head, re.S)
    if not m or head[:4] != b"QEVM":
        return None
    pos = m.end()
    (word,) = struct.unpack_from(">Q", head, pos)
    if not word & 0x04:
        return None
    total, pos, seen, largest = word & ~0xFFF, pos + 8, 0, 0
    while seen < total and pos < len(head) - 9:
        n = head[pos]
        (length,) = struct.unpack_from(">Q", head, pos + 1 + n)
        if length == 0 or seen + length > total:
            return None  # extra per-block fields (postcopy page size, ignore-shared address)
        seen, largest, pos = seen + length, max(largest, length), pos + 1 + n + 8
    return largest if seen == total else None

sizes, names = {}, {}
for k, d in enumerate(dumps):
    sizes[k], names[k] = os.path.getsize(d), os.path.basename(d)
cells = {}  # (command, k) -> {"wall": [], "rss": [], "fail": 0}
commands = []
for line in open(stats):
    label, run, wall, rss, status, role, twin = line.rstrip("\n").split("\t")
    k, rest = label.split(":", 1)
    command = rest.rsplit(": ", 1)[1]
    if command not in commands:
        commands.append(command)
    c = cells.setdefault((command, int(k)), {"wall": [], "rss": [], "fail": 0})
    c["wall"].append(float(wall)); c["rss"].append(int(rss or 0)); c["fail"] += status != "0"

def spread(values):
    values = [v for v in values if v is not None]
    return (max(values) - min(values)) / min(values) * 100 if len(values) > 1 and min(values) > 0 else None

def flat_rss(values):
    # flat: within the 10%, or within 8 MiB (a few hundred KB on cat's 2 MiB are not growth)
    values = [v for v in values if v is not None]
    return max(values) - min(values) <= max(min(values) * TARGET / 100, 8)

def gib(n):
    return "?" if n is None else f"{n / 2**30:.3f}".rstrip("0").rstrip(".")

def pct(v):
    return "-" if v is None else f"{v:.1f}%"

ks = sorted(sizes)
print(f"\nScaling: {len(ks)} dumps, {runs} runs of each command on each, all in one interleaved group; "
      f"page cache warm; qevm = {qevm}" + (f"; baseline = `{baseline}`" if baseline else "") + ".\n")
print("| command | measure | " + " | ".join(f"`{names[k]}`" for k in ks) + " | spread | 10% target |")
print("|---|---|" + "---:|" * len(ks) + "---:|---|")
print("| dump | bytes | " + " | ".join(f"{sizes[k]:,}" for k in ks) + " | | |")
ram = {k: guest_ram(dumps[k]) for k in ks}
print("| dump | guest RAM GiB | " + " | ".join(gib(ram[k]) for k in ks) + " | | |")
fits = []
for command in commands:
    label = f"`{command}`".replace("|", "\\|")
    med = {k: statistics.median(cells[command, k]["wall"]) if (command, k) in cells else None for k in ks}
    per_gb = {k: None if med[k] is None else med[k] / (sizes[k] / 1e9) for k in ks}
    rss = {k: statistics.median(cells[command, k]["rss"]) / 1024 if (command, k) in cells else None for k in ks}
    t, r = spread(per_gb.values()), spread(rss.values())
    print(f"| {label} | median s | " + " | ".join("-" if med[k] is None else f"{med[k]:.3f}" for k in ks) + " | | |")
    print(f"| {label} | s/GB | " + " | ".join("-" if per_gb[k] is None else f"{per_gb[k]:.4f}" for k in ks)
          + f" | {pct(t)} | " + ("-" if t is None else "met" if t <= TARGET else f"missed by {t - TARGET:.1f} points") + " |")
    print(f"| {label} | peak RSS MiB | " + " | ".join("-" if rss[k] is None else f"{rss[k]:.0f}" for k in ks)
          + f" | {pct(r)} | " + ("-" if r is None else "flat" if flat_rss(rss.values()) else "grows") + " |")
    # qevm's own fixed cost (JVM start, the description) taken off: the cost of the bytes alone
    desc = f"{command.split(' ')[0]} -d desc"
    if command.split(" ")[0] in ("qevm", "baseline") and command != desc and all((desc, k) in cells for k in ks):
        net = {k: None if med[k] is None else (med[k] - statistics.median(cells[desc, k]["wall"])) / (sizes[k] / 1e9)
               for k in ks}
        n = spread(net.values())
        print(f"| {label} | s/GB after `{desc}` | " + " | ".join("-" if net[k] is None else f"{net[k]:.4f}" for k in ks)
              + f" | {pct(n)} | " + ("-" if n is None else "met" if n <= TARGET else f"missed by {n - TARGET:.1f} points") + " |")
    fails = [cells[command, k]["fail"] for k in ks if (command, k) in cells]
    if any(fails):
        print(f"| {label} | failed runs | " + " | ".join(str(cells[command, k]["fail"]) if (command, k) in cells else "-" for k in ks) + " | | |")
    points = [(sizes[k] / 1e9, med[k]) for k in ks if med[k] is not None]
    if len(points) > 1:
        mx, my = statistics.fmean(x for x, _ in points), statistics.fmean(y for _, y in points)
        sxx = sum((x - mx) ** 2 for x, _ in points)
        slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx > 0 else 0.0
        fits.append(f"`{command}` {my - slope * mx:.3f} s + {slope:.4f} s/GB")
print("\nGB is 1e9 bytes of dump; s/GB = median s / GB. `spread` is (max - min) / min across the dumps; the "
      "target (issue 13) is s/GB within 10% and flat RSS (here: RSS within 10% or 8 MiB). A constant cost such as "
      "JVM start weighs more on a small dump, so s/GB falls with size even when the work per GB is constant; "
      "the least-squares line s = fixed + per GB x GB through the medians separates the two, and for qevm's "
      "commands `s/GB after -d desc` takes the median of `-d desc` on the same dump (JVM start and the description: "
      "the run's fixed cost) off first:")
print("; ".join(fits) + "." if fits else "(one dump: no line).")
EOF
