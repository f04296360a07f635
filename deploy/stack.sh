#!/usr/bin/env bash
# `make run`: Kafka, the demo feed and every service of this checkout, one stack at a time.
# A second `make run` while one runs says so and exits without touching it (an exclusive lock on
# $VAR/stack.lock, and a check that the ports are free); on exit this stack stops only what it started
# (a Kafka that was already running, e.g. from `make kafka`, keeps running).
# Env: VAR (var), DEMO_PORT (8765), WIREWATCH_API_PORT (8000), KAFKA_PORT (9092), PY (.venv/bin/python).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
var=${VAR:-var}
py=${PY:-.venv/bin/python}
demo_port=${DEMO_PORT:-8765}
api_port=${WIREWATCH_API_PORT:-8000}
kafka_port=${KAFKA_PORT:-9092}
mkdir -p "$var/log"

exec 9>"$var/stack.lock"
if ! flock -n 9; then
  echo "wirewatch: a stack is already running from this checkout (pid $(cat "$var/stack.pid" 2>/dev/null || echo '?'));" \
       "nothing was started or stopped. Stop it with Ctrl-C in its terminal." >&2
  exit 1
fi
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
kafka_ours() { deploy/kafka.sh status >/dev/null 2>&1; }
for p in "$api_port" "$demo_port"; do
  if port_busy "$p"; then
    echo "wirewatch: 127.0.0.1:$p is already in use (another stack, or another program); nothing was started." >&2
    exit 1
  fi
done
if port_busy "$kafka_port" && ! kafka_ours; then
  echo "wirewatch: 127.0.0.1:$kafka_port is in use by a Kafka this checkout did not start; nothing was started." >&2
  exit 1
fi

echo $$ > "$var/stack.pid"
started_kafka=0
demo_pid=""
cleanup() {
  [ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null
  [ "$started_kafka" = 1 ] && deploy/kafka.sh stop
  rm -f "$var/stack.pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! kafka_ours; then
  deploy/kafka.sh start || exit 1
  started_kafka=1
fi
"$py" -m tests.farm --static deploy/demo --port "$demo_port" > "$var/log/demo-feed.log" 2>&1 &
demo_pid=$!
"$py" -m services.cli init
echo "API on http://127.0.0.1:$api_port  (dashboard: /dashboard, docs: /docs)"
# Workers serve /metrics on 9100, 9101, … so the dashboard charts every service from the first run.
WIREWATCH_METRICS_PORT=${WIREWATCH_METRICS_PORT:-9100} WIREWATCH_KAFKA_PARTITIONS=${WIREWATCH_KAFKA_PARTITIONS:-3} \
  "$py" -m services.cli run all
