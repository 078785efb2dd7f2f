#!/usr/bin/env bash
# Document store benchmark (issue "Background work"): upload and download of one large document
# through the API, to the local folder and to an S3 server, side by side in one run with
#   - the direct path: `cp` (+ fsync) for the local folder, `aws s3 cp` to the same S3 server;
#   - the single-core SHA-256 rate of the same file (`openssl dgst -sha256`): uploads are hashed
#     and downloads are checked, so neither can beat it.
# It also samples the server's resident memory every 50 ms and reports the peak above idle.
#
# Usage: bench/documents.sh [SIZE_MIB]     (default 1024; needs curl, openssl, python3;
#        the S3 half needs a Python with moto[server] in $TENDERHALL_TEST_PYTHON and the aws CLI,
#        and is skipped, saying so, without them)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tenderhall-bench.XXXXXX")"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet --bin tenderhall
BIN="$PWD/target/release/tenderhall"

now() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{$1/1048576/($3-$2):.0f}')"; }   # bytes start end -> MiB/s
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

FILE="$WORK/document.bin"
head -c "$((SIZE_MIB * 1048576))" /dev/urandom > "$FILE"
BYTES=$(stat -c %s "$FILE")
echo "file: $SIZE_MIB MiB of random bytes; $(nproc) cores"

# Anchors.
t0=$(now); openssl dgst -sha256 "$FILE" > /dev/null; t1=$(now)
SHA_RATE=$(rate "$BYTES" "$t0" "$t1")
t0=$(now); cp "$FILE" "$WORK/copy.bin"; sync "$WORK/copy.bin"; t1=$(now)
CP_RATE=$(rate "$BYTES" "$t0" "$t1")
# The direct path of a download: the stored file copied to a new file on the same disk, as curl
# writes the API's answer there.
t0=$(now); cp "$WORK/copy.bin" "$WORK/copy2.bin"; t1=$(now)
READ_RATE=$(rate "$BYTES" "$t0" "$t1")
rm -f "$WORK/copy.bin" "$WORK/copy2.bin"
echo "anchors: openssl dgst -sha256 ${SHA_RATE} MiB/s; cp+fsync ${CP_RATE} MiB/s; cp (no fsync) ${READ_RATE} MiB/s"

# Peak resident memory of a process while a command runs, in KiB.
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
PEAK_FILE="$WORK/peak"
watch_rss() {
    local pid=$1 peak=0 r
    while kill -0 "$pid" 2>/dev/null; do
        r=$(rss "$pid" 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" > "$PEAK_FILE"
        sleep 0.05
    done
}

# Starts a sandbox server with the given environment; sets SERVER_PID and BASE.
start_server() {
    local data="$WORK/data-$1"; shift
    local port; port=$(free_port)
    env TENDERHALL_DATA_DIR="$data" TENDERHALL_LISTEN="127.0.0.1:$port" TENDERHALL_SANDBOX=1 \
        TENDERHALL_LOG_FORMAT=json RUST_LOG=warn "$@" "$BIN" serve > "$WORK/server-$port.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    BASE="http://127.0.0.1:$port"
    for _ in $(seq 1 200); do curl -sf "$BASE/healthz" > /dev/null && return 0; sleep 0.1; done
    echo "the server did not start:"; cat "$WORK/server-$port.log"; exit 1
}

# Creates a tenderer and a published tender; sets TOKEN and TENDER.
prepare_tender() {
    curl -sf -X POST "$BASE/api/v1/accounts" -H 'content-type: application/json' -d '{
        "email": "bench@tenderer.test", "password": "correct-horse-42", "name": "Bench",
        "organization": {"name": "基准测试单位", "kind": "tenderer", "credit_code": "91110000100000000R"}}' > /dev/null
    TOKEN=$(curl -sf -X POST "$BASE/api/v1/sessions" -H 'content-type: application/json' \
        -d '{"email": "bench@tenderer.test", "password": "correct-horse-42"}' | json "['token']")
    local deadline; deadline=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(days=30)).isoformat())')
    TENDER=$(curl -sf -X POST "$BASE/api/v1/tenders" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{
        \"title\": \"基准\", \"kind\": \"goods\", \"procedure\": \"open_tender\", \"award_method\": \"lowest_evaluated_price\",
        \"lots\": [{\"id\": \"1\", \"title\": \"包一\", \"budget\": \"100000\", \"deposit\": \"2000\"}],
        \"bid_deadline\": \"$deadline\"}" | json "['id']")
    curl -sf -X POST "$BASE/api/v1/tenders/$TENDER/publish" -H "authorization: Bearer $TOKEN" > /dev/null
}

# Upload then download through the API; prints rates and the memory peaks above idle.
through_api() {
    local label=$1
    prepare_tender
    sleep 0.5
    local idle; idle=$(rss "$SERVER_PID")
    local t0 t1 doc watcher
    echo 0 > "$PEAK_FILE"
    watch_rss "$SERVER_PID" & watcher=$!
    t0=$(now)
    doc=$(curl -sf -X POST "$BASE/api/v1/tenders/$TENDER/documents" -H "authorization: Bearer $TOKEN" \
        -F "file=@$FILE;type=application/octet-stream" | json "['document_id']")
    t1=$(now)
    kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
    UP=$(rate "$BYTES" "$t0" "$t1")
    UP_PEAK=$(( ($(cat "$PEAK_FILE") - idle) / 1024 ))
    echo 0 > "$PEAK_FILE"
    watch_rss "$SERVER_PID" & watcher=$!
    t0=$(now)
    curl -sf "$BASE/api/v1/tenders/$TENDER/documents/$doc" -H "authorization: Bearer $TOKEN" -o "$WORK/down.bin"
    t1=$(now)
    kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true
    DOWN=$(rate "$BYTES" "$t0" "$t1")
    DOWN_PEAK=$(( ($(cat "$PEAK_FILE") - idle) / 1024 ))
    cmp -s "$FILE" "$WORK/down.bin" || { echo "$label: the download differs from the upload"; exit 1; }
    rm -f "$WORK/down.bin"
    PEAK_MIB=$(( UP_PEAK > DOWN_PEAK ? UP_PEAK : DOWN_PEAK ))
    echo "$label: upload ${UP} MiB/s (memory +${UP_PEAK} MiB), download ${DOWN} MiB/s (memory +${DOWN_PEAK} MiB); idle $((idle / 1024)) MiB"
}

ratio() { python3 -c "print(f'{$1/$2*100:.0f} %')"; }
lower() { python3 -c "print(min($1, $2))"; }

echo
if [ -z "${BENCH_S3_ONLY:-}" ]; then
start_server local
through_api "local folder"
LOCAL_ANCHOR=$(lower "$CP_RATE" "$SHA_RATE")
echo "  upload   = $(ratio "$UP" "$LOCAL_ANCHOR") of min(cp+fsync, sha256)   (goal ≥ 80 %)"
echo "  download = $(ratio "$DOWN" "$READ_RATE") of cp, $(ratio "$DOWN" "$(lower "$READ_RATE" "$SHA_RATE")") of min(cp, sha256)   (goal ≥ 80 % of the direct path; every read is hashed)"
echo "  memory   = +${PEAK_MIB} MiB   (goal < 64 MiB)"
kill "$SERVER_PID"
fi

PY="${TENDERHALL_TEST_PYTHON:-python3}"
if [ -n "${BENCH_LOCAL_ONLY:-}" ]; then exit 0; fi
if ! "$PY" -c "import moto.server" 2>/dev/null || ! command -v aws > /dev/null; then
    echo
    echo "S3: skipped ($PY has no moto, or no aws CLI)"
    exit 0
fi
echo
S3_PORT=$(free_port)
"$PY" -c "from moto.server import main; main()" -H 127.0.0.1 -p "$S3_PORT" > "$WORK/moto.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$S3_PORT" > /dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=eu-west-1
S3="aws --endpoint-url http://127.0.0.1:$S3_PORT s3"
$S3 mb s3://direct > /dev/null
t0=$(now); $S3 cp "$FILE" s3://direct/document.bin --only-show-errors; t1=$(now)
S3_PUT=$(rate "$BYTES" "$t0" "$t1")
t0=$(now); $S3 cp s3://direct/document.bin "$WORK/s3down.bin" --only-show-errors; t1=$(now)
S3_GET=$(rate "$BYTES" "$t0" "$t1")
rm -f "$WORK/s3down.bin"
$S3 rm s3://direct/document.bin --only-show-errors
echo "anchors: aws s3 cp up ${S3_PUT} MiB/s, down ${S3_GET} MiB/s (moto on loopback)"
start_server s3 TENDERHALL_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" TENDERHALL_S3_BUCKET=documents \
    TENDERHALL_S3_REGION=eu-west-1 TENDERHALL_S3_ACCESS_KEY=bench TENDERHALL_S3_SECRET_KEY=bench-secret
through_api "S3"
echo "  upload   = $(ratio "$UP" "$S3_PUT") of aws s3 cp   (goal ≥ 50 %)"
echo "  download = $(ratio "$DOWN" "$S3_GET") of aws s3 cp, $(ratio "$DOWN" "$SHA_RATE") of sha256   (goal ≥ 80 % of the direct path)"
echo "  memory   = +${PEAK_MIB} MiB   (goal < 64 MiB)"
