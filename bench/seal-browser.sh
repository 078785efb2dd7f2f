#!/usr/bin/env bash
# Sealing in the browser against `tenderhall seal` (issue "The web portal, part one"): the same
# file sealed by the bid page's own code in headless Chromium and by the command line, alternating,
# in one run, with the page's memory above idle. Prints the ratio against the goal (>= 50 %).
#
#   bench/seal-browser.sh                    # 256 MiB, 3 rounds each
#   BENCH_SIZE_MIB=64 BENCH_ROUNDS=1 bench/seal-browser.sh
#
# Needs Debian's chromium and chromium-driver (as .ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tenderhall-api --bin tenderhall
TENDERHALL_E2E_BINARY="$PWD/target/release/tenderhall" cargo bench -q -p tenderhall-e2e --bench seal_browser
