--[[
  Keeps one artifact of a run: its bytes and then its metadata, under its name, unless the run already
  holds the maximum number of artifacts (a new name over the cap is refused; replacing an existing
  one is always allowed). One script, so concurrent puts cannot all pass the count check.

  KEYS[1] art   hash  artifact name -> metadata JSON
  KEYS[2] artd  hash  artifact name -> bytes

  ARGV[1] name, ARGV[2] metadata JSON, ARGV[3] bytes, ARGV[4] the most artifacts a run may hold

  Returns the run's artifact count after the put, or 0 when the put was refused for the cap.
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
-- Bytes first: a listed artifact always has its bytes.
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HLEN', KEYS[1])
