#!/usr/bin/env python3
"""bench/scale's table (Markdown) from the files it left in bench/out/scale/results*/, and
results.json beside them: python3 bench/scale_report.py RESULTS_DIR "1000 10000 100000"."""
import json, os, re, sys, time
res, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split()]

def timing(name):
    p = os.path.join(res, name + ".time")
    if not os.path.exists(p):
        return None
    last = [l for l in open(p).read().splitlines() if l and l[0].isdigit()][-1].split()
    rc = open(os.path.join(res, name + ".rc")).read().strip()
    return {"wall": float(last[0]), "cpu": float(last[1]) + float(last[2]), "rss_mib": int(last[3]) / 1024, "rc": int(rc)}

rows, out = [], {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "nproc": os.cpu_count(), "sizes": {}}
print("| pages | measure | wall s | pages/s | CPU s | peak RSS MiB | state MiB (+WAL) | notes |")
print("|---:|---|---:|---:|---:|---:|---:|---|")
for n in sizes:
    figs = {}
    for key, label in (("run1", "run --once, first cycle"), ("run2", "run --once, steady state"),
                       ("run3", "run --once, steady state again"), ("scan", "scan --targets-from, JSON to wc -c")):
        t = timing(f"{key}-{n}")
        if not t:
            continue
        t["pages_per_s"] = n / t["wall"] if t["wall"] else None
        note = ""
        if key.startswith("run"):
            first = (open(os.path.join(res, f"{key}-{n}.out")).read().splitlines() or [""])[0]
            m = re.search(r"(\d+) pages, (\d+) failed, (\d+) resources; (\d+) alerts raised, (\d+) resolved; (\d+) open", first)
            if m:
                t.update(pages=int(m[1]), failed=int(m[2]), resources=int(m[3]), raised=int(m[4]), resolved=int(m[5]), open=int(m[6]))
                note = f"{m[1]} pages, {m[2]} failed, {int(m[3]):,} resources; {m[4]} raised, {m[6]} open"
            st, wal = (int(x) for x in open(os.path.join(res, f"{key}-{n}.state")).read().split())
            t.update(state_bytes=st, wal_bytes=wal)
            state = f"{st / 2**20:,.1f} (+{wal / 2**20:,.1f})"
        else:
            t["output_bytes"] = int(open(os.path.join(res, f"scan-{n}.out")).read().strip() or 0)
            note = f"{t['output_bytes'] / 2**20:,.0f} MiB of JSON"
            state = ""
        note += f" (exit {t['rc']})"
        figs[key] = t
        print(f"| {n:,} | {label} | {t['wall']:.1f} | {t['pages_per_s']:,.0f} | {t['cpu']:.1f} | {t['rss_mib']:.1f} | {state} | {note} |")
    out["sizes"][str(n)] = figs
print()
# Linearity: wall and CPU seconds per 1,000 pages at each size (the same at every size = linear;
# CPU seconds move less than wall time on a shared machine).
for key, label in (("run1", "first cycle"), ("run2", "steady state"), ("run3", "steady state again"), ("scan", "scan")):
    per = [(n, out["sizes"][str(n)][key]) for n in sizes if key in out["sizes"][str(n)]]
    if per:
        print(f"- {label}, per 1,000 pages: " + ", ".join(
            f"{t['wall'] / n * 1000:.2f} s wall / {t['cpu'] / n * 1000:.2f} s CPU at {n:,}" for n, t in per))
big = max(sizes)
fig = out["sizes"][str(big)]
goals = []
for key in ("run1", "run2", "run3"):
    if key in fig:
        goals.append((f"run --once ({key}) at {big:,} pages: peak RSS {fig[key]['rss_mib']:.1f} MiB < 128 MiB", fig[key]["rss_mib"] < 128))
scans = [(n, out["sizes"][str(n)]["scan"]["rss_mib"]) for n in sizes if "scan" in out["sizes"][str(n)]]
if len(scans) > 1:
    lo, hi = scans[0], scans[-1]
    goals.append((f"scan peak RSS flat: {lo[1]:.1f} MiB at {lo[0]:,} pages, {hi[1]:.1f} MiB at {hi[0]:,} ({hi[1] / lo[1]:.2f}x)", hi[1] / lo[1] < 1.25))
print()
for text, ok in goals:
    print(f"- {'met' if ok else '**MISSED**'}: {text}")
out["goals"] = [{"goal": t, "met": ok} for t, ok in goals]
json.dump(out, open(os.path.join(res, "results.json"), "w"), indent=1)
