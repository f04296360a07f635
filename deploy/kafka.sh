#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) from Maven Central jars.
# Usage: deploy/kafka.sh {jars|start|stop|status|topics} [DATA_DIR]
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP (512m),
#      WIREWATCH_KAFKA_PARTITIONS (3), KAFKA_START_TIMEOUT (90 s), KAFKA_STOP_GRACE_S (30 s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-status}
data=${2:-${KAFKA_DATA_DIR:-$root/var/kafka/run}}
port=${KAFKA_PORT:-9092}
cport=${KAFKA_CONTROLLER_PORT:-9093}
libs=$root/var/kafka/libs
pidfile=$data/kafka.pid

jars() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  mkdir -p "$libs"
  echo "kafka: resolving broker jars from Maven Central (first run only)…" >&2
  mvn -B -q -f "$root/deploy/kafka/pom.xml" -Dlibs.dir="$libs" dependency:copy-dependencies >&2
  ls "$libs"/kafka_2.13-*.jar >/dev/null
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

ready() {
  # A broker is ready when it logged its start line (metadata requests succeed from then on).
  grep -q "Kafka Server started" "$data/logs/server.log" 2>/dev/null
}

start() {
  jars
  if running; then echo "kafka: already running (pid $(cat "$pidfile")) on 127.0.0.1:$port" >&2; return 0; fi
  mkdir -p "$data/logs" "$data/log-dirs"
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/log-dirs
num.partitions=${WIREWATCH_KAFKA_PARTITIONS:-3}
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
  local java_opts=(-Xms256m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dkafka.logs.dir=$data/logs" "-Dlog4j2.configurationFile=$root/deploy/kafka/log4j2.properties")
  if [ ! -f "$data/log-dirs/meta.properties" ]; then
    local cid
    cid=$(java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
    java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format --standalone --ignore-formatted \
      -t "$cid" -c "$data/server.properties" >"$data/logs/format.log" 2>&1
  fi
  : > "$data/logs/server.log"
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$data/server.properties" \
    >"$data/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local waited=0 limit=${KAFKA_START_TIMEOUT:-90}
  until ready; do
    if ! running; then echo "kafka: broker exited; see $data/logs/stdout.log" >&2; tail -n 20 "$data/logs/stdout.log" >&2; exit 1; fi
    if [ "$waited" -ge $((limit * 5)) ]; then echo "kafka: not ready after ${limit}s" >&2; exit 1; fi
    sleep 0.2; waited=$((waited + 1))
  done
  echo "kafka: ready on 127.0.0.1:$port (pid $(cat "$pidfile"), data $data)" >&2
}

stop() {
  if ! running; then rm -f "$pidfile"; return 0; fi
  local pid; pid=$(cat "$pidfile")
  # KAFKA_STOP_GRACE_S (30): how long a controlled shutdown may take before kill -9; 0 for a throwaway
  # broker (a test session's), whose data nobody reads again.
  local grace=${KAFKA_STOP_GRACE_S:-30}
  if [ "$grace" != 0 ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "kafka: stopped" >&2
}

case "$cmd" in
  jars) jars ;;
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running pid $(cat "$pidfile")"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 {jars|start|stop|status} [DATA_DIR]" >&2; exit 2 ;;
esac
