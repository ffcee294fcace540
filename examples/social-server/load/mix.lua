-- The documented mix: 80% GET /feed, 10% GET /posts/trending, 10% POST /posts.
local n = 0
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local r = n % 10
  if r == 0 then
    return wrk.format("POST", "/posts", nil, '{"content":"mixed load post ' .. n .. '"}')
  elseif r == 5 then
    return wrk.format("GET", "/posts/trending")
  else
    return wrk.format("GET", "/feed?limit=20")
  end
end
