#!/usr/bin/env python3
"""Loopback HTTP/1.1 test server for the tagwatch Swift tests.

Python 3 standard library only.

Usage:
    python3 testserver.py --root DIR [--port 0] [--verbose] [--log-requests]

Binds 127.0.0.1 on --port (0 = any free port), prints exactly one line
``PORT <n>`` to stdout (flushed), then serves until killed. SIGTERM or
SIGINT exits cleanly and promptly, even with connections still hanging
(every connection runs in a daemon thread). Requests are not logged
unless --verbose is given. With --log-requests, each request as it arrives
prints one line ``REQ <in-flight> <path?query>`` to stdout (flushed), where
<in-flight> counts the requests being answered at that moment, this one
included: tests wait on it ("the transfer is in flight") and read the most
concurrent requests from it.

Responses use HTTP/1.1 with keep-alive and always carry Content-Length,
except where a route below says otherwise. GET and HEAD are supported.

Routes (query parameters are optional; defaults in brackets):

  /<path>               File under DIR. .html is sent as
                        "text/html; charset=utf-8"; a directory serves its
                        index.html (with or without a trailing slash). A file
                        <path>.headers beside it adds its "Name: value" lines
                        as response headers.
                        Anything else: 404 with a small HTML body.
  /redirect/N           302 chain: /redirect/N -> /redirect/N-1 -> ...
                        -> /redirect/0 -> 302 to /index.html
  /redirect-to?url=X    302 with "Location: X" verbatim (for example
                        file:///etc/passwd or gopher://...). 400 if X is
                        missing or contains CR/LF.
  /redirect-loop        302 to itself, forever.
  /gzip/<path>          File <path> from DIR, gzip-compressed with
                        "Content-Encoding: gzip" only when the request's
                        Accept-Encoding allows gzip; otherwise sent plain.
                        Always "Vary: Accept-Encoding".
  /encoded/<coding>/<path>
                        File <path> from DIR sent with "Content-Encoding:
                        <coding>" whatever the Accept-Encoding said, coding one
                        of deflate (zlib stream), br (the brotli command) or
                        zstd (the zstd command); 400 for another coding.
  /status/<code>        That status (200-599) with a small HTML body
                        (no body for 204 and 304).
  /slow?seconds=S       Waits S seconds [10] before sending anything, then
                        a small HTML page. Other requests are not blocked.
  /trickle?seconds=S    Headers with "Content-Length: 1000", then one body
                        byte per second for S seconds [30] (at most 1000),
                        then closes the connection (body left short).
  /oneline?mb=N         N MiB [50] of HTML on a single line, a script tag at the end
  /big?mb=N             200 text/html, N MiB [50] of valid HTML filler
                        (<p>filler ...</p> lines), streamed, with an exact
                        Content-Length. N may be fractional (mb=0.5).
  /big-chunked?mb=N     Same body, "Transfer-Encoding: chunked", no
                        Content-Length.
  /gzip-bomb?mb=N       text/html with "Content-Encoding: gzip" (sent
                        whatever the Accept-Encoding): N MiB [2048] of zero
                        bytes, compressed on the fly with zlib.compressobj
                        (about 1 KiB on the wire per MiB), never held in
                        memory. Content-Length is exact (computed in
                        advance from the deterministic block size).
  /png                  200 image/png, a small valid PNG (16x16).
  /short-body           "Content-Length: 10000" but sends only 100 bytes,
                        then closes.
  /reset                Headers ("Content-Length: 2000") and half the body
                        (1000 bytes), then closes with SO_LINGER 0 so the
                        peer sees a TCP RST.
  /never                Reads the request and never answers: waits up to
                        120 s (or until the server stops), then closes
                        without sending a byte.
  /headers              200 HTML page with response headers
                        "Content-Security-Policy: default-src 'self'" and
                        two Set-Cookie headers ("sid=abc; Path=/" and
                        "_ga=GA1.1; Path=/"); the body has a <pre> listing
                        the request line and the request headers received.
  /nul                  HTML whose body text contains a NUL byte and the
                        invalid UTF-8 bytes 0xFF 0xFE, plus
                        <script src="https://cdn.example-vendor.test/x.js">.
                        Content-Type says charset=utf-8.
  /latin1               HTML with <meta charset="iso-8859-1"> and a Latin-1
                        e-acute byte (0xE9) in the <title>, plus
                        <script src="https://www.googletagmanager.com/gtm.js?id=GTM-LAT1">.
                        Content-Type is plain "text/html" (no charset), so
                        the meta tag decides.
  /deep?levels=N        HTML of N nested <div> [100000], streamed with a
                        Content-Length, with
                        <script src="https://static.hotjar.com/c/hotjar-1.js">
                        inside the deepest div at the very end.

Malformed query values (e.g. seconds=abc) give 400.
"""

import argparse
import html
import math
import mimetypes
import os
import posixpath
import signal
import socket
import socketserver
import struct
import sys
import threading
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MIB = 1024 * 1024

# Set when the server is stopping, so sleeping handlers wake up at once.
STOPPING = threading.Event()

# Requests being answered now, for --log-requests.
IN_FLIGHT_LOCK = threading.Lock()
IN_FLIGHT = 0
LOG_REQUESTS = False


class BadRequest(Exception):
    """A malformed query parameter; answered with 400."""


def make_png(width=16, height=16):
    """Build a small valid RGB PNG (a two-colour gradient) in memory."""

    def chunk(kind, data):
        body = kind + data
        return (struct.pack(">I", len(data)) + body
                + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            rows += bytes((x * 255 // (width - 1), y * 255 // (height - 1), 0x80))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


PNG_BYTES = make_png()


def simple_page(title, text):
    """A small UTF-8 HTML page."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>{0}</title></head>\n<body><h1>{0}</h1>\n<p>{1}</p>\n</body></html>\n"
            .format(html.escape(title), html.escape(text))).encode("utf-8")


# ---------------------------------------------------------------- /big body

BIG_PREFIX = (b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              b"<title>Big page</title></head>\n<body>\n")
BIG_SUFFIX = b"</body>\n</html>\n"
# One 64-byte filler line: "<p>filler filler ... filler</p>\n".
BIG_LINE = b"<p>" + b"filler " * 7 + b"filler.</p>\n"
assert len(BIG_LINE) == 64, len(BIG_LINE)
BIG_BLOCK = BIG_LINE * 1024  # 64 KiB


def oneline_body(total):
    """Yield exactly `total` bytes of HTML on one single line, a script tag at its end."""
    head = b"<!DOCTYPE html><html><head><title>One line</title></head><body>"
    tail = b"<script src=\"https://static.hotjar.com/c/hotjar-9.js\"></script></body></html>"
    middle = total - len(head) - len(tail)
    yield head
    block = b"<span>one long line </span>" * 2048
    while middle >= len(block):
        yield block
        middle -= len(block)
    yield b"x" * middle
    yield tail


def big_body(total):
    """Yield exactly `total` bytes of valid HTML filler."""
    if total < len(BIG_PREFIX) + len(BIG_SUFFIX):
        yield (BIG_PREFIX + BIG_SUFFIX)[:total]
        return
    yield BIG_PREFIX
    middle = total - len(BIG_PREFIX) - len(BIG_SUFFIX)
    while middle >= len(BIG_BLOCK):
        yield BIG_BLOCK
        middle -= len(BIG_BLOCK)
    lines, rest = divmod(middle, len(BIG_LINE))
    tail = BIG_LINE * lines
    if rest >= 8:
        tail += b"<p>" + b"x" * (rest - 8) + b"</p>\n"
    else:
        tail += b"\n" * rest
    yield tail
    yield BIG_SUFFIX


# ----------------------------------------------------------- /gzip-bomb body

def bomb_pieces(total):
    """Sizes of the uncompressed pieces: whole MiB, then any remainder."""
    full, rest = divmod(total, MIB)
    return full, rest


def bomb_stream(total):
    """Yield gzip data for `total` zero bytes, one MiB at a time.

    Each MiB is followed by a Z_FULL_FLUSH, which makes every full-MiB
    block after the first compress to the same number of bytes; that is
    what lets bomb_length() know the Content-Length up front.
    """
    zeros = bytes(MIB)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip wrapper
    full, rest = bomb_pieces(total)
    for _ in range(full):
        yield comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    if rest:
        yield comp.compress(zeros[:rest]) + comp.flush(zlib.Z_FULL_FLUSH)
    yield comp.flush(zlib.Z_FINISH)


_BOMB_LEN_CACHE = {}
_BOMB_LEN_LOCK = threading.Lock()


def bomb_length(total):
    """Exact compressed size of bomb_stream(total), computed cheaply."""
    with _BOMB_LEN_LOCK:
        if total in _BOMB_LEN_CACHE:
            return _BOMB_LEN_CACHE[total]
    full, rest = bomb_pieces(total)
    if full <= 3:
        length = sum(len(p) for p in bomb_stream(total))
    else:
        # Probe with 3 full blocks (+ the same remainder): block 1, 2, 3...
        # are byte-identical after a full flush, so extrapolate.
        probe = list(bomb_stream(3 * MIB + rest))
        repeat = len(probe[1])
        assert probe[1] == probe[2], "zlib block size is not periodic"
        length = sum(len(p) for p in probe) + (full - 3) * repeat
    with _BOMB_LEN_LOCK:
        _BOMB_LEN_CACHE[total] = length
    return length


# --------------------------------------------------------------- /deep body

DEEP_PREFIX = (b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               b"<title>Deep page</title></head>\n<body>\n")
DEEP_SCRIPT = b"<script src=\"https://static.hotjar.com/c/hotjar-1.js\"></script>"
DEEP_SUFFIX = b"\n</body>\n</html>\n"


def deep_length(levels):
    return (len(DEEP_PREFIX) + levels * len(b"<div>") + len(DEEP_SCRIPT)
            + levels * len(b"</div>") + len(DEEP_SUFFIX))


def deep_body(levels):
    yield DEEP_PREFIX
    step = 8192
    left = levels
    while left:
        n = min(step, left)
        yield b"<div>" * n
        left -= n
    yield DEEP_SCRIPT
    left = levels
    while left:
        n = min(step, left)
        yield b"</div>" * n
        left -= n
    yield DEEP_SUFFIX


# ---------------------------------------------------------- other fixtures

NUL_PAGE = (b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>NUL and bad UTF-8</title>\n"
            b"<script src=\"https://cdn.example-vendor.test/x.js\"></script>\n"
            b"</head>\n<body>\n<p>Before the NUL byte: [\x00] after it.</p>\n"
            b"<p>Invalid UTF-8 next: [\xff\xfe] and then normal text.</p>\n"
            b"</body></html>\n")

LATIN1_PAGE = (b"<!DOCTYPE html>\n<html><head><meta charset=\"iso-8859-1\">"
               b"<title>Caf\xe9 Latin-1</title>\n"
               b"<script src=\"https://www.googletagmanager.com/gtm.js?id=GTM-LAT1\"></script>\n"
               b"</head>\n<body><p>Cr\xe8me br\xfbl\xe9e, served in ISO-8859-1.</p></body></html>\n")

HTML_TYPE = "text/html; charset=utf-8"


def gzip_bytes(data):
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def accepts_gzip(header_value):
    """True if an Accept-Encoding header value allows gzip (q > 0)."""
    if not header_value:
        return False
    for part in header_value.split(","):
        fields = [f.strip() for f in part.split(";")]
        coding = fields[0].lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tagwatch-testserver/1.0"
    # Idle keep-alive connections and stalled writes give up after this.
    timeout = 300
    # Headers and body go out in separate writes; without TCP_NODELAY,
    # Nagle + delayed ACK add ~40 ms to each keep-alive response.
    disable_nagle_algorithm = True

    # Set from the command line.
    root = "."
    verbose = False

    # ------------------------------------------------------------ plumbing

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):  # noqa: N802 (stdlib name)
        if self.verbose:
            sys.stderr.write("%s - - [%s] %s\n" % (
                self.address_string(), self.log_date_time_string(), fmt % args))

    def do_GET(self):  # noqa: N802
        self.head_only = False
        self.dispatch()

    def do_HEAD(self):  # noqa: N802
        self.head_only = True
        self.dispatch()

    def write_body(self, data):
        if not self.head_only and data:
            self.wfile.write(data)

    def send_simple(self, code, body, content_type=HTML_TYPE, headers=()):
        """Send a complete response with a Content-Length."""
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.write_body(body)

    def send_error_page(self, code, text=None):
        phrase = HTTPStatus(code).phrase
        self.send_simple(code, simple_page("%d %s" % (code, phrase), text or phrase))

    def redirect(self, location, code=302):
        body = simple_page("Redirect", "See " + location)
        self.send_simple(code, body, headers=(("Location", location),))

    def stream(self, chunks, length, content_type=HTML_TYPE, headers=()):
        """Send 200 with a known Content-Length and a generated body."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.head_only:
            return
        for chunk in chunks:
            if STOPPING.is_set():
                self.close_connection = True
                return
            self.wfile.write(chunk)

    def param(self, query, name, default, kind=float, minimum=0):
        values = query.get(name)
        if not values:
            return default
        try:
            value = kind(values[0])
        except ValueError:
            raise BadRequest("bad value for %s: %r" % (name, values[0]))
        if not math.isfinite(value) or value < minimum:
            raise BadRequest("bad value for %s: %r" % (name, values[0]))
        return value

    def dispatch(self):
        global IN_FLIGHT
        with IN_FLIGHT_LOCK:
            IN_FLIGHT += 1
            if LOG_REQUESTS:
                sys.stdout.write("REQ %d %s\n" % (IN_FLIGHT, self.path))
                sys.stdout.flush()
        try:
            self.dispatch_counted()
        finally:
            with IN_FLIGHT_LOCK:
                IN_FLIGHT -= 1

    def dispatch_counted(self):
        parts = urlsplit(self.path)
        path = parts.path or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            self.route(path, query)
        except BadRequest as exc:
            self.send_error_page(400, str(exc))
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                socket.timeout):
            # The client went away (curl --max-filesize, --max-time, ...).
            self.close_connection = True

    # -------------------------------------------------------------- routes

    def route(self, path, query):
        if path.startswith("/redirect/"):
            return self.route_redirect(path[len("/redirect/"):])
        if path == "/redirect-to":
            return self.route_redirect_to(query)
        if path == "/redirect-loop":
            return self.redirect("/redirect-loop")
        if path.startswith("/gzip/"):
            return self.route_gzip(path[len("/gzip"):])
        if path.startswith("/encoded/"):
            coding, _, rest = path[len("/encoded/"):].partition("/")
            return self.route_encoded(coding, "/" + rest)
        if path.startswith("/status/"):
            return self.route_status(path[len("/status/"):])
        if path == "/slow":
            return self.route_slow(query)
        if path == "/trickle":
            return self.route_trickle(query)
        if path == "/big":
            total = int(self.param(query, "mb", 50.0) * MIB)
            return self.stream(big_body(total), total)
        if path == "/big-chunked":
            return self.route_big_chunked(query)
        if path == "/oneline":
            total = int(self.param(query, "mb", 50.0) * MIB)
            return self.stream(oneline_body(total), total)
        if path == "/gzip-bomb":
            return self.route_gzip_bomb(query)
        if path == "/png":
            return self.send_simple(200, PNG_BYTES, content_type="image/png")
        if path == "/short-body":
            return self.route_short_body()
        if path == "/reset":
            return self.route_reset()
        if path == "/never":
            return self.route_never()
        if path == "/headers":
            return self.route_headers()
        if path == "/nul":
            return self.send_simple(200, NUL_PAGE)
        if path == "/latin1":
            return self.send_simple(200, LATIN1_PAGE, content_type="text/html")
        if path == "/deep":
            levels = self.param(query, "levels", 100000, kind=int)
            return self.stream(deep_body(levels), deep_length(levels))
        return self.route_file(path)

    def resolve(self, url_path):
        """Map a URL path to a file under root, or None."""
        rel = posixpath.normpath(unquote(url_path))
        parts = [p for p in rel.split("/") if p and p not in (".", "..")]
        if "\x00" in rel:
            return None
        root = os.path.realpath(self.root)
        full = os.path.realpath(os.path.join(root, *parts))
        if full != root and not full.startswith(root + os.sep):
            return None
        if os.path.isdir(full):
            full = os.path.join(full, "index.html")
        if not os.path.isfile(full):
            return None
        return full

    @staticmethod
    def content_type_for(filename):
        ext = os.path.splitext(filename)[1].lower()
        if ext in (".html", ".htm"):
            return HTML_TYPE
        known = {".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8",
                 ".json": "application/json",
                 ".txt": "text/plain; charset=utf-8",
                 ".svg": "image/svg+xml",
                 ".gz": "application/gzip"}
        if ext in known:
            return known[ext]
        guessed, _ = mimetypes.guess_type(filename)
        return guessed or "application/octet-stream"

    def read_file(self, url_path):
        full = self.resolve(url_path)
        if full is None:
            return None, None
        with open(full, "rb") as fh:
            return fh.read(), self.content_type_for(full)

    def route_file(self, path):
        data, ctype = self.read_file(path)
        if data is None:
            return self.send_error_page(404, "No such page: " + path)
        # A file FILE.headers beside FILE adds its "Name: value" lines to the response, so a test
        # can change a page's headers between requests.
        extra = []
        full = self.resolve(path)
        if full and os.path.isfile(full + ".headers"):
            with open(full + ".headers", encoding="utf-8") as fh:
                for line in fh:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        extra.append((name.strip(), value.strip()))
        self.send_simple(200, data, content_type=ctype, headers=extra)

    def route_redirect(self, rest):
        try:
            n = int(rest)
        except ValueError:
            return self.send_error_page(404, "Expected /redirect/N")
        if n < 0:
            return self.send_error_page(404, "Expected /redirect/N with N >= 0")
        self.redirect("/redirect/%d" % (n - 1) if n > 0 else "/index.html")

    def route_redirect_to(self, query):
        url = (query.get("url") or [""])[0]
        if not url or "\r" in url or "\n" in url:
            raise BadRequest("url= is required and must not contain CR/LF")
        self.redirect(url)

    def route_gzip(self, rest):
        data, ctype = self.read_file(rest)
        if data is None:
            return self.send_error_page(404, "No such page: " + rest)
        headers = [("Vary", "Accept-Encoding")]
        if accepts_gzip(self.headers.get("Accept-Encoding", "")):
            data = gzip_bytes(data)
            headers.append(("Content-Encoding", "gzip"))
        self.send_simple(200, data, content_type=ctype, headers=headers)

    def route_status(self, rest):
        try:
            code = int(rest)
        except ValueError:
            return self.send_error_page(404, "Expected /status/<code>")
        if not 200 <= code <= 599:
            raise BadRequest("status code must be 200-599")
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Status %d" % code
        self.send_response(code, phrase)
        if code in (204, 304):  # no body allowed
            self.end_headers()
            return
        body = simple_page("%d %s" % (code, phrase), "Status route")
        self.send_header("Content-Type", HTML_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.write_body(body)

    def route_encoded(self, coding, rest):
        full = self.resolve(rest)
        if full is None:
            return self.send_error_page(404)
        with open(full, "rb") as f:
            data = f.read()
        if coding == "deflate":
            body = zlib.compress(data)
        elif coding in ("br", "zstd"):
            import subprocess
            cmd = ["brotli", "-c"] if coding == "br" else ["zstd", "-q", "-c"]
            body = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True).stdout
        else:
            raise BadRequest("unknown coding: %r" % coding)
        self.send_simple(200, body, headers=(("Content-Encoding", coding),))

    def route_slow(self, query):
        seconds = self.param(query, "seconds", 10.0)
        if STOPPING.wait(seconds):
            self.close_connection = True
            return
        self.send_simple(200, simple_page("Slow", "Waited %g seconds." % seconds))

    def route_trickle(self, query):
        seconds = int(self.param(query, "seconds", 30.0))
        body = simple_page("Trickle", "t" * 1000)[:1000]
        body = body.ljust(1000, b" ")
        self.send_response(200)
        self.send_header("Content-Type", HTML_TYPE)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.close_connection = True
        if self.head_only:
            return
        for i in range(min(seconds, 1000)):
            self.wfile.write(body[i:i + 1])
            if STOPPING.wait(1.0):
                return

    def route_big_chunked(self, query):
        total = int(self.param(query, "mb", 50.0) * MIB)
        self.send_response(200)
        self.send_header("Content-Type", HTML_TYPE)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.head_only:
            return
        for chunk in big_body(total):
            if STOPPING.is_set():
                self.close_connection = True
                return
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def route_gzip_bomb(self, query):
        total = int(self.param(query, "mb", 2048.0) * MIB)
        self.stream(bomb_stream(total), bomb_length(total),
                    headers=(("Content-Encoding", "gzip"),))

    def route_short_body(self):
        self.send_response(200)
        self.send_header("Content-Type", HTML_TYPE)
        self.send_header("Content-Length", "10000")
        self.end_headers()
        self.close_connection = True
        self.write_body(simple_page("Short", "s" * 200)[:100])

    def route_reset(self):
        body = simple_page("Reset", "r" * 2000)[:2000]
        self.send_response(200)
        self.send_header("Content-Type", HTML_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        if self.head_only:
            return
        self.wfile.write(body[:len(body) // 2])
        self.wfile.flush()
        conn = self.connection
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # close() would be deferred while rfile still references the socket,
        # so detach the descriptor and close it ourselves: linger 0 -> RST.
        os.close(conn.detach())

    def route_never(self):
        self.close_connection = True
        STOPPING.wait(120)

    def route_headers(self):
        lines = [self.requestline] + ["%s: %s" % (k, v) for k, v in self.headers.items()]
        body = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>Request headers</title></head>\n<body>\n<h1>Request headers</h1>\n"
                "<pre id=\"request-headers\">\n" + html.escape("\n".join(lines)) +
                "\n</pre>\n</body></html>\n").encode("utf-8")
        self.send_simple(200, body, headers=(
            ("Content-Security-Policy", "default-src 'self'"),
            ("Set-Cookie", "sid=abc; Path=/"),
            ("Set-Cookie", "_ga=GA1.1; Path=/"),
        ))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64
    verbose = False

    def server_bind(self):
        # HTTPServer.server_bind() calls socket.getfqdn(), a reverse DNS
        # lookup that can stall for seconds in sandboxes; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout)) and not self.verbose:
            return
        super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback HTTP test server for tagwatch.")
    ap.add_argument("--root", required=True, help="directory to serve files from")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--log-requests", action="store_true", help="print REQ <in-flight> <path> to stdout per request")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM), e.g. a self-signed one")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = ap.parse_args(argv)

    if not os.path.isdir(args.root):
        ap.error("--root is not a directory: %s" % args.root)

    Handler.root = os.path.realpath(args.root)
    Handler.verbose = args.verbose
    global LOG_REQUESTS
    LOG_REQUESTS = args.log_requests
    Server.verbose = args.verbose

    try:
        server = Server(("127.0.0.1", args.port), Handler)
    except OSError as exc:
        sys.stderr.write("testserver: cannot listen on 127.0.0.1:%d: %s\n" % (args.port, exc))
        return 1

    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)

    def stop(signum, frame):
        STOPPING.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent that runs with these signals blocked (test runners often do) passes its mask on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    sys.stdout.write("PORT %d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        STOPPING.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
