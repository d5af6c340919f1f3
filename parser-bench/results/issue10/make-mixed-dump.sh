#!/bin/bash
# compressible guest data: base64 of random bytes (6 bits of entropy a byte, as text-like memory compresses)
set -e
for i in 0 1 2; do
  [ -f mixed$i.bin ] || head -c 805306368 /dev/urandom | base64 -w 0 | head -c 1073741824 > mixed$i.bin
done
OUTDIR=/work/big/mixed INDIR=/work/big/mixed /work/shared/tools/dumps/make-dump.sh raw -t 3600 -c "migrate_set_parameter max-bandwidth 64G" -o /work/big/l-mixed-4G.mig -- -M pc -m 4G -nodefaults -S \
  -device loader,file=/work/big/mixed/mixed0.bin,addr=0x10000000,force-raw=on \
  -device loader,file=/work/big/mixed/mixed1.bin,addr=0x50000000,force-raw=on \
  -device loader,file=/work/big/mixed/mixed2.bin,addr=0x100000000,force-raw=on
zstd -3 -T2 -q -f /work/big/l-mixed-4G.mig -o /work/big/l-mixed-4G.mig.zst
xz -1 -T2 -k -c /work/big/l-mixed-4G.mig > /work/big/l-mixed-4G.mig.xz.tmp && mv /work/big/l-mixed-4G.mig.xz.tmp /work/big/l-mixed-4G.mig.xz
ls -la /work/big
