#!/usr/bin/env python3
"""A loopback webhook receiver for the tests: records every POST as one JSON line.

Usage: webhook_receiver.py --port N --out FILE [--fail-first K]
Prints "READY" once listening. With --fail-first K, answers the first K POSTs with 503.
"""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = argparse.ArgumentParser()
args.add_argument("--port", type=int, required=True)
args.add_argument("--out", required=True)
args.add_argument("--fail-first", type=int, default=0)
opts = args.parse_args()
state = {"seen": 0}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        state["seen"] += 1
        if state["seen"] <= opts.fail_first:
            self.send_response(503)
            self.end_headers()
            return
        with open(opts.out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "key": self.headers.get("Idempotency-Key"),
                                "event": self.headers.get("X-Tagwatch-Event"),
                                "auth": self.headers.get("Authorization"),
                                "content_type": self.headers.get("Content-Type"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
print("READY", flush=True)
server.serve_forever()
