#!/usr/bin/env bash
# Builds the server and Natter.LoadGen (Release, artifacts outside the checkout), starts a fresh server pinned to
# core $SERVER_CPU on a new SQLite file with raised send limits (and the per-user and per-address limits every load
# generator run from one address meets: rooms, registrations, sockets), and runs each scenario given (default: the set in
# bench/README.md "Results") with the load generator pinned to core $LOADGEN_CPU.
#   bench/run-loadgen.sh [OUT_DIR] ["scenario options" ...]
# Writes OUT_DIR/tables.md (markdown), results.jsonl (one JSON per run), progress.log, commands.txt, server.log.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$(mktemp -d /tmp/natter-loadgen.XXXXXX)}; shift || true
SERVER_CPU=${SERVER_CPU:-0}; LOADGEN_CPU=${LOADGEN_CPU:-1}; PORT=${PORT:-5105}; ART=${ART:-/tmp/natter-loadgen-art}
NATTER_ARGS=${NATTER_ARGS:-"--Natter:Limits:SendsPerSecond=100000 --Natter:Limits:SendBurst=100000 --Natter:Limits:RoomCreationsPerHour=1000000 --Natter:Limits:RegistrationsPerAddressPerHour=1000000 --Natter:Limits:SocketsPerAddress=1000000"}
scenarios=("$@")
if (( ${#scenarios[@]} == 0 )); then
  scenarios=(
    "idle --connections 1000 --members 10 --duration 5 --warmup 2"
    "fanout --rooms 100 --members 10 --rate 1000 --duration 10 --warmup 3"
    "fanout --rooms 100 --members 10 --rate 5000 --duration 10 --warmup 3"
    "fanout --rooms 100 --members 10 --rate 10000 --duration 10 --warmup 3"
    "direct --pairs 500 --rate 5000 --duration 10 --warmup 3"
    "ingest --senders 100 --window 16 --duration 10 --warmup 3"
    "sync --messages 10000"
  )
fi
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
dotnet build "$root/src/Natter.Server/Natter.Server.csproj" -c Release --artifacts-path "$ART" -nologo -v q -clp:ErrorsOnly || exit 1
dotnet build "$root/bench/Natter.LoadGen/Natter.LoadGen.csproj" -c Release --artifacts-path "$ART" -nologo -v q -clp:ErrorsOnly || exit 1
rm -f "$OUT"/natter.db*
# shellcheck disable=SC2086 # NATTER_ARGS is a list of arguments.
taskset -c "$SERVER_CPU" dotnet "$ART/bin/Natter.Server/release/Natter.Server.dll" --urls "http://127.0.0.1:$PORT" \
  --Natter:Storage:SqlitePath="$OUT/natter.db" --Logging:LogLevel:Default=Warning $NATTER_ARGS > "$OUT/server.log" 2>&1 &
sp=$!
trap 'kill $sp 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
ulimit -n 20000 2>/dev/null || true
{ echo "date: $(date -u +%FT%TZ)  commit: $(git -C "$root" rev-parse --short HEAD)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x$(nproc)"
  echo "server: taskset -c $SERVER_CPU dotnet Natter.Server.dll --urls http://127.0.0.1:$PORT --Natter:Storage:SqlitePath=<fresh> --Logging:LogLevel:Default=Warning $NATTER_ARGS"; } >> "$OUT/commands.txt"
status=0
for s in "${scenarios[@]}"; do
  echo "== loadgen $s   (load before: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/commands.txt"
  # shellcheck disable=SC2086 # $s is a list of arguments.
  taskset -c "$LOADGEN_CPU" dotnet "$ART/bin/Natter.LoadGen/release/Natter.LoadGen.dll" $s --url "http://127.0.0.1:$PORT" \
    --server-pid "$sp" --out "$OUT/results.jsonl" --token-cache "$OUT/tokens.json" >> "$OUT/tables.md" 2>> "$OUT/progress.log"
  rc=$?; (( rc != 0 )) && status=$rc
  echo "   exit $rc   (load after: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/commands.txt"
done
echo "results in $OUT (tables.md, results.jsonl)"
exit $status
