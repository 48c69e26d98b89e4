-- wrk script for benchmarks/interop_cds.py: closed-loop callers, each request with
-- the next pre-signed JWT (never one twice: the service refuses a replayed jti).
--
-- wrk -t T -c C -d D -s interop_cds.lua URL -- METHOD BODY_FILE TOKENS_FILE T
--   BODY_FILE   "-" for no body
--   TOKENS_FILE one token per line, or "-" for a fixed "Bearer unused" header;
--               wrk thread i of T sends tokens i, i+T, i+2T, ...
-- done() prints one line "RESULT {json}" with the latency percentiles (µs), the
-- counts of responses, of non-200 answers and whether a thread ran out of tokens.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function read_file(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  local method, body_file, tokens_file, thread_count = args[1], args[2], args[3], tonumber(args[4])
  local body = nil
  if body_file ~= "-" then
    body = read_file(body_file)
  end
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "@TOKEN@" }
  local template = wrk.format(method, nil, headers, body)
  local at = template:find("@TOKEN@", 1, true)
  prefix = template:sub(1, at - 1) .. "Bearer "
  suffix = template:sub(at + #"@TOKEN@")
  tokens = {}
  if tokens_file ~= "-" then
    local index = 0
    for line in io.lines(tokens_file) do
      if line ~= "" then
        if index % thread_count == id then
          tokens[#tokens + 1] = line
        end
        index = index + 1
      end
    end
  end
  fixed = prefix .. "unused" .. suffix
  next_token = 1
  responses = 0
  not_ok = 0
  exhausted = 0
  first_not_ok = ""
end

function request()
  if #tokens == 0 and exhausted == 0 then
    return fixed
  end
  if next_token > #tokens then
    exhausted = 1 -- fail the run; this request carries no token and is refused
    return prefix .. "exhausted" .. suffix
  end
  local token = tokens[next_token]
  next_token = next_token + 1
  return prefix .. token .. suffix
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    not_ok = not_ok + 1
    if first_not_ok == "" then
      first_not_ok = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function quote(text)
  return '"' .. tostring(text):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local responses_total, not_ok_total, exhausted_any, first = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    responses_total = responses_total + thread:get("responses")
    not_ok_total = not_ok_total + thread:get("not_ok")
    exhausted_any = math.max(exhausted_any, thread:get("exhausted"))
    if first == "" then
      first = thread:get("first_not_ok")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"responses": %d, "not_ok": %d, "exhausted": %d, "first_not_ok": %s, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, responses_total, not_ok_total, exhausted_any, quote(first),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
end
