-- wrk script of benchmarks/_wrk.py: sends requests signed beforehand, each once.
--
-- The file named by the first script argument holds raw HTTP requests, each as its
-- length in bytes, a newline, and the request. Thread n of t sends requests n, n + t,
-- n + 2t … so no two threads send the same one. A thread that has sent all of its
-- share starts again from its first and counts how often it did ("cycled"): a node
-- would answer those as duplicates, so a run that needed them is not a valid figure
-- of a node's inbox, only of a server that ignores the body.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("index", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1], "rb"))
   local data = file:read("*a")
   file:close()
   local thread_count = tonumber(args[2])
   mine = {}
   local position, number = 1, 0
   while position <= #data do
      local line_end = data:find("\n", position, true)
      local length = tonumber(data:sub(position, line_end - 1))
      if number % thread_count == index then
         mine[#mine + 1] = data:sub(line_end + 1, line_end + length)
      end
      number = number + 1
      position = line_end + length + 1
   end
   next_one = 1
   cycled = 0
end

function request()
   if next_one > #mine then
      next_one = 1
      cycled = cycled + 1
   end
   local raw = mine[next_one]
   next_one = next_one + 1
   return raw
end

function done(summary, latency, requests)
   local cycles = 0
   for _, thread in ipairs(threads) do
      cycles = cycles + thread:get("cycled")
   end
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
      '"status_errors": %d, "timeouts": %d, "cycled": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      errors.connect, errors.read, errors.write, errors.status, errors.timeout, cycles))
end
