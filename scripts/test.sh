#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, unit tests and the
# end-to-end tests against a real local Apache Kafka broker.
#
# Starts the local broker (deploy/local/kafka.sh) when it is not running and
# stops it again at the end if this script started it. Exits non-zero on any
# failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wirefeed-target}"
port="${WIREFEED_KAFKA_PORT:-9092}"
export WIREFEED_KAFKA_BOOTSTRAP="${WIREFEED_KAFKA_BOOTSTRAP:-127.0.0.1:$port}"

# The status page test loads the page in a real headless browser.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
    && [[ -z ${WIREFEED_CHROMIUM:-} ]]; then
    if [[ $(id -u) == 0 ]]; then
        echo "== installing chromium (Debian's) for the status page test"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
    else
        echo "scripts/test.sh: the status page test needs chromium: sudo apt-get install chromium" >&2
        exit 1
    fi
fi

started_kafka=0
stop_kafka() {
    if [[ $started_kafka == 1 ]]; then
        deploy/local/kafka.sh stop || true
    fi
}
trap stop_kafka EXIT

if ! deploy/local/kafka.sh status 2>/dev/null; then
    deploy/local/kafka.sh start
    started_kafka=1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
