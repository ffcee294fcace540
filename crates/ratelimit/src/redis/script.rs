//! The Lua script that runs every algorithm inside Redis.
//!
//! Each algorithm is one Lua function, written once. A single check runs a script made of only
//! its algorithm's body (`KEYS[1]`; `ARGV`: two parameters in microseconds or counts, and the
//! cost):
//! the less Lua a call runs, the more checks a Redis core serves. Several limits on one request
//! run the *multi* script, which holds all four:
//!
//! - `KEYS[i]`: the state key of check `i`;
//! - `ARGV[1]`: `all` (commit only if every check admits: one request under several limits) or
//!   `each` (every check decides and commits on its own);
//! - `ARGV[2]`: the number `q` of distinct quotas among the checks, then three arguments per
//!   quota: the algorithm letter (`g` GCRA, `b` token bucket, `c` sliding-window counter, `l`
//!   sliding-window log) and its two parameters (a batch names each quota once, and the script
//!   parses it once);
//! - then two arguments per check `i`: the index of its quota (from 1) and its cost.
//!
//! In `all` mode every check first decides without writing; only if all admit does each run
//! again with writing on (same script run, so nothing can change in between). The reply is three
//! integers per check: the remaining count when admitted or `-1 - remaining` when denied, then
//! reset-after and retry-after in µs, rounded up (the client knows each check's limit). The
//! coalescer (`coalesce.rs`) sends concurrent single checks as one `each` run.
//!
//! # Cost
//! Redis runs Lua slowly next to its native commands (on Redis 7.0 an empty `EVALSHA` costs
//! about 1 to 2.5 µs of server CPU, `SET` with a TTL from Lua about 1.3 to 2 µs), so the
//! scripts avoid every cost they can (measured by counting redis-server's instructions under
//! callgrind on Redis 7.0.15, batches of 32 GCRA checks over 50 keys: 45,800 instructions per
//! check before these, 24,500 after; a single check 79,900 before, 54,700 after):
//! - a GCRA or token-bucket state is one double stored as 8 bytes (`struct.pack('<d')`), so it
//!   is neither printed nor parsed: `tonumber` of a 16-digit string runs `strtod` twice, and a
//!   `%.17g` print goes through glibc's multi-precision float printer;
//! - other numbers are printed by the script, with `%d` whenever they are whole (Redis 7.0
//!   prints every number argument with `%.17g`);
//! - the reply is three integers per check, not five (each costs Redis a table read and a
//!   reply write);
//! - a batch names each distinct quota once and the script parses it once, with arithmetic
//!   coercion (`tonumber` parses a string twice in Lua 5.1); a check is then two short
//!   arguments, its quota's index and its cost;
//! - GCRA and token-bucket keys expire at a whole second (`EXAT`), at least one second after
//!   their state stops mattering: a function of the state, so while that second stays the same
//!   a check overwrites the state with `KEEPTTL` (Redis neither removes nor sets an expiry; in
//!   steady use about 9 writes in 10), and a key in use is not deleted and created again
//!   between two checks. This needs Redis 6.2 or later (or Valkey);
//! - results go straight into a reply table created at its final size for a single check; an
//!   admission writes its reply inline (a Lua function call per check is measurable), the
//!   helpers are locals, and a single-check script is its algorithm's body with the
//!   parameters bound, defining only the helpers it uses (each function definition is a
//!   closure built on every run).
//!
//! # Time and precision
//! `now` is the Redis server's `TIME` in microseconds, so every instance reads one clock.
//! Lua numbers are doubles: a microsecond timestamp (about 1.8e15) is exact, and fractional
//! emission intervals keep a precision of a quarter microsecond. GCRA and token-bucket states
//! are stored as the double itself (exact); the window algorithms' numbers that are not whole
//! are written with `%.17g`, which round-trips a double exactly (Lua's default `tostring`
//! keeps only 14 digits).
//! Redis 5+ replicates a script by its effects, so reading `TIME` before writing is allowed.

/// Reads the server's time and defines the helpers every algorithm uses.
const PRELUDE: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local floor, ceil, min, fmt, pack, unpack = math.floor, math.ceil, math.min, string.format, struct.pack, struct.unpack
-- Writes a GCRA or token-bucket state that matters until `till` (µs, server time). The key
-- expires at a whole second at least one second after `till`: a function of the state alone,
-- so a writer knows the expiry of the state it read (`old_till`, nil when there was none)
-- without asking. While that second stays the same the value is overwritten with KEEPTTL
-- (Redis then neither removes nor sets an expiry); a key in steady use also stays in place
-- instead of expiring and being created again between two checks.
local function store(key, value, old_till, till)
  local at = ceil(till / 1000000) + 1
  if old_till and at == ceil(old_till / 1000000) + 1 then
    redis.call('SET', key, pack('<d', value), 'KEEPTTL')
  else
    redis.call('SET', key, pack('<d', value), 'EXAT', fmt('%d', at))
  end
end
-- Three integers per check: remaining when admitted (a = 1), -1 - remaining when denied;
-- reset-after and retry-after in µs, rounded up. The client knows the limit. Every algorithm
-- returns `out`, so its body can run as a single-check script by itself. (An admission's
-- reply is written inline by each algorithm: a function call per check is measurable.)
local function put(out, k, a, rem, reset, retry)
  if rem < 0 then rem = 0 end
  if a == 1 then out[k + 1] = rem else out[k + 1] = -1 - rem end
  reset = ceil(reset)
  if reset < 0 then reset = 0 end
  out[k + 2] = reset
  retry = ceil(retry)
  if retry < 0 then retry = 0 end
  out[k + 3] = retry
  return out
end
";

/// GCRA: state is the theoretical arrival time (TAT); `T` = emission interval.
const GCRA: &str = r"
local function gcra(key, T, burst, cost, write, out, k)
  local tau = T * (burst - 1)
  -- The state: one double, 8 bytes little-endian (exact, and neither printed nor parsed).
  local v = redis.call('GET', key)
  local stored
  if v and #v == 8 then stored = unpack('<d', v) end
  local current = stored or now
  local horizon = now + tau
  local earliest = current + T * (cost - 1) - tau
  if cost == 0 or now < earliest then
    local rem = 0
    if horizon >= current then rem = min(floor((horizon - current) / T) + 1, burst) end
    if cost == 0 then return put(out, k, 1, rem, current - now, 0) end
    return put(out, k, 0, rem, current - now, earliest - now)
  end
  local nxt = T * cost
  if current > now then nxt = nxt + current else nxt = nxt + now end
  if write then store(key, nxt, stored, nxt) end
  local rem = 0
  if horizon >= nxt then
    rem = floor((horizon - nxt) / T) + 1
    if rem > burst then rem = burst end
  end
  out[k + 1] = rem; out[k + 2] = ceil(nxt - now); out[k + 3] = 0
  return out
end
";

/// Token bucket: state is the instant the bucket was empty; `T` = refill interval.
const BUCKET: &str = r"
local function bucket(key, T, cap, cost, write, out, k)
  local span = T * cap
  local v = redis.call('GET', key)
  local stored
  if v and #v == 8 then stored = unpack('<d', v) end
  local base = stored or 0
  if base < now - span then base = now - span end
  local ready = base + T * cost
  if now < ready then
    return put(out, k, 0, floor((now - base) / T), base + span - now, ready - now)
  end
  if write and cost > 0 then store(key, ready, stored and stored + span, ready + span) end
  out[k + 1] = floor((now - ready) / T); out[k + 2] = ceil(ready + span - now); out[k + 3] = 0
  return out
end
";

/// Sliding-window counter: the window index, the previous window's count and the current
/// window's count, packed as three doubles (24 bytes, like GCRA's state).
const COUNTER: &str = r"
local function counter(key, period, limit, cost, write, out, k)
  local v = redis.call('GET', key)
  local w, p, c = 0, 0, 0
  if v and #v == 24 then w, p, c = unpack('<ddd', v) end
  local win = floor(now / period)
  local moved = false
  if win == w + 1 then
    p = c; c = 0; w = win; moved = true
  elseif win > w + 1 then
    p = 0; c = 0; w = win; moved = true
  end
  local start = w * period
  local elapsed = now - start
  if elapsed < 0 then elapsed = 0 elseif elapsed > period then elapsed = period end
  local est = ceil(p * (period - elapsed) / period) + c
  local left = limit - est
  if left < 0 then left = 0 end
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
    return put(out, k, 0, left, reset, retry)
  end
  if write and cost > 0 then
    local state = pack('<ddd', w, p, c + cost)
    if moved then
      -- A new window (or a new key) sets the expiry, when the window can no longer count as
      -- the previous one: a function of the state, so later writes in the window keep it.
      redis.call('SET', key, state, 'PXAT', fmt('%d', ceil((start + 2 * period) / 1000) + 1))
    else
      redis.call('SET', key, state, 'KEEPTTL')
    end
  end
  reset = ceil(reset)
  if reset < 0 then reset = 0 end
  out[k + 1] = left - cost; out[k + 2] = reset; out[k + 3] = 0
  return out
end
";

/// Sliding-window log: a sorted set of admitted units scored by time (each unit its own
/// member; a timestamp clash moves the unit one microsecond later, which only delays expiry).
const LOG: &str = r"
-- Numbers become strings here, not in Redis (which prints every number with '%.17g'):
-- '%d' skips the floating-point printer, several times cheaper, whenever the value is whole.
local function num(x) if x % 1 == 0 then return fmt('%d', x) end return fmt('%.17g', x) end
-- A TTL in milliseconds covering `us` microseconds, with a millisecond of margin.
local function ms(us) local m = ceil(us / 1000) if m < 1 then m = 1 end return fmt('%d', m + 1) end
local function log(key, period, limit, cost, write, out, k)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - period))
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
    return put(out, k, 0, left, reset, retry)
  end
  if cost == 0 then return put(out, k, 1, left, reset, 0) end
  if write then
    local at = now
    for _ = 1, cost do
      if last_t and at <= last_t then at = last_t + 1 end
      local m = num(at)
      redis.call('ZADD', key, m, m)
      last_t = at
    end
    redis.call('PEXPIRE', key, ms(last_t + period - now))
  end
  return put(out, k, 1, left - cost, period, 0)
end
";

/// The single-check script of the algorithm function `name` defined in `source`: the
/// function's body runs as the script itself, its parameters bound from `KEYS` and `ARGV`, so
/// a run builds no closure for it (about 5,000 fewer Redis instructions per check). Falls back
/// to defining and calling the function if `source` does not have the expected shape.
fn single_script(source: &str, name: &str) -> String {
    let header = format!("local function {name}(");
    let inline = source.find(&header).and_then(|start| {
        let params_start = start + header.len();
        let params_end = params_start + source.get(params_start..)?.find(')')?;
        let params = source.get(params_start..params_end)?;
        let body_start = params_end + source.get(params_end..)?.find('\n')? + 1;
        let body_end = source.trim_end().rfind("end")?;
        let body = source.get(body_start..body_end)?;
        Some(format!(
            "{}local {params} = KEYS[1], ARGV[1] + 0, ARGV[2] + 0, ARGV[3] + 0, true, {{0, 0, 0}}, 0\n{body}",
            source.get(..start)?
        ))
    });
    inline.unwrap_or_else(|| {
        format!(
            "{source}return {name}(KEYS[1], ARGV[1] + 0, ARGV[2] + 0, ARGV[3] + 0, true, {{0, 0, 0}}, 0)\n"
        )
    })
}

/// Runs checks of any algorithms, in `all` or `each` mode.
const MULTI_TAIL: &str = r"
local algorithms = { g = gcra, b = bucket, c = counter, l = log }
local all = ARGV[1] == 'all'
local quotas = tonumber(ARGV[2]) or -1
local first = 3 * quotas + 3
if quotas < 1 or #ARGV ~= first - 1 + 2 * #KEYS then
  return redis.error_reply('keel-ratelimit: malformed arguments to the multi script')
end
local fs, as, bs = {}, {}, {}
for q = 1, quotas do
  local j = 3 * q
  local f = algorithms[ARGV[j]]
  if not f then return redis.error_reply('keel-ratelimit: unknown algorithm ' .. tostring(ARGV[j])) end
  fs[q], as[q], bs[q] = f, ARGV[j + 1] + 0, ARGV[j + 2] + 0
end
local out = {}
-- Runs every check; false when one denies. Index and cost strings repeat across a batch and
-- Lua strings are interned, so each is parsed only when it changes.
local function run(write)
  local admit = true
  local sq, sc, q, c
  for i = 1, #KEYS do
    local j = first + (i - 1) * 2
    if ARGV[j] ~= sq then sq = ARGV[j]; q = sq + 0 end
    if ARGV[j + 1] ~= sc then sc = ARGV[j + 1]; c = sc + 0 end
    local f = fs[q]
    if not f then error('keel-ratelimit: no quota ' .. sq) end
    f(KEYS[i], as[q], bs[q], c, write, out, (i - 1) * 3)
    if out[(i - 1) * 3 + 1] < 0 then admit = false end
  end
  return admit
end
if run(not all) and all then run(true) end
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
        let single = |body: &str, f: &str| {
            redis::Script::new(&format!("{PRELUDE}{}", single_script(body, f)))
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_scripts_run_the_algorithm_body_inline() {
        for (source, name) in [
            (GCRA, "gcra"),
            (BUCKET, "bucket"),
            (COUNTER, "counter"),
            (LOG, "log"),
        ] {
            let script = single_script(source, name);
            assert!(
                !script.contains(&format!("local function {name}(")),
                "{name}: still a function"
            );
            assert!(
                script.contains("= KEYS[1], ARGV[1] + 0, ARGV[2] + 0, ARGV[3] + 0, true"),
                "{name}: parameters not bound"
            );
            let last = script.trim_end().lines().last().unwrap_or_default();
            assert!(
                last.trim_start().starts_with("return "),
                "{name}: does not end by returning its reply: {last}"
            );
        }
    }
}
