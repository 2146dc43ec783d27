#!/usr/bin/env bash
# The county feed's AsyncAPI 3 document (proto/asyncapi.json) is valid
# against the AsyncAPI 3.0.0 schema (tests/fixtures/asyncapi-3.0.0.schema.json,
# from the @asyncapi/specs package, Apache-2.0), and true to the platform:
# every channel is a topic of deploy/topics.txt and one the example county
# consumer follows; every message's payload is an event schema of proto/
# whose type is the message's name and whose description names the channel's
# topic; every event type produced on those topics is documented.
. "$(dirname "$0")/lib.sh"

python3 - proto/asyncapi.json tests/fixtures/asyncapi-3.0.0.schema.json <<'PY' || fail "the AsyncAPI document"
import json, os, re, sys
import jsonschema

doc = json.load(open(sys.argv[1]))
spec = json.load(open(sys.argv[2]))
errors = [e.message for e in jsonschema.Draft7Validator(spec).iter_errors(doc)]
assert not errors, errors[:3]
assert doc["asyncapi"] == "3.0.0"
topics = {l.split()[0] for l in open("deploy/topics.txt") if l.strip() and not l.startswith("#")}
feed = set(re.findall(r'"(hc\.[a-z.-]+\.v1)"', open("deploy/county/county_feed.c").read()))
addresses = {c["address"] for c in doc["channels"].values()}
assert addresses <= topics, addresses - topics
assert addresses == feed, (addresses, feed)
documented = {}
for cid, ch in doc["channels"].items():
    for name, ref in ch["messages"].items():
        m = doc["components"]["messages"][ref["$ref"].split("/")[-1]]
        path = os.path.join("proto", m["payload"]["$ref"])
        schema = json.load(open(path))
        assert schema["properties"]["type"]["const"] == m["name"], path
        assert ch["address"] in schema["description"], (path, ch["address"])
        documented[m["name"]] = ch["address"]
for op in doc["operations"].values():
    assert op["action"] == "receive"
    assert op["channel"]["$ref"].split("/")[-1] in doc["channels"]
# every event type whose schema says it is produced on a documented topic is documented
for f in os.listdir("proto/events"):
    if not f.startswith("hc."):
        continue
    schema = json.load(open(os.path.join("proto/events", f)))
    on = re.search(r" on (hc\.[a-z.-]+\.v1)", schema["description"])
    if on and on.group(1) in addresses:
        assert schema["properties"]["type"]["const"] in documented, f
print("channels:", len(doc["channels"]), "messages:", len(documented))
PY
echo passed
