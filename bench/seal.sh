#!/usr/bin/env bash
# Sealing speed (issue "Sealed bids"): `tenderhall seal` of one large file against, in the same run,
# the single-core SHA-256 rate of the same file (`openssl dgst -sha256`, the envelope's bound on
# these machines) and `age -r` (for context), with each one's peak memory.
#
#   bench/seal.sh                 # 1 GiB
#   BENCH_SIZE_MIB=256 bench/seal.sh  # another size; BENCH_ROUNDS=5 for more rounds (median)
#   BENCH_DIR=/tmp bench/seal.sh      # files on disk instead of in memory (/dev/shm)
#
# Needs: openssl, GNU time (/usr/bin/time), python3 with `cryptography` (to make an opening key);
# `age` is measured when installed (Debian package `age`).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${BENCH_SIZE_MIB:-1024}
cargo build --release -q -p tenderhall-api --bin tenderhall
bin=$PWD/target/release/tenderhall
# The files live in memory by default (/dev/shm), like the page-cached file `openssl` reads: the
# figures are then the CPUs' alone. On disk (BENCH_DIR=/tmp) the seal also waits for the disk to
# take the envelope it syncs, which the other two tools do not do.
default_dir=/dev/shm
[ -d "$default_dir" ] && [ -w "$default_dir" ] || default_dir=${TMPDIR:-/tmp}
bench_dir=${BENCH_DIR:-$default_dir}
dir=$(mktemp -d -p "$bench_dir")
trap 'rm -rf "$dir"' EXIT

head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$dir/input.bin"
python3 - "$dir" <<'PY'
import base64, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
key = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
open(sys.argv[1] + "/opening.pub", "w").write(base64.b64encode(key).decode())
PY
"$bin" keygen --out "$dir/sign.pk8" > /dev/null
echo '{"lot":"1","currency":"CNY","total_price":"1.00"}' > "$dir/price.json"
sync

# Runs "$@" under GNU time; prints "seconds max_rss_kib". Whatever the previous command left to
# write back goes to disk first (`tenderhall seal` syncs its envelope before renaming it into place;
# it would otherwise wait for the other tools' output as well as its own).
measure() {
    sync
    /usr/bin/time -f '%e %M' -o "$dir/time" "$@" > /dev/null
    cat "$dir/time"
}
rate() { awk -v mib="$size_mib" -v s="$1" 'BEGIN { printf "%.0f", mib * 1048576 / s / 1e6 }'; }

cat "$dir/input.bin" > /dev/null # warm the page cache for everyone alike
seal() {
    rm -f "$dir/bid.thb"
    measure "$bin" seal --tender tnd_bench --lot 1 --bidder org_bench \
        --opening-key "$(cat "$dir/opening.pub")" --signing-key "$dir/sign.pk8" \
        --price "$dir/price.json" --out "$dir/bid.thb" "$dir/input.bin"
}
have_age=false
if command -v age > /dev/null && command -v age-keygen > /dev/null; then
    have_age=true
    age-keygen -o "$dir/age.key" 2> /dev/null
    recipient=$(age-keygen -y "$dir/age.key")
fi
# Rounds alternate the tools, so that whatever else the machine does falls on all of them alike;
# each tool's median round is reported.
rounds=${BENCH_ROUNDS:-3}
: > "$dir/sha" ; : > "$dir/seal" ; : > "$dir/age"
for round in $(seq 1 "$rounds"); do
    measure openssl dgst -sha256 "$dir/input.bin" >> "$dir/sha"
    seal >> "$dir/seal"
    if $have_age; then
        rm -f "$dir/out.age"
        measure sh -c "age -r $recipient -o '$dir/out.age' '$dir/input.bin'" >> "$dir/age"
    fi
    echo "round $round: sha256 $(tail -1 "$dir/sha" | cut -d' ' -f1) s, seal $(tail -1 "$dir/seal" | cut -d' ' -f1) s" >&2
done
median() { sort -n "$1" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
read -r sha_s sha_kib < <(median "$dir/sha")
read -r seal_s seal_kib < <(median "$dir/seal")
echo "file: ${size_mib} MiB in ${bench_dir}, median of ${rounds} rounds"
echo "openssl dgst -sha256 (one core): ${sha_s} s, $(rate "$sha_s") MB/s, peak $((sha_kib / 1024)) MiB"
echo "tenderhall seal:                 ${seal_s} s, $(rate "$seal_s") MB/s, peak $((seal_kib / 1024)) MiB"
awk -v a="$sha_s" -v b="$seal_s" 'BEGIN { printf "seal / SHA-256 rate: %.0f %% (goal >= 90 %%)\n", a / b * 100 }'
if $have_age; then
    read -r age_s age_kib < <(median "$dir/age")
    echo "age -r:                          ${age_s} s, $(rate "$age_s") MB/s, peak $((age_kib / 1024)) MiB"
else
    echo "age: not installed (apt-get install age), not measured"
fi
