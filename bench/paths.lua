-- wrk script: GET each path of a file in turn (one per line), each thread from its own offset, so that no
-- two requests of a run ask for the same page (the insights bench's cold-cache scenario: every custom period
-- is a key the cache has never seen). Argument: the file. Cookie headers come from wrk's -H options.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    table.insert(paths, line)
  end
  counter = math.floor((tid - 1) * #paths / 2)
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter - 1) % #paths + 1])
end
