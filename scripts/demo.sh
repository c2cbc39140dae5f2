#!/usr/bin/env bash
# Runs wirefeed end to end on the bundled sample feeds (config/samples/) into
# a local Apache Kafka and shows the records arriving on the topic.
#
# 1. starts the local broker (deploy/local/kafka.sh; fetches its jars from
#    Maven Central the first time),
# 2. builds wirefeed,
# 3. runs the daemon with config/wirefeed.toml in the background,
# 4. follows the topic with `wirefeed tail` and prints each record as it
#    arrives, then stops the daemon with SIGTERM (a clean shutdown).
#
# The broker keeps running afterwards; stop it with
# `deploy/local/kafka.sh stop`. Records published by an earlier run are shown
# too (the tail starts at the beginning of the topic); an unchanged feed is
# not published twice.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wirefeed-target}"
topic="wirefeed.articles"

deploy/local/kafka.sh start
echo "== building wirefeed"
cargo build --locked --quiet
wirefeed="$CARGO_TARGET_DIR/debug/wirefeed"

echo "== starting the daemon (logs: data/demo-daemon.log)"
mkdir -p data
# A daemon spreads its first polls over startup_spread_secs; the demo wants
# them at once.
WIREFEED_FEED_DEFAULTS__STARTUP_SPREAD_SECS=0 \
    "$wirefeed" --log-format pretty run --config config/wirefeed.toml 2>data/demo-daemon.log &
daemon=$!
echo "== status page while it runs: http://127.0.0.1:9464/ (also /metrics, /readyz)"
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT

echo "== records on topic $topic (stops after 20 s without a new one)"
"$wirefeed" --log-format pretty tail --topic "$topic" --from-beginning --idle-exit-secs 20 |
    python3 scripts/show_records.py

echo "== stopping the daemon"
kill -TERM "$daemon"
wait "$daemon" && echo "daemon stopped cleanly"
trap - EXIT
echo "Full records: $wirefeed tail --topic $topic --from-beginning --idle-exit-secs 5"
echo "Stop the broker: deploy/local/kafka.sh stop"
