-- Completion jobs not finished yet: those queued plus those a job loop holds.
-- A loop drops a job from its processing list only after the order's commit,
-- so 0 means every queued job is done. Polled by bench/run.sh instead of
-- Postgres: a psql per poll costs the machine a backend fork, which the
-- worker being measured would pay for.
-- KEYS[1] the job list, KEYS[2] the set of job loops; ARGV[1] the prefix of
-- their processing lists. All share the {jobs} hash tag; this helper runs
-- against the single-node Redis of the bench (it reads processing lists it
-- learns from the set, which a cluster would want named in KEYS).
local left = redis.call('LLEN', KEYS[1])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  left = left + redis.call('LLEN', ARGV[1] .. id)
end
return left
