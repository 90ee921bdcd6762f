-- wrk script for the control-plane bench. Environment:
--   WRK_METHOD  GET or POST
--   WRK_PATH    request path (GET: /jobs/<id>; POST: /jobs)
--   WRK_KEYS    comma-separated API keys, used in turn (POST: one owner each)
--   WRK_CLOSE   non-empty: "Connection: close" (a new connection per request)
-- done() prints one JSON line with the counts and latency percentiles (microseconds).
local method = os.getenv("WRK_METHOD") or "GET"
local path = os.getenv("WRK_PATH") or "/health"
local keys = {}
for key in string.gmatch(os.getenv("WRK_KEYS") or "", "[^,]+") do
  keys[#keys + 1] = key
end
local close = (os.getenv("WRK_CLOSE") or "") ~= ""
local body = '{"filename":"bench.mp4","size":1000000,"content_type":"video/mp4"}'
local n = 0

request = function()
  n = n + 1
  local headers = {["X-Api-Key"] = keys[(n % #keys) + 1]}
  if close then
    headers["Connection"] = "close"
  end
  if method == "POST" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path, headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
