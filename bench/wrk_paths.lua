-- wrk script for bench/serve_bench.py: GET the paths of a file, one per line, in order.
--
--   wrk -t1 -c64 -d5s -s bench/wrk_paths.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- The driver writes the file: one path repeated (same name again) or the next slice of the
-- replica's domain names in a shuffled order (random names: none asked twice in a run unless
-- more requests are made than the slice holds; the driver reports that). With several
-- threads each one starts at its own share of the list. `done` prints one JSON line.

local counter = 0

function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

local paths = {}
local count = 0
local index = 0

function init(args)
  for line in io.lines(args[1]) do
    count = count + 1
    paths[count] = line
  end
  local threads = tonumber(args[2] or "1")
  index = math.floor(count * (thread_id or 0) / threads)
end

function request()
  index = index + 1
  if index > count then
    index = 1
  end
  return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max,
    latency.mean))
end
