#!/usr/bin/env python3
"""A partner's callback endpoint for the tests: webhook_receiver.py PORT MODE LOG.

MODE flaky: answers 500 to the first five attempts of each event id, then 200.
MODE hang: logs each request as it arrives, then holds it 30 seconds.
Each request is logged as one JSON line: time, event id, attempt, the person
key of the event, whether it was signed, the status answered and the sender's
port (connections are kept alive: HTTP/1.1, so a reused one keeps its port).
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, mode, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        event_id = self.headers.get("HC-Event-Id", "")
        try:
            event = json.loads(body)
            person = event["data"].get("person_key", "")
            kind = event.get("type", "")
            application = event["data"].get("application_id", "")
        except (ValueError, KeyError, TypeError, AttributeError):
            person, kind, application = "", "", ""
        with lock:
            seen[event_id] = seen.get(event_id, 0) + 1
            n = seen[event_id]
        if mode == "hang":
            with lock, open(log_path, "a") as f:
                f.write(json.dumps({"t": time.time(), "event_id": event_id, "n": n,
                                    "person_key": person, "type": kind,
                                    "application_id": application, "status": "held"}) + "\n")
            time.sleep(30)
            status = 200
        else:
            status = 500 if n <= 5 else 200
        with lock, open(log_path, "a") as f:
            f.write(json.dumps({"t": time.time(), "event_id": event_id, "n": n,
                                "attempt": self.headers.get("HC-Delivery-Attempt"),
                                "person_key": person, "type": kind,
                                "application_id": application, "status": status,
                                "port": self.client_address[1],
                                "signed": bool(self.headers.get("Signature"))
                                and bool(self.headers.get("Content-Digest"))}) + "\n")
        try:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the sender gave up waiting

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
