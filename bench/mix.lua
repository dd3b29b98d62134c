-- 90/10 read/create mix: nine GETs of the URL given to wrk, then one POST /rooms with a slug never used before.
-- A second argument after `--` sets that period: 1 makes every request a create (bench/run.py's POST /rooms rows).
-- bench/run.py passes a nonce after `--` (unique per wrk run), so slugs stay unique across runs against one server
-- too; wrk itself counts every non-2xx/3xx answer ("Non-2xx or 3xx responses"), which run.py reports as errors.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
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
end

function request()
  counter = counter + 1
  if counter % period == 0 then
    local body = string.format("domain=vclinic.vsee.me&slug=bench-%s-%d-%d&name=Bench+room", nonce, tid, counter)
    return wrk.format("POST", rooms, post_headers, body)
  end
  return wrk.format("GET")
end
