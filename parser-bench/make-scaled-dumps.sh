#!/usr/bin/env bash
# make-scaled-dumps.sh: the dumps of issue 13's scaling case, l-large-1G.mig and l-large-2G.mig
# beside l-large-4G.mig in $QEVM_BIG (default /work/big): guests of 1 GiB and 2 GiB made the way
# make-dump.sh's recipe l-large-4G makes its 4 GiB one, so that qevm's time per GB can be compared
# across the three (parser-bench/run-e2e.sh -L).
#
# Usage: parser-bench/make-scaled-dumps.sh [SIZE...]     SIZE: 1G, 2G or 4G (default: all three)
#
# Each guest is the recipe's machine (`-M pc -nodefaults -S`, migrated with max-bandwidth 64G by
# ../shared/tools/dumps/make-dump.sh raw, QEMU 7.2 from Debian: qemu-system-x86) with the same
# share of random data as l-large-4G (3 GiB of urandom in 4 GiB: 75%), loaded with
# `-device loader,force-raw=on` at the recipe's addresses, so each guest's random data is the first
# 75% of the 4 GiB guest's, in the same place:
#   1G: the first 768 MiB of large0.bin at 0x10000000                     (guest 0x10000000..0x40000000)
#   2G: large0.bin at 0x10000000, the first 512 MiB of large1.bin at 0x50000000  (..0x70000000)
#   4G: make-dump.sh recipe l-large-4G itself (large0, large1 at 0x10000000, 0x50000000, large2
#       at 0x100000000, above 4 GiB)
# On pc, a guest of less than 3.5 GiB has all its RAM at 0..RAM; the first 256 MiB stay zero, clear
# of the first MiB (BIOS and option ROM windows). The inputs are in $QEVM_BIG/inputs:
# large{0,1,2}.bin (1 GiB of /dev/urandom each, made as make-dump.sh makes them when missing) and
# the prefixes large0-768M.bin and large1-512M.bin (a loader takes a whole file), kept so that a
# dump can be made again from the same bytes; the 4 GiB dump's data are 3 GiB of the same files.
#
# A dump that exists is skipped; a new one is written under a temporary name, checked with
# `qevm -f DUMP -d desc` and `-d state` (both must exit 0; QEVM=path/to/qevm, default the ./qevm
# of this repository) and only then renamed, with its make-dump.sh log beside it (DUMP.log).
# The sizes are made one after the other; here (QEMU 7.2, 2 cores) the 1G and 2G dumps took 2 s and
# 13 s of QEMU, the whole script 21 s with the inputs in the page cache.
set -euo pipefail

here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
shared=${QEVM_SHARED:-$(cd -P -- "$root/../shared" 2>/dev/null && pwd || echo /work/shared)}
make_dump=$shared/tools/dumps/make-dump.sh
big=${QEVM_BIG:-/work/big}
inputs=$big/inputs
qevm=${QEVM:-$root/qevm}

[ $# -gt 0 ] || set -- 1G 2G 4G
for size in "$@"; do
    case $size in
        1G | 2G | 4G) ;;
        *) echo "make-scaled-dumps: SIZE is 1G, 2G or 4G, not $size" >&2; exit 2 ;;
    esac
done
[ -x "$make_dump" ] || { echo "make-scaled-dumps: no $make_dump (QEVM_SHARED=the shared folder)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || {
    echo "make-scaled-dumps: needs QEMU: apt-get update && apt-get install -y qemu-system-x86" >&2
    exit 2
}
mkdir -p "$inputs"

# input NAME: $inputs/NAME made when missing: largeI.bin as make-dump.sh makes it (1 GiB of
# urandom), largeI-NM.bin as the first N MiB of largeI.bin; through a temporary name, so that an
# interrupted run leaves no short file that a later one would take for whole.
input() {
    local name=$1 file=$inputs/$1
    [ -f "$file" ] && return 0
    case $name in
        large[0-2].bin) head -c 1G /dev/urandom > "$file.tmp" ;;
        large[0-2]-*M.bin)
            local whole=${name%%-*}.bin mib=${name#*-}
            mib=${mib%M.bin}
            input "$whole"
            head -c "${mib}M" "$inputs/$whole" > "$file.tmp" ;;
    esac
    mv "$file.tmp" "$file"
}

# make_dump_of SIZE LOADER_ARGS...: the dump of a SIZE guest with those -device loader arguments, through
# make-dump.sh raw, checked by qevm before it takes its name.
make_dump_of() {
    local size=$1
    shift
    local out=$big/l-large-$size.mig
    # the temporary name ends in .mig too, in case a reader goes by the name; global, because the
    # EXIT trap that deletes it may run after this function's locals are gone
    tmp=$big/l-large-$size.tmp.mig
    rm -f "$tmp" "$tmp.log" "$tmp.log.qemu-stdout"
    trap 'rm -f "$tmp" "$tmp.log" "$tmp.log.qemu-stdout"' EXIT
    echo "make-scaled-dumps: making $out (QEMU, seconds to a minute)" >&2
    local t0=$SECONDS
    "$make_dump" raw -t 3600 -c "migrate_set_parameter max-bandwidth 64G" -o "$tmp" -- \
        -M pc -m "$size" -nodefaults -S "$@" >&2
    echo "make-scaled-dumps: $tmp in $((SECONDS - t0)) s; checking it with $qevm -d desc and -d state" >&2
    "$qevm" -f "$tmp" -d desc > /dev/null
    "$qevm" -f "$tmp" -d state > /dev/null
    # the log names the temporary file in its migrate command: say where it went
    echo "# renamed to $out after qevm -d desc and -d state (parser-bench/make-scaled-dumps.sh)" >> "$tmp.log"
    mv "$tmp.log" "$out.log"
    mv "$tmp" "$out"
    trap - EXIT
    echo "make-scaled-dumps: $out $(stat -c %s "$out") bytes" >&2
}

for size in "$@"; do
    out=$big/l-large-$size.mig
    if [ -f "$out" ]; then
        echo "make-scaled-dumps: $out exists ($(stat -c %s "$out") bytes): skipped" >&2
        continue
    fi
    case $size in
        1G)
            input large0-768M.bin
            make_dump_of 1G -device loader,file="$inputs/large0-768M.bin",addr=0x10000000,force-raw=on ;;
        2G)
            input large0.bin
            input large1-512M.bin
            make_dump_of 2G -device loader,file="$inputs/large0.bin",addr=0x10000000,force-raw=on \
                -device loader,file="$inputs/large1-512M.bin",addr=0x50000000,force-raw=on ;;
        4G)
            # the recipe itself: its own inputs, its own name; no check or rename of ours
            echo "make-scaled-dumps: making $out (make-dump.sh recipe l-large-4G)" >&2
            OUTDIR=$big INDIR=$inputs "$make_dump" recipe l-large-4G >&2 ;;
    esac
done
