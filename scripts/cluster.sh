#!/usr/bin/env bash
# Starts a local Natter cluster for trying things out: MariaDB, Redis and three Natter nodes on free loopback
# ports, everything in one temporary folder. Prints each node's URL; keeps each process's pid in <name>.pid and
# the command that starts it in <name>.cmd (to restart one by hand: bash <folder>/node2.cmd). Ctrl-C stops
# everything gracefully (nodes first, each waited for; SIGKILL only after STOP_WAIT seconds, default 30) and
# removes the folder (KEEP=1 keeps it). See docs/cluster.md.
# Optional settings (environment): NODES (3), CLUSTER_DIR (a new or empty folder instead of a temporary one),
# MARIADB_PORT, REDIS_PORT, NODE_PORT (the first node's port; the others follow) instead of free ports,
# MARIADB_ARGS (more mariadbd flags; a flag given again overrides the one below), NODE_ARGS (more arguments for
# every node, e.g. "--Natter:Limits:SendsPerSecond=100000"), NATTER_SERVER_DLL (a server already built).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nodes=${NODES:-3}
if [[ -n "${CLUSTER_DIR:-}" ]]; then
  mkdir -p "$CLUSTER_DIR"
  [[ -z "$(ls -A "$CLUSTER_DIR")" ]] || { echo "CLUSTER_DIR $CLUSTER_DIR is not empty"; exit 1; }
  dir=$(cd "$CLUSTER_DIR" && pwd)
else
  dir=$(mktemp -d /tmp/natter-cluster.XXXXXX)
fi

# Is this pid a process that still runs? (A child that exited but was not reaped yet is a zombie: not running.)
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }

# SIGTERM to every pid in the named files, then wait up to $1 seconds for all of them to exit; SIGKILL what is left.
stop_pids() { # seconds pidfile...
  local secs=$1 f p; shift
  local pids=()
  for f in "$@"; do [[ -f "$f" ]] && pids+=("$(cat "$f")"); done
  (( ${#pids[@]} )) || return 0
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  local deadline=$((SECONDS + secs)) alive
  while (( SECONDS < deadline )); do
    alive=0
    for p in "${pids[@]}"; do running "$p" && alive=1; done
    (( alive )) || return 0
    sleep 0.2
  done
  for p in "${pids[@]}"; do
    if running "$p"; then echo "   pid $p did not stop within ${secs} s: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; fi
  done
}

# Ctrl-C, SIGTERM or any exit: the nodes first (each drains its ingest queue and closes its sockets with 1001),
# then Redis and MariaDB, each waited for; then the script ends (it never returns to its loop).
stop_all() {
  trap - INT TERM EXIT
  trap '' INT # a second Ctrl-C does not cut the graceful stop short
  echo; echo "== stopping the nodes (SIGTERM, up to ${STOP_WAIT:-30} s), then Redis and MariaDB"
  stop_pids "${STOP_WAIT:-30}" "$dir"/node*.pid
  stop_pids "${STOP_WAIT:-30}" "$dir"/redis.pid "$dir"/mariadb.pid
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
  echo "== stopped"
  exit "${1:-0}"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM
trap 'stop_all $?' EXIT

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v mariadbd >/dev/null || need+=(mariadb-server)
if (( ${#need[@]} )); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "== installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: sudo apt-get install -y --no-install-recommends ${need[*]}"; exit 1
  fi
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Each service is started by a small script of its own, so it can be restarted by hand exactly the same way.
# setsid: in a session of its own, so a Ctrl-C in this terminal reaches only this script, which then stops
# everything in order (Redis would otherwise quit at once on the terminal's SIGINT, before the nodes drain).
start() { # name
  setsid bash "$dir/$1.cmd" >>"$dir/$1.log" 2>&1 &
  echo $! >"$dir/$1.pid"
}

echo "== folder $dir"
rport=${REDIS_PORT:-$(free_port)}
cat >"$dir/redis.cmd" <<CMD
exec redis-server --port $rport --bind 127.0.0.1 --dir '$dir' --save '' --appendonly no
CMD
start redis
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "== redis on 127.0.0.1:$rport"

mport=${MARIADB_PORT:-$(free_port)}
mkdir -p "$dir/mysql"
mariadb-install-db --no-defaults --datadir="$dir/mysql" --user=root --auth-root-authentication-method=normal \
  --skip-test-db >"$dir/mariadb-install.log" 2>&1
# The InnoDB settings a production deployment should start from (docs/cluster.md, "MariaDB settings").
# Durable: innodb_flush_log_at_trx_commit=1 (the redo log is fsynced at each commit; concurrent commits share one
# fsync) and the doublewrite buffer on. No binary log (mariadbd writes none unless --log-bin is given): with one,
# set sync_binlog=1 too. The rest sizes InnoDB for a write-heavy log: a redo log large enough that checkpoints do
# not stall commits, a buffer pool that holds the hot end of every room (this script's 1 GiB is for one machine;
# a database server gives it most of its memory), and flushing sized for an SSD.
innodb=(
  --innodb-flush-log-at-trx-commit=1 --innodb-doublewrite=1 --skip-log-bin
  --innodb-log-file-size=1G --innodb-log-buffer-size=64M --innodb-buffer-pool-size=1G
  --innodb-io-capacity=2000 --innodb-io-capacity-max=4000 --innodb-flush-neighbors=0
)
cat >"$dir/mariadb.cmd" <<CMD
exec mariadbd --no-defaults --datadir='$dir/mysql' --socket='$dir/mysql.sock' --port=$mport --bind-address=127.0.0.1 \
  --user=root --log-error='$dir/mariadb.err' --skip-name-resolve --max-connections=1000 ${innodb[*]} ${MARIADB_ARGS:-}
CMD
start mariadb
for _ in $(seq 100); do mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
mariadb --no-defaults --socket="$dir/mysql.sock" -uroot -e \
  "CREATE USER 'natter'@'127.0.0.1' IDENTIFIED BY 'natter-local'; GRANT ALL ON natter.* TO 'natter'@'127.0.0.1';"
echo "== mariadb on 127.0.0.1:$mport (database natter, user natter)"

dll=${NATTER_SERVER_DLL:-}
if [[ -z "$dll" ]]; then
  echo "== building the server (Release)"
  dotnet build "$root/src/Natter.Server/Natter.Server.csproj" -c Release --artifacts-path "$dir/build" -nologo -v q -clp:ErrorsOnly >/dev/null
  dll="$dir/build/bin/Natter.Server/release/Natter.Server.dll"
fi

mysql="Server=127.0.0.1;Port=$mport;User ID=natter;Password=natter-local;Database=natter"
for i in $(seq 1 "$nodes"); do
  if [[ -n "${NODE_PORT:-}" ]]; then port=$((NODE_PORT + i - 1)); else port=$(free_port); fi
  cat >"$dir/node$i.cmd" <<CMD
cd '$dir' && exec dotnet '$dll' --urls http://127.0.0.1:$port --Natter:NodeName=node$i \\
  --Natter:Storage:Provider=mysql '--Natter:Storage:MySqlConnectionString=$mysql' \\
  --Natter:Bus:Provider=redis --Natter:Bus:RedisConnectionString=127.0.0.1:$rport ${NODE_ARGS:-}
CMD
  start "node$i"
  # The first node creates the schema; the others start once it answers.
  for _ in $(seq 150); do curl -fs "http://127.0.0.1:$port/healthz/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  if curl -fs "http://127.0.0.1:$port/healthz/ready" >/dev/null 2>&1; then
    echo "node$i  http://127.0.0.1:$port   (pid $(cat "$dir/node$i.pid"), log $dir/node$i.log)"
  else
    echo "node$i did not start:"; tail -20 "$dir/node$i.log"; exit 1
  fi
done

echo "== cluster up. Kill a node: kill -9 \$(cat $dir/node2.pid); restart it: bash $dir/node2.cmd &"
echo "== Ctrl-C stops everything"
while true; do sleep 1; done
