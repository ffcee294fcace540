#!/usr/bin/env bash
# Property-based API test of the social server with schemathesis (installed from PyPI into a
# venv under the cargo target directory), against the server's own /openapi.json.
# Bounded run: every operation, a fixed number of examples each. Fails on any server error (5xx)
# or any response that does not match its documented schema.
#
# Run it: bash examples/social-server/ci/schemathesis.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../../.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
venv="$target/schemathesis-venv"
examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
port="${SCHEMATHESIS_PORT:-18080}"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis>=4.1,<5"
fi

cargo build --quiet -p keel-social-server
# Memory backends with the demo data; fast hashes and open limits so the fuzzer measures the
# API, not the limiter (the limiter has its own tests).
export KEEL_BIND="127.0.0.1:$port" KEEL_DEMO=true KEEL_ARGON2_MEMORY_KIB=1024 KEEL_ARGON2_ITERATIONS=1
for v in KEEL_LIMIT_ANONYMOUS KEEL_LIMIT_USER KEEL_LIMIT_VERIFIED KEEL_LIMIT_REGISTER KEEL_LIMIT_LOGIN KEEL_LIMIT_POST KEEL_LIMIT_SEARCH; do
  export "$v=100000/s burst 100000"
done
unset DATABASE_URL REDIS_URL NATS_URL
"$target/debug/keel-social-server" >"$target/schemathesis-server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(curl -fsS -X POST "$base/auth/login" -H 'content-type: application/json' \
  -d '{"login":"ferris","password":"keel-demo-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

"$venv/bin/schemathesis" run "$base/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$examples" \
  --header "Authorization: Bearer $token" \
  --seed 1 \
  --no-color
