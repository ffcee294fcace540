//! The Lua script that runs every algorithm inside Redis.
//!
//! Each algorithm is one Lua function, written once. A single check runs a script holding only
//! its algorithm (`KEYS[1]`; `ARGV`: two parameters in microseconds or counts, and the cost):
//! the less Lua a call runs, the more checks a Redis core serves. Several limits on one request
//! run the *multi* script, which holds all four:
//!
//! - `KEYS[i]`: the state key of check `i`;
//! - `ARGV[1]`: `all` (commit only if every check admits: one request under several limits) or
//!   `each` (every check decides and commits on its own);
//! - `ARGV[2 + 4(i-1) ..]`: for check `i`, the algorithm letter (`g` GCRA, `b` token bucket,
//!   `c` sliding-window counter, `l` sliding-window log), its two parameters, and the cost.
//!
//! In `all` mode every check first decides without writing; only if all admit does each run
//! again with writing on (same script run, so nothing can change in between). The reply is five
//! integers per check: admitted (1/0), limit, remaining, reset-after (µs), retry-after (µs),
//! durations rounded up.
//!
//! # Time and precision
//! `now` is the Redis server's `TIME` in microseconds, so every instance reads one clock.
//! Lua numbers are doubles: a microsecond timestamp (about 1.8e15) is exact, and fractional
//! emission intervals keep a precision of a quarter microsecond. States are written with
//! `%.17g`, which round-trips a double exactly (Lua's default `tostring` keeps only 14 digits).
//! Redis 5+ replicates a script by its effects, so reading `TIME` before writing is allowed.

/// Reads the server's time and defines the helpers every algorithm uses.
const PRELUDE: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local function fmt(x) return string.format('%.17g', x) end
local function ms(us) return math.max(math.ceil(us / 1000), 1) + 1 end
local function reply(d, out, k)
  out[k + 1] = d[1]
  out[k + 2] = d[2]
  out[k + 3] = math.max(d[3], 0)
  out[k + 4] = math.max(math.ceil(d[4]), 0)
  out[k + 5] = math.max(math.ceil(d[5]), 0)
  return out
end
";

/// GCRA: state is the theoretical arrival time (TAT); `T` = emission interval.
const GCRA: &str = r"
local function gcra(key, T, burst, cost, write)
  local tau = T * (burst - 1)
  local current = tonumber(redis.call('GET', key)) or now
  local horizon = now + tau
  local function remaining(tat)
    if horizon < tat then return 0 end
    return math.min(math.floor((horizon - tat) / T) + 1, burst)
  end
  if cost == 0 then
    return {1, burst, remaining(current), current - now, 0}
  end
  local earliest = current + T * (cost - 1) - tau
  if now < earliest then
    return {0, burst, remaining(current), current - now, earliest - now}
  end
  local nxt = math.max(current, now) + T * cost
  if write then redis.call('SET', key, fmt(nxt), 'PX', ms(nxt - now)) end
  return {1, burst, remaining(nxt), nxt - now, 0}
end
";

/// Token bucket: state is the instant the bucket was empty; `T` = refill interval.
const BUCKET: &str = r"
local function bucket(key, T, cap, cost, write)
  local span = T * cap
  local empty = tonumber(redis.call('GET', key)) or 0
  local base = math.max(empty, now - span)
  local ready = base + T * cost
  if now < ready then
    return {0, cap, math.floor((now - base) / T), base + span - now, ready - now}
  end
  if write and cost > 0 then redis.call('SET', key, fmt(ready), 'PX', ms(ready + span - now)) end
  return {1, cap, math.floor((now - ready) / T), ready + span - now, 0}
end
";

/// Sliding-window counter: a hash {w = window index, p = previous count, c = current count}.
const COUNTER: &str = r"
local function counter(key, period, limit, cost, write)
  local h = redis.call('HMGET', key, 'w', 'p', 'c')
  local w = tonumber(h[1]) or 0
  local p = tonumber(h[2]) or 0
  local c = tonumber(h[3]) or 0
  local win = math.floor(now / period)
  if win == w + 1 then
    p = c; c = 0; w = win
  elseif win > w + 1 then
    p = 0; c = 0; w = win
  end
  local start = w * period
  local elapsed = math.min(math.max(now - start, 0), period)
  local est = math.ceil(p * (period - elapsed) / period) + c
  local left = math.max(limit - est, 0)
  local reset = start + period - now
  if c > 0 then reset = start + 2 * period - now end
  if cost > left then
    local budget = limit - cost
    local retry
    if c <= budget and p > 0 then
      local need_left = math.floor((budget - c) * period / p)
      retry = math.max(period - need_left - elapsed, 1)
    else
      local next_start = math.max(start + period - now, 0)
      local need_left = period
      if c > 0 then need_left = math.floor(budget * period / c) end
      retry = next_start + math.max(period - need_left, 0)
    end
    return {0, limit, left, reset, retry}
  end
  if write and cost > 0 then
    redis.call('HSET', key, 'w', fmt(w), 'p', fmt(p), 'c', fmt(c + cost))
    redis.call('PEXPIRE', key, ms(start + 2 * period - now))
  end
  return {1, limit, left - cost, reset, 0}
end
";

/// Sliding-window log: a sorted set of admitted units scored by time (each unit its own
/// member; a timestamp clash moves the unit one microsecond later, which only delays expiry).
const LOG: &str = r"
local function log(key, period, limit, cost, write)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - period))
  local total = redis.call('ZCARD', key)
  local left = math.max(limit - total, 0)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local last_t = tonumber(last[2])
  local reset = 0
  if last_t then reset = math.max(last_t + period - now, 0) end
  if cost > left then
    local need = cost - left
    local r = redis.call('ZRANGE', key, need - 1, need - 1, 'WITHSCORES')
    local retry = reset
    if r[2] then retry = tonumber(r[2]) + period - now end
    return {0, limit, left, reset, retry}
  end
  if cost == 0 then return {1, limit, left, reset, 0} end
  if write then
    local at = now
    for _ = 1, cost do
      if last_t and at <= last_t then at = last_t + 1 end
      redis.call('ZADD', key, fmt(at), fmt(at))
      last_t = at
    end
    redis.call('PEXPIRE', key, ms(last_t + period - now))
  end
  return {1, limit, left - cost, period, 0}
end
";

/// Runs one check of the algorithm function named `f`.
fn single_tail(f: &str) -> String {
    format!(
        "return reply({f}(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), true), {{}}, 0)\n"
    )
}

/// Runs checks of any algorithms, in `all` or `each` mode.
const MULTI_TAIL: &str = r"
local algorithms = { g = gcra, b = bucket, c = counter, l = log }
local all = ARGV[1] == 'all'
local out = {}
local admit = true
for i = 1, #KEYS do
  local j = 2 + (i - 1) * 4
  local f = algorithms[ARGV[j]]
  if not f then return redis.error_reply('keel-ratelimit: unknown algorithm ' .. tostring(ARGV[j])) end
  local d = f(KEYS[i], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]), not all)
  if d[1] == 0 then admit = false end
  reply(d, out, (i - 1) * 5)
end
if all and admit then
  for i = 1, #KEYS do
    local j = 2 + (i - 1) * 4
    local d = algorithms[ARGV[j]](KEYS[i], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]), true)
    reply(d, out, (i - 1) * 5)
  end
end
return out
";

/// The scripts, each loaded once (its SHA1 is computed locally; `EVALSHA` is sent, and the
/// source is loaded again when the server answers `NOSCRIPT`).
pub(crate) struct Scripts {
    pub(crate) gcra: redis::Script,
    pub(crate) bucket: redis::Script,
    pub(crate) counter: redis::Script,
    pub(crate) log: redis::Script,
    pub(crate) multi: redis::Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let single =
            |body: &str, f: &str| redis::Script::new(&format!("{PRELUDE}{body}{}", single_tail(f)));
        Self {
            gcra: single(GCRA, "gcra"),
            bucket: single(BUCKET, "bucket"),
            counter: single(COUNTER, "counter"),
            log: single(LOG, "log"),
            multi: redis::Script::new(&format!(
                "{PRELUDE}{GCRA}{BUCKET}{COUNTER}{LOG}{MULTI_TAIL}"
            )),
        }
    }

    /// The single-check script of `algorithm`.
    pub(crate) fn single(&self, algorithm: super::RedisAlgorithm) -> &redis::Script {
        match algorithm {
            super::RedisAlgorithm::Gcra => &self.gcra,
            super::RedisAlgorithm::TokenBucket => &self.bucket,
            super::RedisAlgorithm::SlidingWindowCounter => &self.counter,
            super::RedisAlgorithm::SlidingWindowLog => &self.log,
        }
    }
}
