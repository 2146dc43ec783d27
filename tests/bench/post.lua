-- wrk script: POST one employer application per request.  The body is read
-- from the file named by BENCH_BODY (made by tests/bench/http.sh).
local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
