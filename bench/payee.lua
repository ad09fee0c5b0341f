-- wrk script: transfers to payees posted over HTTP, each with a fresh idempotency key
-- (32 hex characters: the only shape the transfer form accepts, as it draws them).
-- Arguments: one or more "cookie|csrf|source|payee" entries (a signed-in customer, one of their accounts and
-- one of their payees); requests go to the entries in turn, so several customers post at once.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function split(text)
  local parts = {}
  for part in string.gmatch(text, "([^|]+)") do table.insert(parts, part) end
  return parts
end

function init(args)
  payers = {}
  for _, arg in ipairs(args) do table.insert(payers, split(arg)) end
  counter = 0
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  counter = counter + 1
  local payer = payers[((counter + tid) % #payers) + 1]
  local key = string.format("%08x%08x%08x%08x", tid, counter, math.random(0, 2147483647), math.random(0, 2147483647))
  -- send_again: the customer's "Yes, send again" (the same amount to the same payee within five minutes is
  -- asked about first, and would move nothing).
  local body = "source=" .. payer[3] .. "&destination=payee-" .. payer[4] ..
    "&amount=1.00&description=bench&send_again=1&idempotency_key=" .. key
  local headers = {
    ["Cookie"] = payer[1],
    ["X-CSRFToken"] = payer[2],
    ["Referer"] = "https://" .. wrk.host .. ":" .. wrk.port .. "/transfers/new/",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  return wrk.format("POST", "/transfers/confirm/", headers, body)
end
