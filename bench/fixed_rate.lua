-- SPDX-License-Identifier: GPL-3.0-or-later
-- wrk script of bench/zero_downtime: a steady request rate and a JSON summary.
--
-- wrk has no rate option; delay() holds one. With BENCH_RATE (requests per second, all threads
-- together; BENCH_THREADS the -t value) each thread hands out send times on a fixed schedule of
-- BENCH_RATE / BENCH_THREADS per second: every call of delay() (one per request, made when a
-- connection is ready to send) takes the next free slot and waits until it, read from
-- CLOCK_MONOTONIC through LuaJIT's ffi. The rate stays fixed whatever the latency as long as
-- enough connections are free (connections > rate * latency); a slot missed because every
-- connection was busy is skipped, not caught up in a burst. Without BENCH_RATE, every
-- connection waits a fixed BENCH_DELAY_MS after each response (about
-- connections * 1000 / (BENCH_DELAY_MS + latency) req/s, which drops when latency grows).
--
-- response() counts the status codes and the {"version": ...} bodies it sees; done() prints
-- one line "WRK_JSON {...}" with the totals, the socket errors and the latency percentiles
-- in microseconds. wrk calls done() also when it is stopped early with SIGINT.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
   return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "10")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local period_ms = rate > 0 and 1000 * tonumber(os.getenv("BENCH_THREADS") or "1") / rate or nil
local stop_file = os.getenv("BENCH_STOP_FILE")
local stopping = false
local next_slot = nil
local threads = {}
local the_request = nil

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   codes = {}
   versions = {}
   unparsed = 0
   sent = 0
   the_request = wrk.format()
end

-- Every request written (a retried write after a reconnect counts again); with the responses and
-- wrk's timeouts this tells requests lost in flight from idle connections the server closed.
function request()
   sent = sent + 1
   return the_request
end

-- Once BENCH_STOP_FILE exists no request is sent any more, so the bench can let the requests in
-- flight finish before it stops wrk: then sent = answered + timeouts + lost exactly.
local function stop_requested()
   if not stopping and stop_file then
      local handle = io.open(stop_file, "r")
      if handle then
         handle:close()
         stopping = true
      end
   end
   return stopping
end

function delay()
   if stop_requested() then
      return 3600000
   end
   if not period_ms then
      return delay_ms
   end
   local now = now_ms()
   if next_slot == nil or next_slot < now then
      next_slot = now             -- idle or behind: start again from now, no catch-up burst
   end
   local wait = next_slot - now
   next_slot = next_slot + period_ms
   return math.floor(wait + 0.5)
end

function response(status, headers, body)
   codes[status] = (codes[status] or 0) + 1
   local version = body and string.match(body, '"version"%s*:%s*"([^"]*)"')
   if version then
      versions[version] = (versions[version] or 0) + 1
   else
      unparsed = unparsed + 1
   end
end

local function add_into(total, part)
   for key, count in pairs(part or {}) do
      total[tostring(key)] = (total[tostring(key)] or 0) + count
   end
end

local function encode(value)
   local kind = type(value)
   if kind == "table" then
      local items = {}
      for key, item in pairs(value) do
         table.insert(items, string.format("%q:%s", tostring(key), encode(item)))
      end
      table.sort(items)
      return "{" .. table.concat(items, ",") .. "}"
   elseif kind == "number" then
      return string.format("%.17g", value)
   elseif kind == "string" then
      return string.format("%q", value)
   end
   return "null"
end

function done(summary, latency, requests)
   local all_codes, all_versions, all_unparsed, all_sent = {}, {}, 0, 0
   for _, thread in ipairs(threads) do
      add_into(all_codes, thread:get("codes"))
      add_into(all_versions, thread:get("versions"))
      all_unparsed = all_unparsed + (thread:get("unparsed") or 0)
      all_sent = all_sent + (thread:get("sent") or 0)
   end
   local result = {
      duration_us = summary.duration,
      requests = summary.requests,
      sent = all_sent - 1,   -- wrk calls request() once before the run to verify it
      bytes = summary.bytes,
      errors = {
         connect = summary.errors.connect,
         read = summary.errors.read,
         write = summary.errors.write,
         timeout = summary.errors.timeout,
         status = summary.errors.status,
      },
      latency_us = {
         p50 = latency:percentile(50),
         p90 = latency:percentile(90),
         p99 = latency:percentile(99),
         p999 = latency:percentile(99.9),
         max = latency.max,
         mean = latency.mean,
      },
      codes = all_codes,
      versions = all_versions,
      unparsed_bodies = all_unparsed,
      delay_ms = delay_ms,
      rate = rate,
   }
   io.write("WRK_JSON " .. encode(result) .. "\n")
end
