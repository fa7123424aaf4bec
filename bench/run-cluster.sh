#!/usr/bin/env bash
# Measures a local Natter cluster: starts scripts/cluster.sh (MariaDB with the settings in that script, Redis, NODES
# nodes) in OUT_DIR/cluster, runs Natter.LoadGen once with every node's URL (users round-robin over the nodes) and
# every node's pid (server CPU summed), then stops the cluster gracefully.
#   bench/run-cluster.sh OUT_DIR NODES "scenario options"
#   e.g. bench/run-cluster.sh /tmp/nc 3 "ingest --senders 120 --window 16 --duration 10 --warmup 3"
# Environment: MARIADB_PORT (3336), REDIS_PORT (6396), NODE_PORT (5151), ART (build folder, /tmp/natter-cluster-art),
# MARIADB_ARGS (mariadbd flags that override the script's, to compare settings), NODE_ARGS (more node arguments),
# SERVER_DLL (another server build, for A/B runs), SKIP_BUILD=1, PERF_SECONDS (perf profiles of node1 and MariaDB),
# PREWARM_SECONDS (20: an unmeasured ingest first, so every node's hot paths are compiled; 0 = none).
# Writes OUT_DIR/tables.md, results.jsonl, progress.log, commands.txt, mariadb-status.txt (MariaDB counters: the
# change over the measured run) and keeps the nodes' and MariaDB's logs in OUT_DIR/cluster (not the data).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?OUT_DIR}; NODES=${2:?NODES}; SCENARIO=${3:?'"scenario options"'}
ART=${ART:-/tmp/natter-cluster-art}
export MARIADB_PORT=${MARIADB_PORT:-3336} REDIS_PORT=${REDIS_PORT:-6396} NODE_PORT=${NODE_PORT:-5151}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
[[ -e "$OUT/cluster" ]] && { echo "$OUT/cluster exists: use a new OUT_DIR"; exit 2; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
  dotnet build "$root/src/Natter.Server/Natter.Server.csproj" -c Release --artifacts-path "$ART" -nologo -v q -clp:ErrorsOnly || exit 1
  dotnet build "$root/bench/Natter.LoadGen/Natter.LoadGen.csproj" -c Release --artifacts-path "$ART" -nologo -v q -clp:ErrorsOnly || exit 1
fi

limits="--Natter:Limits:SendsPerSecond=100000 --Natter:Limits:SendBurst=100000 --Natter:Limits:RoomCreationsPerHour=1000000"
limits+=" --Natter:Limits:RegistrationsPerAddressPerHour=1000000 --Natter:Limits:SocketsPerAddress=1000000"
limits+=" --Natter:Auth:Argon2Iterations=1 --Natter:Auth:Argon2MemoryKiB=8192 --Logging:LogLevel:Default=Warning"
limits+=" --Natter:Metrics:Token=run-cluster-metrics-token"
export NODES CLUSTER_DIR="$OUT/cluster" KEEP=1 NATTER_SERVER_DLL="${SERVER_DLL:-$ART/bin/Natter.Server/release/Natter.Server.dll}"
export NODE_ARGS="$limits ${NODE_ARGS:-}"
setsid bash "$root/scripts/cluster.sh" >"$OUT/cluster.out" 2>&1 &
cluster=$!
stop() {
  kill -TERM "$cluster" 2>/dev/null
  for _ in $(seq 150); do kill -0 "$cluster" 2>/dev/null || break; sleep 0.2; done
  rm -rf "$OUT/cluster/mysql" "$OUT/cluster/build"
}
trap stop EXIT
for _ in $(seq 600); do grep -q '^== cluster up' "$OUT/cluster.out" && break; kill -0 "$cluster" 2>/dev/null || break; sleep 0.2; done
grep -q '^== cluster up' "$OUT/cluster.out" || { cat "$OUT/cluster.out"; exit 1; }

urls=$(grep -oE '^node[0-9]+ +http://[0-9.:]+' "$OUT/cluster.out" | awk '{print $2}' | paste -sd,)
pids=$(for i in $(seq 1 "$NODES"); do cat "$OUT/cluster/node$i.pid"; done | paste -sd,)
mpid=$(pgrep -f "mariadbd --no-defaults --datadir=$OUT/cluster/mysql" | head -1)
sql() { mariadb --no-defaults --socket="$OUT/cluster/mysql.sock" -uroot -N -e "$1"; }
counters="'Questions','Com_commit','Com_select','Com_insert','Com_update','Innodb_os_log_fsyncs','Innodb_data_fsyncs','Innodb_log_writes',\
'Innodb_row_lock_waits','Innodb_row_lock_time','Innodb_log_waits','Innodb_buffer_pool_pages_flushed','Innodb_data_written','Innodb_os_log_written',\
'Innodb_rows_inserted','Innodb_rows_updated','Innodb_rows_read','Innodb_deadlocks','Handler_commit','Bytes_received'"
status() { sql "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN (${counters^^})" | sort; }

{ echo "date: $(date -u +%FT%TZ)  commit: $(git -C "$root" rev-parse --short HEAD)  nodes: $NODES  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  grep -m1 '^exec mariadbd' -A1 "$OUT/cluster/mariadb.cmd" | tr -s ' \\\n' ' '; echo
  echo "node args: $NODE_ARGS"
  echo "loadgen: $SCENARIO --urls $urls --server-pids $pids --store-pid $mpid"; } >>"$OUT/commands.txt"
ulimit -n 20000 2>/dev/null || true
if (( ${PREWARM_SECONDS:-20} > 0 )); then
  # Every node first runs its hot paths for PREWARM_SECONDS (an unmeasured ingest in rooms of its own): a node
  # compiles them with the JIT (tier 0, then optimised) in its first 10-20 s, and N nodes do that N times over on
  # the same cores. Measured with a 3 s warmup, the JIT was 30 % of three nodes' CPU and their CPU per message
  # doubled from run to run (bench/README.md, session 10). PREWARM_SECONDS=0 measures cold nodes.
  echo "prewarm: ingest --senders 60 --window 8 --duration ${PREWARM_SECONDS:-20} --warmup 0" >>"$OUT/commands.txt"
  dotnet "$ART/bin/Natter.LoadGen/release/Natter.LoadGen.dll" ingest --senders 60 --window 8 --duration "${PREWARM_SECONDS:-20}" --warmup 0 \
    --urls "$urls" --token-cache none >"$OUT/prewarm.md" 2>&1 || echo "prewarm failed (see prewarm.md)" | tee -a "$OUT/commands.txt"
fi
status >"$OUT/status0.txt"
# shellcheck disable=SC2086 # $SCENARIO is a list of arguments.
dotnet "$ART/bin/Natter.LoadGen/release/Natter.LoadGen.dll" $SCENARIO --urls "$urls" --server-pids "$pids" --store-pid "$mpid" \
  --out "$OUT/results.jsonl" --token-cache none >>"$OUT/tables.md" 2>>"$OUT/progress.log" &
lg=$!
if [[ -n "${PERF_SECONDS:-}" ]]; then
  # Profiles node1 and MariaDB for PERF_SECONDS once the load runs (start the script with DOTNET_PerfMapEnabled=1 exported).
  for _ in $(seq 600); do grep -q 'warmup' "$OUT/progress.log" 2>/dev/null && break; sleep 0.5; done
  sleep "${PERF_DELAY:-4}"
  perf record -F 499 -g -p "$(cat "$OUT/cluster/node1.pid")" -o "$OUT/perf-node1.data" -- sleep "$PERF_SECONDS" >/dev/null 2>&1 &
  p1=$!
  perf record -F 499 -g -p "$mpid" -o "$OUT/perf-mariadb.data" -- sleep "$PERF_SECONDS" >/dev/null 2>&1 &
  wait "$p1" $!
  # Reported at once: the runtime removes its perf map (/tmp/perf-PID.map) when the node exits.
  for f in node1 mariadb; do
    perf report -i "$OUT/perf-$f.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -60 >"$OUT/perf-$f.txt"
    perf report -i "$OUT/perf-$f.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -80 >"$OUT/perf-$f-children.txt"
  done
fi
wait "$lg"
rc=$?
status >"$OUT/status1.txt"
join "$OUT/status0.txt" "$OUT/status1.txt" | awk '{printf "%-36s %14d\n", $1, $3-$2}' >"$OUT/mariadb-status.txt"
for i in $(seq 1 "$NODES"); do
  port=$((NODE_PORT + i - 1))
  curl -s -H 'Authorization: Bearer run-cluster-metrics-token' "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -E '^natter_commit_(batch_size|duration_milliseconds)_(sum|count)' | sed "s/^/node$i /" >>"$OUT/commit-metrics.txt"
done
echo "   exit $rc   (load after: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/commands.txt"
echo "results in $OUT (tables.md, mariadb-status.txt)"
exit $rc
