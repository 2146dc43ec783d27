-- wrk script: POST the same JSON body with every request (an employer
-- application, or a verification), read from the file named by BENCH_BODY.
local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
