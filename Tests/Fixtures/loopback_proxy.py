#!/usr/bin/env python3
"""A forward HTTP proxy for the tests that reaches loopback only.

Usage: loopback_proxy.py --port N --log FILE
Prints "READY" once listening. Each request is logged as "METHOD TARGET -> outcome". Plain
http requests to 127.0.0.1, localhost or ::1 are forwarded; any other target, and every
CONNECT (https tunnel), is refused with 403, so nothing a test does leaves the machine.
"""
import argparse
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = argparse.ArgumentParser()
args.add_argument("--port", type=int, required=True)
args.add_argument("--log", required=True)
opts = args.parse_args()
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def log(line):
    with open(opts.log, "a", encoding="utf-8") as f:
        f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    def refuse(self):
        log("%s %s -> refused" % (self.command, self.path))
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_CONNECT(self):
        self.refuse()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or url.hostname not in LOOPBACK:
            return self.refuse()
        try:
            with direct.open(urllib.request.Request(self.path, headers={"User-Agent": self.headers.get("User-Agent", "")}), timeout=10) as r:
                body, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "text/html")
        except urllib.error.HTTPError as e:
            body, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "text/plain")
        log("GET %s -> %d" % (self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
print("READY", flush=True)
server.serve_forever()
