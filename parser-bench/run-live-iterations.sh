#!/usr/bin/env bash
# run-live-iterations.sh: memory of a live capture over many iterations (issue 11): a running
# 4 GiB guest (the l-large-4G recipe's three 1 GiB loader inputs, booted from dirty.asm, which
# keeps dirtying 528 pages) migrated live with XBZRLE and the return path into
# `qevm --incoming tcp:127.0.0.1:PORT -x -o DIR --debug`: the first pass at full speed, then from
# 5 s on under a bandwidth (1 MB/s) and downtime limit (1 ms) it cannot converge under, until
# SECONDS have passed; then the limits are lifted and it completes.
# Prints QEMU's `info migrate`, qevm's per-pass summary (--debug) and its peak RSS (GNU time).
#
# Usage: parser-bench/run-live-iterations.sh [-s SECONDS] [-i INPUTS] [-w WORKDIR]
#   -s SECONDS  when the migration is let converge (default 30)
#   -i DIR      large0.bin, large1.bin, large2.bin as for run-live.sh (default $QEVM_BIG/inputs)
#   -w DIR      scratch directory (default: a temp dir beside INPUTS, removed at the end)
set -euo pipefail

here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -P -- "$here/.." && pwd)
hmp=$here/scripts/hmp.py
seconds=30
inputs=
work=
while getopts "s:i:w:h" opt; do
    case $opt in
        s) seconds=$OPTARG ;;
        i) inputs=$OPTARG ;;
        w) work=$OPTARG ;;
        *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
die() {
    echo "run-live-iterations: $*" >&2
    exit 2
}
inputs=$(readlink -f "${inputs:-${QEVM_BIG:-/work/big}/inputs}")
for i in 0 1 2; do
    [ -f "$inputs/large$i.bin" ] || die "no $inputs/large$i.bin (head -c 1G /dev/urandom > $inputs/large$i.bin)"
done
command -v qemu-system-x86_64 >/dev/null || die "needs QEMU: apt-get install -y qemu-system-x86"
[ -x /usr/bin/time ] || die "needs GNU time: apt-get install -y time"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
ls "$root"/cli/target/qevm-cli-*-all.jar >/dev/null 2>&1 \
    || die "no cli/target/qevm-cli-*-all.jar: build with mvn -B -DskipTests -pl cli -am package"
dirty_bin=$root/cli/src/test/resources/io/qevm/cli/live/dirty.bin
[ -f "$dirty_bin" ] || dirty_bin=$(find "$root/cli/src/test" -name dirty.bin | head -n 1)
[ -f "$dirty_bin" ] || die "no dirty.bin under cli/src/test"

own_work=0
if [ -z "$work" ]; then
    work=$(mktemp -d "$(dirname "$inputs")/qevm-live-it.XXXXXX")
    own_work=1
fi
mkdir -p "$work/x"
qemu_pid='' dest_pid=''
cleanup() {
    for pid in $dest_pid $qemu_pid; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    sleep 1
    for pid in $dest_pid $qemu_pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    [ "$own_work" = 0 ] || rm -rf "$work"
}
trap cleanup EXIT

head -c 1M /dev/zero > "$work/dirty.img"
dd if="$dirty_bin" of="$work/dirty.img" conv=notrunc status=none
sock=$work/qemu.sock
port=$(python3 "$hmp" --free-port)
qemu_args=(-M pc -m 4G -nodefaults -drive "file=$work/dirty.img,format=raw,if=ide,index=0"
    -device "loader,file=$inputs/large0.bin,addr=0x10000000,force-raw=on"
    -device "loader,file=$inputs/large1.bin,addr=0x50000000,force-raw=on"
    -device "loader,file=$inputs/large2.bin,addr=0x100000000,force-raw=on")
setup=("migrate_set_capability xbzrle on" "migrate_set_capability return-path on"
    "migrate_set_parameter xbzrle-cache-size 256M" "migrate_set_parameter max-bandwidth 64G"
    "migrate_set_parameter downtime-limit 1")
throttle="migrate_set_parameter max-bandwidth 1M"
converge=("migrate_set_parameter downtime-limit 10000" "migrate_set_parameter max-bandwidth 64G")

setsid qemu-system-x86_64 -accel tcg -display none -monitor "unix:$sock,server=on,wait=off" "${qemu_args[@]}" \
    > "$work/qemu.log" 2>&1 < /dev/null &
qemu_pid=$!
python3 "$hmp" "$sock" "${setup[@]}" > /dev/null
sleep 3 # SeaBIOS boots dirty.bin
setsid /usr/bin/time -v -o "$work/qevm.time" "$root/qevm" --incoming "tcp:127.0.0.1:$port" -x -o "$work/x" --debug \
    > /dev/null 2> "$work/qevm.err" &
dest_pid=$!
for _ in $(seq 300); do
    grep -q ":$(printf '%04X' "$port") 00000000:0000 0A" /proc/net/tcp 2>/dev/null && break
    sleep 0.1
done
read -r start end status total < <(python3 "$hmp" "$sock" --migrate "tcp:127.0.0.1:$port" --timeout 900 \
    --info "$work/info" --after 5 "$throttle" --after "$seconds" "${converge[0]}" --after "$seconds" "${converge[1]}")
wait "$dest_pid" && qevm_status=0 || qevm_status=$?
dest_pid=''
python3 "$hmp" "$sock" quit > /dev/null || true
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=''

echo "$(qemu-system-x86_64 --version | head -n 1), TCG, $(nproc) CPUs"
echo "source: qemu-system-x86_64 -accel tcg -display none -monitor unix:SOCK,server=on,wait=off ${qemu_args[*]}"
echo "        (qemu) ${setup[*]}"
echo "        (qemu) migrate -d tcp:127.0.0.1:PORT; after 5 s: $throttle; after $seconds s: ${converge[*]}"
echo "destination: ./qevm --incoming tcp:127.0.0.1:PORT -x -o DIR --debug (exit $qevm_status)"
echo "migration: $status, $(( (end - start) / 1000000 )) ms"
grep -E "^(dirty sync count|xbzrle pages|transferred ram|total time|skipped|duplicate|normal):" "$work/info" || true
echo "qevm --debug:"
sed 's/^/    /' "$work/qevm.err"
echo "qevm peak RSS: $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/qevm.time") KB"
[ "$status" = completed ] && [ "$qevm_status" = 0 ]
