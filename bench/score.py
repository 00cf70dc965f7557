#!/usr/bin/env python3
"""Scores vendor detections against a generator's truth.json.

    score.py TRUTH.json DETECTIONS.json [--map shared] [--limit N] [--label NAME] [--json]

DETECTIONS is either `tagwatch scan --format json` output ({"pages": [...]}) or the
competitor harness's output ({"pages": {"/pages/00001.html": ["vendor-id", ...]}}).
Pages are matched by URL path. Vendor recall counts (page, vendor) pairs of the truth that
were reported; a false positive is a reported (page, vendor) pair the truth does not have,
and a decoy false positive is one whose vendor is among that page's decoys.

--map shared reads /work/shared/bench/gen_site.py's truth format (its own vendor keys,
mapped to catalog ids below). Only vendors the truth knows are scored for it: a reported
vendor outside the truth's vendor list (e.g. the social plugins a shared-site decoy could
trigger) still counts as a false positive.
"""
import argparse
import json
import sys
from urllib.parse import urlsplit

# /work/shared/bench/gen_site.py vendor keys -> catalog ids (rules/vendors).
SHARED_MAP = {
    "gtm": "google-tag-manager", "ga": "google-analytics", "meta_pixel": "meta-pixel",
    "linkedin_insight": "linkedin-insight", "hotjar": "hotjar", "hubspot": "hubspot", "segment": "segment",
    "ms_clarity": "microsoft-clarity", "bing_uet": "microsoft-advertising-uet", "tiktok_pixel": "tiktok-pixel",
    "x_pixel": "x-pixel", "doubleclick": "google-campaign-manager-360", "quantcast": "quantcast-measure",
    "intercom": "intercom", "onetrust": "onetrust", "recaptcha": "google-recaptcha", "stripe": "stripe-js",
    "google_fonts": "google-fonts", "cdnjs": "cdnjs", "jsdelivr": "jsdelivr", "youtube": "youtube", "vimeo": "vimeo",
}
# Social decoys of the shared site carry no vendor key: what a tool would wrongly call them.
SHARED_SOCIAL = {"facebook.com": "facebook-social-plugins", "linkedin.com": "linkedin-plugins",
                 "twitter.com": "twitter-widgets", "x.com": "twitter-widgets", "youtube.com": "youtube",
                 "instagram.com": "instagram-embeds"}


def load_truth(path, mapping):
    doc = json.load(open(path, encoding="utf-8"))
    pages = {}
    for p, t in doc["pages"].items():
        if mapping == "shared":
            vendors = {SHARED_MAP[v] for v in t["vendors"]}
            decoys = set()
            for d in t["decoys"]:
                if "vendor" in d:
                    decoys.add(SHARED_MAP[d["vendor"]])
                elif "url" in d:
                    host = urlsplit(d["url"]).hostname or ""
                    for dom, v in SHARED_SOCIAL.items():
                        if host == dom or host.endswith("." + dom):
                            decoys.add(v)
        else:
            vendors = set(t["vendors"])
            decoys = {d["vendor"] for d in t["decoys"] if d.get("vendor")}
        pages[p] = (vendors, decoys)
    return pages


def load_detections(path):
    doc = json.load(open(path, encoding="utf-8"))
    found = {}
    if isinstance(doc["pages"], dict):
        for p, vs in doc["pages"].items():
            found[p] = set(vs)
        return found, {}
    errors = {}
    for page in doc["pages"]:
        url = page.get("url") or page.get("target")
        p = urlsplit(url).path
        if page.get("error"):
            errors[p] = page["error"]
        found[p] = {r["vendor"]["id"] for r in page.get("resources", []) if r.get("vendor")}
    return found, errors


def score(truth, found, only=None):
    paths = [p for p in truth if p in found] if only is None else only
    want = got = 0
    fp, decoy_fp, missed = [], [], []
    for p in paths:
        vendors, decoys = truth[p]
        seen = found.get(p, set())
        want += len(vendors)
        got += len(vendors & seen)
        for v in sorted(vendors - seen):
            missed.append((p, v))
        for v in sorted(seen - vendors):
            fp.append((p, v))
            if v in decoys:
                decoy_fp.append((p, v))
    return {"pages": len(paths), "pairs": want, "found": got, "recall": (got / want) if want else 1.0,
            "false_positives": len(fp), "decoy_false_positives": len(decoy_fp),
            "missed_examples": missed[:5], "fp_examples": fp[:5]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("detections")
    ap.add_argument("--map", choices=["own", "shared"], default="own")
    ap.add_argument("--label", default="")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    truth = load_truth(a.truth, a.map)
    found, errors = load_detections(a.detections)
    s = score(truth, found)
    s["errors"] = len(errors)
    s["label"] = a.label
    if a.json:
        print(json.dumps(s))
    else:
        print(f"{a.label or a.detections}: {s['pages']} pages, recall {s['recall']:.4f} ({s['found']}/{s['pairs']}), "
              f"false positives {s['false_positives']} (from decoys {s['decoy_false_positives']}), errors {s['errors']}")
        for p, v in s["missed_examples"]:
            print(f"  missed {v} on {p}")
        for p, v in s["fp_examples"]:
            print(f"  false positive {v} on {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
