"""Reads a JSON Feed with a real feed client (feedparser-rs) and prints what it read, as JSON.

The client escapes titles as HTML (& becomes &amp;); they are unescaped back for comparison.
"""
import html
import json
import sys

import feedparser_rs

with open(sys.argv[1], "rb") as f:
    d = feedparser_rs.parse(f.read())
print(json.dumps({
    "version": d.version,
    "bozo": bool(d.bozo),
    "title": d.feed.title,
    "entries": [{"id": e.id, "title": html.unescape(e.title), "published": str(e.published)} for e in d.entries],
}))
