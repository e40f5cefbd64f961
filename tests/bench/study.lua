-- wrk script for the study endpoints with many learners.
--
--   BENCH_TOKENS=file wrk ... -s tests/bench/study.lua URL -- MODE
--
-- Each request takes the next token from BENCH_TOKENS (one per line), so
-- the load is spread over all learners. MODE "review" POSTs a review of a
-- random navigation card with a fresh review_id; any other mode sends GETs
-- to the URL as given.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end

local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("thread_no", thread_no)
end

local mode, next_token, headers
function init(args)
  mode = args[1] or "get"
  math.randomseed(os.time() * 1000 + thread_no)
  next_token = (thread_no * 17) % #tokens
  headers = {}
end

local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffffffff) * 65536 + math.random(0, 0xffff))
end

function request()
  next_token = next_token % #tokens + 1
  headers["Authorization"] = "Bearer " .. tokens[next_token]
  if mode == "review" then
    headers["Content-Type"] = "application/json"
    local body = string.format('{"card_id":"navigation_%d","rating":%d,"review_id":"%s"}',
      math.random(1, 118), math.random(2, 4), uuid())
    return wrk.format("POST", nil, headers, body)
  end
  return wrk.format("GET", nil, headers)
end
