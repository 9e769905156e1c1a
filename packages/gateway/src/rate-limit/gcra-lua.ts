/** @module The GCRA decision as one Redis Lua script: atomic, on the Redis server's clock. */

/**
 * KEYS[1] the bucket; ARGV[1] emission interval (µs); ARGV[2] burst tolerance (µs).
 * Returns { allowed (0|1), remaining, reset µs, retry-after µs }: the same arithmetic as gcra.ts.
 *
 * The clock is Redis's own TIME, so gateways whose clocks disagree still share one timeline (Redis ≥ 5
 * replicates a script's effects, not the script, so reading TIME before a write is allowed). The key
 * expires exactly when its TAT passes: from then on a missing key and the stored one decide the same.
 * The TAT is written with %.0f because Lua 5.1's tostring keeps only 14 significant digits.
 */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if now < allow_at then
  return { 0, 0, tat - now, allow_at - now }
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return { 1, math.floor((now - allow_at) / interval), new_tat - now, 0 }
`;
