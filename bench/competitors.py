#!/usr/bin/env python3
"""Runs the tools a user might pick instead of tagwatch over the served benchmark site.

    competitors.py --base http://127.0.0.1:PORT --site SITE_DIR --limit 200 --out DIR [--tools ...]

Tools (from PyPI, installed by bench/run in a throwaway virtualenv):
  wappalyzer   python-Wappalyzer: WebPage.new_from_url + Wappalyzer.analyze (its bundled
               technologies.json; no update is fetched)
  webtech      webtech: WebTech.start_from_url (its bundled apps.json, copied into a data
               folder under DIR so it never tries to download a newer one)
  braveblock   braveblock (adblock-rust) with the EasyList and EasyPrivacy copies the package
               ships: each page is fetched (one keep-alive session), its resource URLs are
               collected with html.parser (src/href of script, iframe, img, loading link
               rels, and URL literals in inline JavaScript), and each is checked with
               check_network_urls. A blocked URL is attributed to a vendor id by HOST_VENDORS.

Each tool's technology names are mapped to catalog vendor ids with the tables below; names
no table knows (jQuery, Nginx...) are not vendors and are listed, not scored. Pages run one
after another, as each tool's own API does. Prints one JSON line per tool and writes
DIR/TOOL.json ({"pages": {path: [vendor ids]}}) for score.py.
"""
import argparse
import json
import os
import re
import shutil
import sys
import time
import warnings
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402

# Wappalyzer/webtech technology names -> catalog vendor ids.
TECH_VENDORS = {
    "Google Tag Manager": "google-tag-manager",
    "Google Analytics": "google-analytics",
    "Google Analytics Enhanced eCommerce": "google-analytics",
    "Facebook": "meta-pixel",  # their rule: a connect.facebook.net script, i.e. fbevents.js here
    "Facebook Pixel": "meta-pixel",
    "Meta Pixel": "meta-pixel",
    "LinkedIn Insight Tag": "linkedin-insight",
    "Linkedin": "linkedin-plugins",
    "Hotjar": "hotjar",
    "HubSpot": "hubspot",
    "HubSpot Analytics": "hubspot",
    "Segment": "segment",
    "Microsoft Clarity": "microsoft-clarity",
    "Microsoft Advertising": "microsoft-advertising-uet",
    "Bing Ads": "microsoft-advertising-uet",
    "TikTok Pixel": "tiktok-pixel",
    "Twitter Ads": "x-pixel",
    "X Ads": "x-pixel",
    "Twitter": "twitter-widgets",
    "Intercom": "intercom",
    "OneTrust": "onetrust",
    "reCAPTCHA": "google-recaptcha",
    "Stripe": "stripe-js",
    "Google Font API": "google-fonts",
    "cdnjs": "cdnjs",
    "jsDelivr": "jsdelivr",
    "YouTube": "youtube",
    "Vimeo": "vimeo",
    "DoubleClick Floodlight": "google-campaign-manager-360",
    "DoubleClick Campaign Manager (DCM)": "google-campaign-manager-360",
    "Quantcast Measure": "quantcast-measure",
    "Quantcast": "quantcast-measure",
    "Instagram": "instagram-embeds",
}

# Host suffix (and path prefix) -> vendor id, for URLs the ad blocker blocks. First match wins.
HOST_VENDORS = [
    ("www.googletagmanager.com", "/gtag/", "google-analytics"),
    ("googletagmanager.com", "/", "google-tag-manager"),
    ("google-analytics.com", "/", "google-analytics"),
    ("connect.facebook.net", "/", "meta-pixel"),
    ("www.facebook.com", "/tr", "meta-pixel"),
    ("facebook.com", "/", "facebook-social-plugins"),
    ("snap.licdn.com", "/", "linkedin-insight"),
    ("ads.linkedin.com", "/", "linkedin-insight"),
    ("linkedin.com", "/", "linkedin-plugins"),
    ("hotjar.com", "/", "hotjar"),
    ("hs-scripts.com", "/", "hubspot"),
    ("hsforms.net", "/", "hubspot"),
    ("segment.com", "/", "segment"),
    ("clarity.ms", "/", "microsoft-clarity"),
    ("bat.bing.com", "/", "microsoft-advertising-uet"),
    ("analytics.tiktok.com", "/", "tiktok-pixel"),
    ("ads-twitter.com", "/", "x-pixel"),
    ("analytics.twitter.com", "/", "x-pixel"),
    ("t.co", "/i/adsct", "x-pixel"),
    ("twitter.com", "/", "twitter-widgets"),
    ("x.com", "/", "twitter-widgets"),
    ("intercom.io", "/", "intercom"),
    ("cookielaw.org", "/", "onetrust"),
    ("www.google.com", "/recaptcha/", "google-recaptcha"),
    ("js.stripe.com", "/", "stripe-js"),
    ("fonts.googleapis.com", "/", "google-fonts"),
    ("fonts.gstatic.com", "/", "google-fonts"),
    ("cdnjs.cloudflare.com", "/", "cdnjs"),
    ("cdn.jsdelivr.net", "/", "jsdelivr"),
    ("youtube.com", "/", "youtube"),
    ("youtube-nocookie.com", "/", "youtube"),
    ("player.vimeo.com", "/", "vimeo"),
    ("doubleclick.net", "/", "google-campaign-manager-360"),
    ("quantserve.com", "/", "quantcast-measure"),
    ("instagram.com", "/", "instagram-embeds"),
]

SITE_URL = "https://www.example.com"


def host_vendor(url):
    parts = urlsplit(url)
    host, path = (parts.hostname or "").lower(), parts.path or "/"
    for suffix, prefix, vendor in HOST_VENDORS:
        if (host == suffix or host.endswith("." + suffix)) and path.startswith(prefix):
            return vendor
    return None


class ResourceParser(HTMLParser):
    """The URLs a browser would request for a page: what an ad blocker is asked about."""
    LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch", "icon"}
    INLINE_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:[/?][^\s"'`<>\\)]*)?""")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.urls.append((a["src"], "script"))
            elif (a.get("type") or "text/javascript").lower() in ("text/javascript", "module", "application/javascript"):
                self._script = []
        elif tag in ("iframe", "frame") and a.get("src"):
            self.urls.append((a["src"], "sub_frame"))
        elif tag == "img" and a.get("src"):
            self.urls.append((a["src"], "image"))
        elif tag == "link" and a.get("href"):
            rels = set((a.get("rel") or "").lower().split())
            if "stylesheet" in rels:
                self.urls.append((a["href"], "stylesheet"))
            elif rels & self.LOADING_RELS:
                self.urls.append((a["href"], "other"))

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            for m in self.INLINE_URL.finditer("".join(self._script)):
                self.urls.append((m.group(0), "script"))
            self._script = None


def run_wappalyzer(urls, served):
    from Wappalyzer import Wappalyzer, WebPage
    w = Wappalyzer.latest()
    out = {}
    for path, url in urls:
        out[path] = sorted(w.analyze(WebPage.new_from_url(url)))
    return out


def run_webtech(urls, served, data_dir):
    import webtech
    from webtech import database
    from webtech.utils import Format
    pkg = os.path.dirname(webtech.__file__)
    for name in ("apps.json", "webtech.json"):
        shutil.copyfile(os.path.join(pkg, name), os.path.join(database.DATA_DIR, name))
    w = webtech.WebTech(options={"json": True})
    w.output_format = Format["json"]
    out = {}
    for path, url in urls:
        report = w.start_from_url(url)
        out[path] = sorted({t["name"] for t in report["tech"]})
    return out


def run_braveblock(urls, served):
    import braveblock
    import requests
    blocker = braveblock.Adblocker()
    session = requests.Session()
    out, blocked_unattributed = {}, 0
    for path, url in urls:
        html = session.get(url, timeout=20).text
        p = ResourceParser()
        p.feed(html)
        p.close()
        page_url = SITE_URL + path  # the site's own URL, so first-party requests look first-party
        vendors = set()
        for raw, kind in p.urls:
            absolute = urljoin(page_url, raw)
            if not absolute.startswith("http"):
                continue
            if blocker.check_network_urls(url=absolute, source_url=page_url, request_type=kind):
                v = host_vendor(absolute)
                if v:
                    vendors.add(v)
                else:
                    blocked_unattributed += 1
        out[path] = sorted(vendors)
    return out, blocked_unattributed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="where the site is served, e.g. http://127.0.0.1:18781")
    ap.add_argument("--site", required=True, help="the generated site folder (paths.txt, truth.json)")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tools", default="wappalyzer,webtech,braveblock")
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.makedirs(a.out, exist_ok=True)
    paths = [p.strip() for p in open(os.path.join(a.site, "paths.txt")) if p.strip()][:a.limit]
    urls = [(p, a.base.rstrip("/") + p) for p in paths]
    truth = score.load_truth(os.path.join(a.site, "truth.json"), "own")
    for tool in a.tools.split(","):
        extra = {}
        start = time.perf_counter()
        cpu0 = time.process_time()
        try:
            if tool == "wappalyzer":
                names = run_wappalyzer(urls, a.base)
            elif tool == "webtech":
                names = run_webtech(urls, a.base, a.out)
            elif tool == "braveblock":
                names, extra["blocked_unattributed"] = run_braveblock(urls, a.base)
            else:
                raise SystemExit(f"unknown tool {tool}")
        except Exception as e:  # report and go on with the next tool
            print(json.dumps({"tool": tool, "error": f"{type(e).__name__}: {e}"}), flush=True)
            continue
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        if tool == "braveblock":
            found = {p: set(v) for p, v in names.items()}
            unmapped = []
        else:
            found = {p: {TECH_VENDORS[n] for n in ns if n in TECH_VENDORS} for p, ns in names.items()}
            unmapped = sorted({n for ns in names.values() for n in ns if n not in TECH_VENDORS})
        with open(os.path.join(a.out, f"{tool}.json"), "w") as f:
            json.dump({"pages": {p: sorted(v) for p, v in found.items()}, "names": names}, f, indent=1)
        s = score.score(truth, found)
        print(json.dumps({"tool": tool, "pages": len(urls), "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                          "pages_per_s": round(len(urls) / wall, 2), "recall": round(s["recall"], 4),
                          "false_positives": s["false_positives"], "decoy_false_positives": s["decoy_false_positives"],
                          "unmapped_names": unmapped, **extra}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
