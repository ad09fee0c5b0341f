-- wrk script: own-account transfers posted over HTTP, each with a fresh idempotency key
-- (32 hex characters: the only shape the transfer form accepts, as it draws them).
-- Arguments: the two account ids. Cookie, CSRF and Referer headers come from wrk's -H options.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  source, destination = args[1], args[2]
  counter = 0
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  counter = counter + 1
  local from, to = source, destination
  if math.random() < 0.5 then from, to = destination, source end
  local key = string.format("%08x%08x%08x%08x", tid, counter, math.random(0, 2147483647), math.random(0, 2147483647))
  -- send_again: the customer's "Yes, send again" (the same amount to the same account within five minutes is
  -- asked about first, and would move nothing).
  local body = "source=" .. from .. "&destination=" .. to .. "&amount=1.00&description=bench&send_again=1&idempotency_key=" .. key
  return wrk.format("POST", "/transfers/confirm/", nil, body)
end
