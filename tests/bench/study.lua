-- wrk script for `make bench` (tests/bench.sh), the same for EasySKS and the peer.
--
--   BENCH_TOKENS=file wrk ... -s tests/bench/study.lua URL -- MODE
--
-- Every authenticated request takes the next token from BENCH_TOKENS (one
-- per line; reviews from BENCH_REVIEW_TOKENS when set), so the load is
-- spread over all learners. Modes:
--   none        GET the URL as given, no Authorization header (ceilings)
--   get         GET the URL as given
--   review      POST a review of a random navigation card with a fresh review_id
--   search      GET /api/cards?q= with the next of a few German words and prefixes
--   sheet       GET /api/study/practice?sheet= for a random official sheet (1..15)
--   exam-start  POST /api/exam-sessions for a random sheet
--   exam-save   PUT an answer into one of the learner's open sessions
--               (BENCH_EXAM_SESSIONS: "token<TAB>session_id<TAB>card,card,..." lines)
--   webhook     POST pre-signed Stripe events (BENCH_WEBHOOKS: "signature<TAB>body" lines)
-- At the end one line "BENCH_RESULT {json}" gives requests, errors and the
-- latency percentiles in microseconds (wrk's own summary has no p99.9).

local function lines(path)
  local out = {}
  if path == nil or path == "" then return out end
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  return out
end

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s, "([^" .. sep .. "]+)") do out[#out + 1] = part end
  return out
end

-- setup() runs in the main Lua state; thread:set() makes a global in the
-- thread's own state, which init() reads (a local here would shadow it).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("bench_thread", threads)
end

-- Seeds from the kernel: threads (and runs started in the same second) must
-- not draw the same review ids.
local function seed()
  local f = io.open("/dev/urandom", "rb")
  local b = f:read(4)
  f:close()
  return b:byte(1) * 16777216 + b:byte(2) * 65536 + b:byte(3) * 256 + b:byte(4)
end

local mode, tokens, sessions, hooks, next_no, headers
function init(args)
  mode = args[1] or "get"
  math.randomseed(seed())
  headers = {}
  if mode == "exam-save" then
    sessions = {}
    for _, l in ipairs(lines(os.getenv("BENCH_EXAM_SESSIONS"))) do
      local f = split(l, "\t")
      sessions[#sessions + 1] = {token = f[1], id = f[2], cards = split(f[3], ",")}
    end
  elseif mode == "webhook" then
    hooks = {}
    for _, l in ipairs(lines(os.getenv("BENCH_WEBHOOKS"))) do
      local sig, body = l:match("^([^\t]+)\t(.*)$")
      hooks[#hooks + 1] = {sig = sig, body = body}
    end
  elseif mode == "review" and os.getenv("BENCH_REVIEW_TOKENS") then
    tokens = lines(os.getenv("BENCH_REVIEW_TOKENS"))
  elseif mode ~= "none" then
    tokens = lines(os.getenv("BENCH_TOKENS"))
  end
  -- Threads start at different places in the lists.
  next_no = (bench_thread or 1) * 17
end

-- LuaJIT formats %x from 32 bits: the 48-bit last group is built in two parts.
local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffff), math.random(0, 0x7fffffff))
end

local function next_of(list)
  next_no = next_no % #list + 1
  return list[next_no]
end

-- Words learners look up: whole words, prefixes, umlauts (percent-encoded
-- UTF-8), spelt-out umlauts, two words, and one that matches nothing.
local queries = {"kardinal", "tonne", "nebel", "Ma%C3%9Fnahmen", "ausweich", "schallsign",
  "fahrwasser", "wetterbericht", "gr%C3%BCn", "rueckwaerts", "lee+luv", "xyzzy"}

function request()
  if mode == "none" then
    return wrk.format("GET", nil, headers)
  end
  if mode == "webhook" then
    local h = next_of(hooks)
    headers["Stripe-Signature"] = h.sig
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", nil, headers, h.body)
  end
  if mode == "exam-save" then
    local s = next_of(sessions)
    headers["Authorization"] = "Bearer " .. s.token
    headers["Content-Type"] = "application/json"
    local card = s.cards[math.random(1, #s.cards)]
    local body = string.format('{"student_answer":"Kurs halten und Ausguck verstärken %d"}',
      math.random(1, 1000000))
    return wrk.format("PUT", "/api/exam-sessions/" .. s.id .. "/answers/" .. card, headers, body)
  end
  headers["Authorization"] = "Bearer " .. next_of(tokens)
  if mode == "review" then
    headers["Content-Type"] = "application/json"
    local body = string.format('{"card_id":"navigation_%d","rating":%d,"review_id":"%s"}',
      math.random(1, 118), math.random(2, 4), uuid())
    return wrk.format("POST", nil, headers, body)
  end
  if mode == "search" then
    local q = queries[math.random(1, #queries)]
    return wrk.format("GET", "/api/cards?limit=20&q=" .. q, headers)
  end
  if mode == "sheet" then
    return wrk.format("GET", string.format("/api/study/practice?limit=20&sheet=%d",
      math.random(1, 15)), headers)
  end
  if mode == "exam-start" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", nil, headers, string.format('{"sheet_number":%d}', math.random(1, 15)))
  end
  return wrk.format("GET", nil, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
