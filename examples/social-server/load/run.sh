#!/usr/bin/env bash
# Load test of the social server with wrk (Debian package `wrk`).
#
#   bash examples/social-server/load/run.sh            # memory defaults
#   BACKEND=services bash examples/social-server/load/run.sh   # PostgreSQL + Redis (+ NATS)
#
# Set-up: the demo dataset plus 50 users who each follow `ferris` and 10 others, 20 posts each
# (so every feed holds ~200 candidate entries). Then, with 2 threads and 32 connections for
# $DURATION seconds each: GET /feed (one user's home timeline, 20 items), POST /posts, and the
# mix (80% GET /feed, 10% GET /posts/trending, 10% POST /posts). wrk prints requests/s and the
# latency distribution (p50/p75/p90/p99).
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=examples/social-server/load
duration="${DURATION:-10}"
port="${LOAD_PORT:-18090}"
base="http://127.0.0.1:$port"
target="${CARGO_TARGET_DIR:-$PWD/target}"

cargo build --quiet --release -p keel-social-server
export KEEL_BIND="127.0.0.1:$port" KEEL_DEMO=true
for v in KEEL_LIMIT_ANONYMOUS KEEL_LIMIT_USER KEEL_LIMIT_VERIFIED KEEL_LIMIT_REGISTER KEEL_LIMIT_LOGIN KEEL_LIMIT_POST KEEL_LIMIT_SEARCH; do
  export "$v=1000000/s burst 1000000"
done
if [ "${BACKEND:-memory}" = services ]; then
  schema="load_$(date +%s)"
  psql "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}" -qc "create schema $schema"
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}?options=-c%20search_path%3D$schema"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" KEEL_REDIS_PREFIX="$schema"
  export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}" KEEL_NATS_PREFIX="$schema"
else
  unset DATABASE_URL REDIS_URL NATS_URL
fi
"$target/release/keel-social-server" >"$target/load-server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
login() { curl -fsS -X POST "$base/auth/login" -H 'content-type: application/json' -d "{\"login\":\"$1\",\"password\":\"$2\"}" | json '["access_token"]'; }
# The search index is filled by an event consumer: wait for it to index the demo users.
ferris=""
for _ in $(seq 1 100); do
  ferris=$(curl -fsS "$base/users/search?q=ferris" \
    | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"]; print(i[0]["id"] if i else "")' || true)
  [ -n "$ferris" ] && break
  sleep 0.1
done
[ -n "$ferris" ] || { echo "the demo user ferris never became searchable" >&2; exit 1; }
ids=(); tokens=()
for i in $(seq 1 50); do
  id=$(curl -fsS -X POST "$base/users" -H 'content-type: application/json' \
    -d "{\"username\":\"load$i\",\"email\":\"load$i@example.com\",\"password\":\"password-123\"}" | json '["id"]')
  ids+=("$id"); tokens+=("$(login "load$i" password-123)")
done
for i in $(seq 0 49); do
  t=${tokens[$i]}
  curl -fsS -o /dev/null -X POST "$base/users/$ferris/follow" -H "authorization: Bearer $t"
  for k in $(seq 1 10); do
    j=$(( (i + k * 7) % 50 ))
    curl -fsS -o /dev/null -X POST "$base/users/${ids[$j]}/follow" -H "authorization: Bearer $t"
  done
  for p in $(seq 1 20); do
    curl -fsS -o /dev/null -X POST "$base/posts" -H "authorization: Bearer $t" -H 'content-type: application/json' \
      -d "{\"content\":\"post $p of load$i #load\"}"
  done
done
sleep 2 # let the consumers finish the set-up fan-out
export TOKEN=${tokens[0]}
echo "== backend: ${BACKEND:-memory}; feed items: $(curl -fsS "$base/feed?limit=100" -H "authorization: Bearer $TOKEN" | json '["items"].__len__()')"
for script in feed post mix; do
  echo "== $script"
  wrk -t2 -c32 -d"${duration}s" --latency -s "$here/$script.lua" "$base" | grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|requests in'
done
