//! The Lua script that runs every algorithm inside Redis.
//!
//! One script holds the four algorithms, so one `SCRIPT LOAD` covers them all and a request with
//! several limits runs in one atomic call. Layout of a call:
//!
//! - `KEYS[i]`: the state key of check `i`;
//! - `ARGV[1]`: `all` (commit only if every check admits: one request under several limits) or
//!   `each` (every check decides and commits on its own);
//! - `ARGV[2 + 4(i-1) ..]`: for check `i`, the algorithm letter (`g` GCRA, `b` token bucket,
//!   `c` sliding-window counter, `l` sliding-window log), two parameters in microseconds or
//!   counts, and the cost.
//!
//! The reply is five integers per check: admitted (1/0), limit, remaining, reset-after (µs),
//! retry-after (µs), durations rounded up.
//!
//! # Time and precision
//! `now` is the Redis server's `TIME` in microseconds, so every instance reads one clock.
//! Lua numbers are doubles: a microsecond timestamp (about 1.8e15) is exact, and fractional
//! emission intervals keep a precision of a quarter microsecond. States are written with
//! `%.17g`, which round-trips a double exactly (Lua's default `tostring` keeps only 14 digits).
//! Redis 5+ replicates a script by its effects, so reading `TIME` before writing is allowed.

/// The script source.
pub(crate) const SOURCE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function fmt(x) return string.format('%.17g', x) end
local function ms(us) return math.max(math.ceil(us / 1000), 1) + 1 end

-- GCRA: state is the theoretical arrival time (TAT); a = emission interval, b = burst.
local function gcra(key, T, burst, cost)
  local tau = T * (burst - 1)
  local current = tonumber(redis.call('GET', key)) or now
  local function remaining(tat)
    local horizon = now + tau
    if horizon < tat then return 0 end
    return math.min(math.floor((horizon - tat) / T) + 1, burst)
  end
  if cost == 0 then
    return {1, burst, remaining(current), current - now, 0}, nil
  end
  local earliest = current + T * (cost - 1) - tau
  if now < earliest then
    return {0, burst, remaining(current), current - now, earliest - now}, nil
  end
  local nxt = math.max(current, now) + T * cost
  return {1, burst, remaining(nxt), nxt - now, 0}, function()
    redis.call('SET', key, fmt(nxt), 'PX', ms(nxt - now))
  end
end

-- Token bucket: state is the instant the bucket was empty; a = refill interval, b = capacity.
local function bucket(key, T, cap, cost)
  local span = T * cap
  local empty = tonumber(redis.call('GET', key)) or 0
  local base = math.max(empty, now - span)
  local ready = base + T * cost
  if now < ready then
    return {0, cap, math.floor((now - base) / T), base + span - now, ready - now}, nil
  end
  local d = {1, cap, math.floor((now - ready) / T), ready + span - now, 0}
  if cost == 0 then return d, nil end
  return d, function()
    redis.call('SET', key, fmt(ready), 'PX', ms(ready + span - now))
  end
end

-- Sliding-window counter: a hash {w = window index, p = previous count, c = current count};
-- a = period, b = limit.
local function counter(key, period, limit, cost)
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
    return {0, limit, left, reset, retry}, nil
  end
  return {1, limit, left - cost, reset, 0}, function()
    redis.call('HSET', key, 'w', fmt(w), 'p', fmt(p), 'c', fmt(c + cost))
    redis.call('PEXPIRE', key, ms(start + 2 * period - now))
  end
end

-- Sliding-window log: a sorted set of admitted units scored by time (each unit its own
-- member, timestamps made unique by moving a clash one microsecond later, which only delays
-- expiry); a = period, b = limit.
local function log(key, period, limit, cost)
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
    return {0, limit, left, reset, retry}, nil
  end
  if cost == 0 then return {1, limit, left, reset, 0}, nil end
  return {1, limit, left - cost, period, 0}, function()
    local at = now
    for _ = 1, cost do
      if last_t and at <= last_t then at = last_t + 1 end
      redis.call('ZADD', key, fmt(at), fmt(at))
      last_t = at
    end
    redis.call('PEXPIRE', key, ms(last_t + period - now))
  end
end

local algorithms = { g = gcra, b = bucket, c = counter, l = log }
local all = ARGV[1] == 'all'
local out = {}
local commits = {}
local admit = true
for i = 1, #KEYS do
  local j = 2 + (i - 1) * 4
  local f = algorithms[ARGV[j]]
  if not f then return redis.error_reply('keel-ratelimit: unknown algorithm ' .. tostring(ARGV[j])) end
  local d, commit = f(KEYS[i], tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3]))
  if d[1] == 0 then admit = false end
  local k = (i - 1) * 5
  out[k + 1] = d[1]
  out[k + 2] = d[2]
  out[k + 3] = math.max(d[3], 0)
  out[k + 4] = math.max(math.ceil(d[4]), 0)
  out[k + 5] = math.max(math.ceil(d[5]), 0)
  commits[i] = commit
end
if admit or not all then
  for i = 1, #KEYS do
    if commits[i] then commits[i]() end
  end
end
return out
";

/// The loaded-once script handle (its SHA1 is computed locally; `EVALSHA` is sent, and the
/// source is loaded again when the server answers `NOSCRIPT`).
pub(crate) fn script() -> redis::Script {
    redis::Script::new(SOURCE)
}
