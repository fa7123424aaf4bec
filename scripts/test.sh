#!/usr/bin/env bash
# Runs every Natter test suite. Installs and starts what the tests need (Redis, MariaDB, Chromium) when
# missing, on loopback ports and a data folder of its own, and stops them afterwards.
# Under CI=true nothing is skipped: a service that cannot start fails the run.
# Ends with one line "N passed, N failed[, N skipped]" summed over every test project, and exits with
# dotnet test's status.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

svc_dir=$(mktemp -d /tmp/natter-test-services.XXXXXX)
pids=()
cleanup() {
  if [[ -f "$svc_dir/redis.pid" ]]; then kill "$(cat "$svc_dir/redis.pid")" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$svc_dir"
}
trap cleanup EXIT

need_pkgs=()
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
command -v mariadbd >/dev/null || need_pkgs+=(mariadb-server)
[[ -x /usr/bin/chromium ]] || need_pkgs+=(chromium)
[[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]] || need_pkgs+=(fonts-noto-color-emoji) # emoji in browser screenshots
if (( ${#need_pkgs[@]} )); then
  echo "== installing ${need_pkgs[*]} (apt-get)"
  if [[ $(id -u) -eq 0 ]]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}") >"$svc_dir/apt.log" 2>&1 \
      || { echo "apt-get install failed:"; tail -20 "$svc_dir/apt.log"; }
  else
    echo "not root: cannot install ${need_pkgs[*]}"
  fi
fi

free_port() { python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
PY
}

# Redis
if command -v redis-server >/dev/null; then
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$svc_dir" --save '' --appendonly no \
    --daemonize yes --pidfile "$svc_dir/redis.pid" --logfile "$svc_dir/redis.log" >/dev/null 2>&1
  for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if redis-cli -p "$rport" ping >/dev/null 2>&1; then
    export NATTER_TEST_REDIS="127.0.0.1:$rport"
    export NATTER_TEST_REDIS_SERVER="$(command -v redis-server)"
    echo "== redis on $NATTER_TEST_REDIS"
  else
    echo "redis did not start"; cat "$svc_dir/redis.log" 2>/dev/null | tail -5
  fi
fi

# MariaDB
if command -v mariadbd >/dev/null; then
  mport=$(free_port)
  mkdir -p "$svc_dir/mysql"
  if mariadb-install-db --no-defaults --datadir="$svc_dir/mysql" --user=root --auth-root-authentication-method=normal \
       --skip-test-db >"$svc_dir/mysql-install.log" 2>&1; then
    mariadbd --no-defaults --datadir="$svc_dir/mysql" --socket="$svc_dir/mysql.sock" --port="$mport" \
      --bind-address=127.0.0.1 --user=root --pid-file="$svc_dir/mysql.pid" --log-error="$svc_dir/mysql.err" \
      --skip-name-resolve --innodb-flush-log-at-trx-commit=1 --max-connections=1000 >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do mariadb-admin --no-defaults --socket="$svc_dir/mysql.sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
    if mariadb --no-defaults --socket="$svc_dir/mysql.sock" -uroot -e \
        "CREATE USER IF NOT EXISTS 'natter'@'127.0.0.1' IDENTIFIED BY 'natter-test'; GRANT ALL ON *.* TO 'natter'@'127.0.0.1';" 2>"$svc_dir/mysql-user.log"; then
      export NATTER_TEST_MYSQL="Server=127.0.0.1;Port=$mport;User ID=natter;Password=natter-test"
      echo "== mariadb on 127.0.0.1:$mport"
    else
      echo "mariadb did not start"; tail -5 "$svc_dir/mysql.err" 2>/dev/null
    fi
  else
    echo "mariadb-install-db failed"; tail -5 "$svc_dir/mysql-install.log"
  fi
fi

[[ -x /usr/bin/chromium ]] && export NATTER_TEST_CHROMIUM=/usr/bin/chromium

echo "== building"
if ! dotnet build Natter.slnx -c Release -nologo -v q -clp:ErrorsOnly; then
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0; failed=0; skipped=0; status=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  # The shared test-support library holds no tests of its own.
  [[ $name == Natter.TestSupport ]] && continue
  echo "== $name"
  log="$svc_dir/$name.log"
  dotnet test --project "$proj" -c Release --no-build 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  (( rc != 0 )) && status=$rc
  t=$(grep -E '^\s+total:' "$log" | tail -1 | grep -oE '[0-9]+')
  f=$(grep -E '^\s+failed:' "$log" | tail -1 | grep -oE '[0-9]+')
  s=$(grep -E '^\s+succeeded:' "$log" | tail -1 | grep -oE '[0-9]+')
  k=$(grep -E '^\s+skipped:' "$log" | tail -1 | grep -oE '[0-9]+')
  if [[ -z "$t" ]]; then failed=$((failed + 1)); status=${status:-1}; (( status == 0 )) && status=1; continue; fi
  passed=$((passed + ${s:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${k:-0}))
done

if (( skipped > 0 )); then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
exit $status
