-- GET /feed as one logged-in user (token in $TOKEN).
wrk.method = "GET"
wrk.path = "/feed?limit=20"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
