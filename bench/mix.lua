-- 90/10 read/create mix: nine GETs of the URL given to wrk, then one POST /rooms with a slug never used before.
-- A second argument after `--` sets that period: 1 makes every request a create (bench/run.py's POST /rooms rows).
-- bench/run.py passes a nonce after `--` (unique per wrk run), so slugs stay unique across runs against one server
-- too; wrk itself counts every non-2xx/3xx answer ("Non-2xx or 3xx responses"), which run.py reports as errors.
--
-- Each request is also timed by kind (run it with one connection per thread, -tN -cN, so that a thread's request()
-- and response() alternate): done() prints the observed p50/p99 of creates and of reads. wrk's own percentiles are
-- corrected for coordinated omission (it adds the requests a constant-rate client would have sent during a stall),
-- which is not what a closed-loop client of this kind sees; both are reported. It also prints every create's time
-- (`bench-creates:`), so that the runs against several instances at once give the p99 of all their creates.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]])
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counter = 0
  nonce = args[1] or tostring(os.time())
  period = tonumber(args[2] or "10")
  rooms = wrk.path:gsub("/rooms/[^/]+$", "/rooms")
  -- wrk.format's headers replace wrk.headers (the -H ones: account and token) rather than add to them
  post_headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  for name, value in pairs(wrk.headers) do
    post_headers[name] = value
  end
  creates, reads, started, creating = {}, {}, 0, false
end

function request()
  counter = counter + 1
  started = now_ms()
  creating = counter % period == 0
  if creating then
    local body = string.format("domain=vclinic.vsee.me&slug=bench-%s-%d-%d&name=Bench+room", nonce, tid, counter)
    return wrk.format("POST", rooms, post_headers, body)
  end
  return wrk.format("GET")
end

function response(status, headers, body)
  local list = creating and creates or reads
  list[#list + 1] = now_ms() - started
end

local function percentile(list, p)
  if #list == 0 then
    return 0
  end
  table.sort(list)
  return list[math.max(1, math.ceil(#list * p))]
end

function done(summary, latency, requests)
  local all = {creates = {}, reads = {}}
  for _, thread in ipairs(threads) do
    for kind, list in pairs(all) do
      for _, ms in ipairs(thread:get(kind)) do
        list[#list + 1] = ms
      end
    end
  end
  io.write(string.format(
    "bench-observed: creates %d %.3f %.3f reads %d %.3f %.3f\n",
    #all.creates, percentile(all.creates, 0.5), percentile(all.creates, 0.99),
    #all.reads, percentile(all.reads, 0.5), percentile(all.reads, 0.99)
  ))
  local times = {}
  for i, ms in ipairs(all.creates) do
    times[i] = string.format("%.3f", ms)
  end
  io.write("bench-creates: " .. table.concat(times, " ") .. "\n")
end
