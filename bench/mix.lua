-- 90/10 read/write mix: nine GETs of the URL given to wrk, then one POST /rooms with a slug never used before.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  counter = 0
  rooms = wrk.path:gsub("/rooms/[^/]+$", "/rooms")
end

function request()
  counter = counter + 1
  if counter % 10 == 0 then
    local body = string.format("domain=vclinic.vsee.me&slug=bench-%d-%d&name=Bench+room", tid, counter)
    return wrk.format("POST", rooms, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
  return wrk.format("GET")
end
