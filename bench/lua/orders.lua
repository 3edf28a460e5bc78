-- wrk script for `boothcloud-bench commerce`: every request is a new order.
-- Arguments: the number of wrk threads, and a file of quote tokens (one a line).
-- Thread k takes lines k, k+n, k+2n… so no two requests share a token or a key.
-- A thread that runs out sends a token that cannot verify; the benchmark sees the
-- refusals among wrk's errors and says to make more tokens.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(args[1])
  tokens = {}
  local line_no = 0
  for line in io.lines(args[2]) do
    if line_no % n == id then tokens[#tokens + 1] = line end
    line_no = line_no + 1
  end
  next_token = 1
end

request = function()
  local token = tokens[next_token] or "exhausted"
  local key = "wrk-" .. id .. "-" .. next_token
  next_token = next_token + 1
  return wrk.format("POST", "/api/v1/orders",
    { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key },
    '{"quote_token":"' .. token .. '","payment":{"method":"card"}}')
end
