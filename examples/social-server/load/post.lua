-- POST /posts as one logged-in user (token in $TOKEN), a distinct body per request.
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/posts", nil, '{"content":"load test post ' .. n .. ' #load"}')
end
