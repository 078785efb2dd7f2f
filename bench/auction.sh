#!/usr/bin/env bash
# Live auctions under load (issue "Live online auctions"): acknowledged bids per second on one
# auction against pgbench updating one hot row, side by side on the same PostgreSQL, and 2,000
# WebSocket watchers' delivery delay and the server's memory per watcher. Prints the ratios.
#
#   bench/auction.sh                                   # 16 clients, 10 s, 2,000 watchers
#   BENCH_CLIENTS=32 BENCH_WATCHERS=500 bench/auction.sh
#
# Needs PostgreSQL (TENDERHALL_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
# and pgbench.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tenderhall-api --bin tenderhall
TENDERHALL_E2E_BINARY="$PWD/target/release/tenderhall" cargo bench -q -p tenderhall-e2e --bench auction
