#!/usr/bin/env python3
"""Validates event fixtures (and captured records) against proto/events schemas.

  validate.py fixtures                 every proto/fixtures/<type>/{valid,invalid}/*.json
  validate.py record < event.json      one CloudEvent read from stdin, by its type
  validate.py records < events.ndjson  one CloudEvent per line

Uses Debian's python3-jsonschema (Draft 2020-12): an independent validator
for the tests; no product code depends on it.  Exit status 0 when every
valid fixture passes and every invalid one fails.
"""
import json
import os
import sys

from jsonschema import Draft202012Validator, FormatChecker, RefResolver

HERE = os.path.dirname(os.path.abspath(__file__))


def load_schemas():
    store = {}
    for name in os.listdir(os.path.join(HERE, "events")):
        with open(os.path.join(HERE, "events", name), encoding="utf-8") as f:
            schema = json.load(f)
        store[schema["$id"]] = schema
    return store


def validator(store, event_type):
    schema = store.get("urn:hc:schema:" + event_type)
    if schema is None:
        raise SystemExit("no schema for event type %s" % event_type)
    resolver = RefResolver.from_schema(schema, store=store)
    return Draft202012Validator(schema, resolver=resolver, format_checker=FormatChecker())


def check_fixtures(store):
    failures = checked = 0
    root = os.path.join(HERE, "fixtures")
    for event_type in sorted(os.listdir(root)):
        v = validator(store, event_type)
        for kind in ("valid", "invalid"):
            folder = os.path.join(root, event_type, kind)
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    doc = json.load(f)
                errors = list(v.iter_errors(doc))
                ok = (not errors) if kind == "valid" else bool(errors)
                checked += 1
                if not ok:
                    failures += 1
                    why = errors[0].message if errors else "accepted"
                    print("FAIL %s/%s/%s: %s" % (event_type, kind, name, why))
    print("%d fixtures checked, %d wrong" % (checked, failures))
    return failures == 0 and checked > 0


def check_record(store):
    doc = json.load(sys.stdin)
    errors = list(validator(store, doc.get("type", "")).iter_errors(doc))
    for e in errors:
        print("invalid: %s at %s" % (e.message, "/".join(map(str, e.absolute_path))))
    return not errors


def check_records(store):
    """One CloudEvent per stdin line; prints the count, or each invalid one."""
    validators = {}
    checked = bad = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        doc = json.loads(line)
        t = doc.get("type", "")
        if t not in validators:
            validators[t] = validator(store, t)
        errors = list(validators[t].iter_errors(doc))
        checked += 1
        if errors:
            bad += 1
            e = errors[0]
            print("invalid %s %s: %s at %s" % (t, doc.get("id"), e.message,
                                              "/".join(map(str, e.absolute_path))))
    print("%d records checked, %d invalid" % (checked, bad))
    return bad == 0 and checked > 0


if __name__ == "__main__":
    schemas = load_schemas()
    mode = sys.argv[1] if len(sys.argv) > 1 else "fixtures"
    modes = {"fixtures": check_fixtures, "record": check_record, "records": check_records}
    if mode not in modes:
        raise SystemExit("usage: validate.py fixtures | record | records")
    sys.exit(0 if modes[mode](schemas) else 1)
