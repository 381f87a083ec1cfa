-- wrk script for scripts/bench_fleet.sh: GET /v1/payments/plan with a random amount (0.01..200.00
-- dollars) per request. The token comes as a -H header.
-- done() prints one JSON line (prefix "BENCH_JSON ") with requests, latency percentiles and the
-- status codes seen, counted across all wrk threads.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  c200, c409, c4xx, c5xx, cother = 0, 0, 0, 0, 0
end

function request()
  local cents = math.random(1, 20000)
  local path = string.format("/v1/payments/plan?amount=%d.%02d", math.floor(cents / 100), cents % 100)
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 409 then c409 = c409 + 1
  elseif status >= 500 then c5xx = c5xx + 1
  elseif status >= 400 then c4xx = c4xx + 1
  else cother = cother + 1 end
end

function done(summary, latency, requests)
  local s = { c200 = 0, c409 = 0, c4xx = 0, c5xx = 0, cother = 0 }
  for _, t in ipairs(threads) do
    for k, _ in pairs(s) do s[k] = s[k] + (t:get(k) or 0) end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"status_200":%d,"status_409":%d,"status_4xx_other":%d,"status_5xx":%d,"status_other":%d,' ..
    '"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, s.c200, s.c409, s.c4xx, s.c5xx, s.cother, errors))
end
