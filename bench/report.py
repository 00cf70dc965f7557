#!/usr/bin/env python3
"""Prints bench/run's table (Markdown) from the files it left in bench/out/results/,
and writes results.json beside them."""
import argparse
import json
import os
import platform
import time


def read(res, name, default=None):
    path = os.path.join(res, name)
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def read_json(res, name):
    text = read(res, name)
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def timing(res, name):
    """(wall s, cpu s, peak RSS MiB, exit code) of a measured command."""
    t = read(res, name + ".time")
    rc = read(res, name + ".rc")
    if not t:
        return None
    # GNU time may put a "Command exited with non-zero status" line first.
    last = [l for l in t.strip().splitlines() if l and l[0].isdigit()][-1].split()
    wall, user, sys_, rss = float(last[0]), float(last[1]), float(last[2]), int(last[3])
    return {"wall": wall, "cpu": user + sys_, "rss_mib": rss / 1024, "rc": int(rc) if rc else None}


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "model": model, "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "kernel": platform.release()}


def fmt(x, digits=1):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("res")
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--small", type=int, required=True)
    ap.add_argument("--subset", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    a = ap.parse_args()
    res = a.res
    m = machine()
    gen = read_json(res, "gen.json") or {}
    out = {"machine": m, "pages": a.pages, "seed": a.seed, "site": gen}
    lines = [f"## tagwatch benchmark: {a.pages} pages, seed {a.seed}",
             "",
             f"Machine: {m['nproc']} cores, {m['model']}, kernel {m['kernel']}, {m['date']}. "
             f"Site: {gen.get('pages', '?')} pages, {fmt(gen.get('avg_kb'))} KB on average, "
             f"{fmt(gen.get('total_bytes', 0) / 1e6)} MB in all, served by nginx on 127.0.0.1 (keep-alive).",
             ""]

    # Throughput table.
    rows = []
    curl = timing(res, "curl")
    if curl:
        ok = sum(1 for l in (read(res, "curl.out") or "").split() if l == "200")
        curl.update(pages=ok, note=f"{ok} HTTP 200 of {a.pages}")
    scans = {}
    for key, n in (("scan", a.pages), ("scan-nofollow", a.pages), ("scan-small", a.small), ("shared", None)):
        t = timing(res, key)
        doc = read_json(res, key + ".out")
        if t and doc:
            errors = sum(1 for p in doc["pages"] if p.get("error"))
            t.update(pages=len(doc["pages"]), note=f"{errors} errors, exit {t['rc']}")
        scans[key] = t
    runs = {}
    for key in ("run1", "run2", "run3", "run1-nointegrity"):
        t = timing(res, key)
        if t:
            summary = (read(res, key + ".out") or "").strip().splitlines()
            t.update(pages=a.pages, note=(summary[0] if summary else "") + f" (exit {t['rc']})")
        runs[key] = t
    parse = read_json(res, "parse.out")
    extract = read_json(res, "extract.out")
    lookup = read_json(res, "lookup.out")

    def rate(t):
        return t["pages"] / t["wall"] if t and t.get("wall") else None

    lines += ["| measure | pages | wall s | pages/s | CPU s (user+sys) | peak RSS MiB | notes |",
              "|---|---:|---:|---:|---:|---:|---|"]

    def row(label, t):
        if not t:
            lines.append(f"| {label} | n/a | | | | | missing |")
            return
        lines.append(f"| {label} | {t['pages']} | {t['wall']:.2f} | {rate(t):,.0f} | {t['cpu']:.2f} | "
                     f"{t['rss_mib']:.1f} | {t.get('note', '')} |")
        rows.append({"measure": label, **t, "pages_per_s": rate(t)})

    row("(a) curl --parallel --parallel-max 32 (fetch ceiling)", curl)
    row("(b) tagwatch scan --format json (median of 3)", scans["scan"])
    row("(b) tagwatch scan --no-follow --format json (median of 3)", scans["scan-nofollow"])
    row(f"(b) tagwatch scan --format json, {a.small} pages", scans["scan-small"])
    row("(c) tagwatch run --once, first cycle (empty state; median of 3)", runs["run1"])
    row("(c) tagwatch run --once, second cycle (same state)", runs["run2"])
    row("(c) tagwatch run --once, steady state: cycles 3-5, unchanged site (median)", runs["run3"])
    row("(c') tagwatch run --once, first cycle, integrity records off", runs["run1-nointegrity"])
    if parse:
        lines.append(f"| (d) libxml2 parse ceiling, {parse['threads']} threads, in memory | {parse['pages']} | "
                     f"{parse['best_seconds']:.2f} | {parse['pages_per_s']:,.0f} | | | best of {parse['rounds']}, "
                     f"{parse['mb_per_s']:.0f} MB/s, CPU use {parse['cpu_utilisation']:.2f} of {parse['threads']} |")
    lines.append("")
    ratios = {}
    b = rate(scans["scan"])
    if b and parse:
        ratios["b_over_d"] = b / parse["pages_per_s"]
    if b and curl:
        ratios["b_over_a"] = b / rate(curl)
    c = rate(runs["run1"])
    if c and parse:
        ratios["c_over_d"] = c / parse["pages_per_s"]
    if c and b:
        ratios["c_over_b"] = c / b
    steady = rate(runs["run3"])
    if steady and b:
        ratios["steady_over_b"] = steady / b
    names = {"b_over_d": "scan/(d)", "b_over_a": "scan/(a)", "c_over_d": "first cycle/(d)", "c_over_b": "first cycle/scan",
             "steady_over_b": "steady state/scan"}
    lines.append("Ratios (pages/s over pages/s): " + ", ".join(f"{names.get(k, k)} = {v:.2f}" for k, v in ratios.items()))
    if runs["run1"] and runs["run1-nointegrity"]:
        lines.append(f"Integrity records on every page: run --once {rate(runs['run1']):,.0f} pages/s, "
                     f"{rate(runs['run1-nointegrity']):,.0f} without ({rate(runs['run1']) / rate(runs['run1-nointegrity']):.2f} of it).")
    if scans["scan"] and scans["scan-nofollow"]:
        lines.append(f"Following scripts: scan {rate(scans['scan']):,.0f} pages/s with it, {rate(scans['scan-nofollow']):,.0f} without "
                     f"(costs {1 - rate(scans['scan']) / rate(scans['scan-nofollow']):.1%} of scan pages/s).")
    if scans["scan"] and scans["scan-small"]:
        lines.append(f"Peak RSS of (b): {scans['scan-small']['rss_mib']:.1f} MiB at {a.small} pages, "
                     f"{scans['scan']['rss_mib']:.1f} MiB at {a.pages} pages.")
    if extract:
        lines.append(f"Extraction on one core: bare libxml2 parse {extract['parse_pages_per_s']:,.0f} pages/s, "
                     f"Extractor + Detector {extract['extract_detect_pages_per_s']:,.0f} pages/s: ratio "
                     f"**{extract['ratio']:.2f}** (target 0.9).")
    if lookup:
        lines.append(f"Catalog lookup: {lookup['real_ns_per_lookup']:.0f} ns with the real catalog "
                     f"({lookup['real_vendors']} vendors), {lookup['synthetic_ns_per_lookup']:.0f} ns with "
                     f"{lookup['synthetic_vendors']:,} generated vendors ({lookup['queries']:,} lookups, 3 in 4 hits).")
    lines.append("")

    # Accuracy and the competitors.
    lines += ["| tool | pages | pages/s | recall | false positives | from decoys | notes |",
              "|---|---:|---:|---:|---:|---:|---|"]
    acc = []
    tw_all = read_json(res, "score-tagwatch.json")
    tw_sub = read_json(res, "score-tagwatch-subset.json")
    if tw_all:
        lines.append(f"| tagwatch (b), all pages | {tw_all['pages']} | {fmt(b, 0)} | {tw_all['recall']:.4f} | "
                     f"{tw_all['false_positives']} | {tw_all['decoy_false_positives']} | {tw_all['found']}/{tw_all['pairs']} (page, vendor) pairs |")
        acc.append({"tool": "tagwatch", **tw_all})
    if tw_sub:
        lines.append(f"| tagwatch (b), first {a.subset} pages | {tw_sub['pages']} | {fmt(b, 0)} | {tw_sub['recall']:.4f} | "
                     f"{tw_sub['false_positives']} | {tw_sub['decoy_false_positives']} | |")
    fastest = None
    for line in (read(res, "competitors.jsonl") or "").splitlines():
        c = json.loads(line)
        acc.append(c)
        if "error" in c:
            lines.append(f"| {c['tool']} | | | | | | failed: {c['error']} |")
            continue
        fastest = max(fastest or 0, c["pages_per_s"])
        note = ""
        if c.get("unmapped_names"):
            note = "not vendors: " + ", ".join(c["unmapped_names"][:6])
        if "blocked_unattributed" in c:
            note = f"EasyList + EasyPrivacy shipped in the wheel; {c['blocked_unattributed']} blocked URLs of no vendor"
        lines.append(f"| {c['tool']} | {c['pages']} | {c['pages_per_s']:,.1f} | {c['recall']:.4f} | "
                     f"{c['false_positives']} | {c['decoy_false_positives']} | {note} |")
    shared = read_json(res, "score-shared.json")
    if shared and "skipped" not in shared:
        t = scans.get("shared")
        lines.append(f"| tagwatch on /work/shared/bench's site (folder scan) | {shared['pages']} | {fmt(rate(t), 0)} | "
                     f"{shared['recall']:.4f} | {shared['false_positives']} | {shared['decoy_false_positives']} | "
                     f"missed e.g. {', '.join(v for _, v in shared['missed_examples'][:3]) or 'none'} |")
    elif shared:
        lines.append(f"| tagwatch on /work/shared/bench's site | | | | | | skipped: {shared['skipped']} |")
    lines.append("")

    # Targets: the goals of issue 12 (and the recall goals), each with its figure.
    targets = []
    if b and parse:
        targets.append((f"scan over the parse ceiling ≥ 0.8 ({b:,.0f} / {parse['pages_per_s']:,.0f} pages/s: {b / parse['pages_per_s']:.2f})",
                        b / parse["pages_per_s"] >= 0.8))
    if extract:
        targets.append((f"Extractor + Detector over bare parse on one core ≥ 0.9 ({extract['ratio']:.2f})", extract["ratio"] >= 0.9))
    first = rate(runs["run1"])  # (`c` is reused by the competitors' loop above)
    if b and first:
        targets.append((f"run --once first cycle over scan ≥ 0.8 ({first:,.0f} / {b:,.0f} pages/s: {first / b:.2f})", first / b >= 0.8))
    if b and steady:
        targets.append((f"run --once steady state (median of cycles 3-5) over scan ≥ 0.8 ({steady:,.0f} / {b:,.0f} pages/s: {steady / b:.2f})",
                        steady / b >= 0.8))
        targets.append((f"run --once steady state ≥ 3x scan ({steady / b:.2f}x)", steady / b >= 3))
    if b and fastest:
        targets.append((f"scan ≥ 5x the fastest other tool, braveblock ({b:,.0f} vs {fastest:,.1f} pages/s: {b / fastest:.1f}x)", b >= 5 * fastest))
    if scans["scan"] and scans["scan-small"]:
        lo, hi = scans["scan-small"]["rss_mib"], scans["scan"]["rss_mib"]
        targets.append((f"scan peak RSS under 64 MiB and flat ({lo:.1f} MiB at {a.small} pages, {hi:.1f} MiB at {a.pages}: "
                        f"{hi / lo:.2f}x)", hi < 64 and hi / lo < 1.25))
    if tw_all:
        targets.append((f"recall ≥ 0.99 ({tw_all['recall']:.4f})", tw_all["recall"] >= 0.99))
        targets.append((f"no false positive from decoys ({tw_all['decoy_false_positives']})", tw_all["decoy_false_positives"] == 0))
    lines.append("Targets:")
    for text, ok in targets:
        lines.append(f"- {'met' if ok else '**MISSED**'}: {text}")

    # The same goals on the shared site served over HTTP (when bench/run measured it).
    shared_targets = []
    sh = {k: timing(res, "shared-" + k) for k in ("scan", "scan-nofollow", "run1", "run2", "run3")}
    sh_parse, sh_extract = read_json(res, "shared-parse.out"), read_json(res, "shared-extract.out")
    if sh["scan"]:
        sh_doc = read_json(res, "shared-scan.out")
        n = len(sh_doc["pages"]) if sh_doc else a.pages
        for t in sh.values():
            if t:
                t["pages"] = n
        lines += ["", "The shared site (/work/shared/bench/gen_site.py, same pages and seed) served by nginx on 127.0.0.1:", "",
                  "| measure | pages | wall s | pages/s | CPU s (user+sys) | peak RSS MiB |", "|---|---:|---:|---:|---:|---:|"]
        for key, label in (("scan", "scan --format json (median of 3)"), ("scan-nofollow", "scan --no-follow --format json (median of 3)"),
                           ("run1", "run --once, first cycle (median of 3)"), ("run2", "run --once, second cycle"),
                           ("run3", "run --once, steady state: cycles 3-5 (median)")):
            t = sh[key]
            if t:
                lines.append(f"| {label} | {t['pages']} | {t['wall']:.2f} | {rate(t):,.0f} | {t['cpu']:.2f} | {t['rss_mib']:.1f} |")
        if sh_parse:
            lines.append(f"| (d) libxml2 parse ceiling, {sh_parse['threads']} threads | {sh_parse['pages']} | "
                         f"{sh_parse['best_seconds']:.2f} | {sh_parse['pages_per_s']:,.0f} | | |")
        lines.append("")
        sb, s1, s3 = rate(sh["scan"]), rate(sh["run1"]), rate(sh["run3"])
        if sb and sh_parse:
            shared_targets.append((f"scan over the parse ceiling ≥ 0.8 ({sb:,.0f} / {sh_parse['pages_per_s']:,.0f} pages/s: "
                                   f"{sb / sh_parse['pages_per_s']:.2f})", sb / sh_parse["pages_per_s"] >= 0.8))
        if sh_extract:
            shared_targets.append((f"Extractor + Detector over bare parse on one core ≥ 0.9 ({sh_extract['ratio']:.2f}: "
                                   f"{sh_extract['cpu_ms_per_page_extract_detect']:.3f} against {sh_extract['cpu_ms_per_page_parse']:.3f} ms a page)",
                                   sh_extract["ratio"] >= 0.9))
        if sb and s1:
            shared_targets.append((f"run --once first cycle over scan ≥ 0.8 ({s1:,.0f} / {sb:,.0f} pages/s: {s1 / sb:.2f})", s1 / sb >= 0.8))
        if sb and s3:
            shared_targets.append((f"run --once steady state ≥ 3x scan ({s3:,.0f} / {sb:,.0f} pages/s: {s3 / sb:.2f}x)", s3 / sb >= 3))
        sh_score = read_json(res, "score-shared-http.json")
        if sh_score:
            shared_targets.append((f"recall ≥ 0.99 over HTTP ({sh_score['recall']:.4f}, {sh_score['false_positives']} false positives)",
                                   sh_score["recall"] >= 0.99))
        lines.append("Targets on the shared site:")
        for text, ok in shared_targets:
            lines.append(f"- {'met' if ok else '**MISSED**'}: {text}")
    out.update(throughput=rows, ratios=ratios, parse=parse, extract=extract, lookup=lookup, accuracy=acc,
               shared=shared, targets=[{"target": t, "met": ok} for t, ok in targets],
               shared_targets=[{"target": t, "met": ok} for t, ok in shared_targets])
    with open(os.path.join(res, "results.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
