-- wrk script for bench/serve_bench.py: GET the paths of a file, one per line, in order.
--
--   wrk -t1 -c64 -d5s -s bench/wrk_paths.lua http://127.0.0.1:PORT -- PATHS_FILE
--
-- The driver writes the file: one path repeated (same name again) or the next slice of the
-- replica's domain names in a shuffled order (random names: none asked twice in a run unless
-- more requests are made than the slice holds; the driver reports that). With several
-- threads each one starts at its own share of the list. `done` prints one JSON line.
--
-- The paths are kept as the file's one string and a cursor into it, not as a table of one
-- string per line: wrk runs this script on the thread that sends the requests and reads the
-- answers, and a table of 250,000 strings made LuaJIT's collector stall that thread for
-- tens of milliseconds, which wrk counted as the server's latency (against a bare server,
-- p99 39-65 ms with 250,000 paths and 16 ms with 10,000). With no table the collector's
-- work does not grow with the file.

local counter = 0

function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end

local data = ""
local pos = 1

-- The position of the line after the first `skip` paths (blank lines are not paths).
local function after(skip)
  local at = 1
  while at <= #data do
    local nl = string.find(data, "\n", at, true) or (#data + 1)
    if nl > at then
      if skip == 0 then
        return at
      end
      skip = skip - 1
    end
    at = nl + 1
  end
  return 1
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  data = file:read("*a")
  file:close()
  local count = 0
  for _ in string.gmatch(data, "[^\n]+") do
    count = count + 1
  end
  assert(count > 0, "no path in " .. args[1])
  local threads = tonumber(args[2] or "1")
  pos = after(math.floor(count * (thread_id or 0) / threads))
end

function request()
  while true do
    if pos > #data then
      pos = 1
    end
    local nl = string.find(data, "\n", pos, true) or (#data + 1)
    local path = string.sub(data, pos, nl - 1)
    pos = nl + 1
    if path ~= "" then
      return wrk.format("GET", path)
    end
  end
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
