#!/usr/bin/env python3
"""Soak test of the daemon: `tagwatch run` against a loopback site for many cycles while pages
change, checking that RSS and open file descriptors stay flat and that the alert log holds
exactly one line per change made.

    python3 bench/soak.py [--cycles 500] [--pages 20] [--bin .build/release/tagwatch]

Cycles are started with SIGUSR1 (a scan now), so 500 cycles take minutes, not days. Every
`--change-every` cycles one page gains or loses an unapproved vendor (Hotjar): each gain must
raise one alert and each loss resolve one. Only 127.0.0.1 is contacted; the loop is bounded.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def page(n, hotjar):
    tag = '<script async src="https://static.hotjar.com/c/hotjar-%d.js?sv=6"></script>' % n if hotjar else ""
    return ('<!doctype html><html><head><title>Page %d</title>'
            '<script async src="https://www.googletagmanager.com/gtm.js?id=GTM-SOAK"></script>%s'
            '</head><body>%s</body></html>' % (n, tag, "<p>text</p>" * 200))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=500)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--change-every", type=int, default=5)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/release/tagwatch"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="tagwatch-soak-")
    site = os.path.join(work, "site")
    os.makedirs(site)
    state = [False] * args.pages
    for i in range(args.pages):
        with open(os.path.join(site, "p%d.html" % i), "w") as f:
            f.write(page(i, False))
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Fixtures/server/testserver.py"),
                               "--root", site, "--port", "0"], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    with open(os.path.join(work, "approved.yaml"), "w") as f:
        f.write("vendors:\n  google-tag-manager: {status: approved}\n")
    with open(os.path.join(work, "tagwatch.yaml"), "w") as f:
        f.write("targets:\n")
        for i in range(args.pages):
            f.write("  - url: http://127.0.0.1:%d/p%d.html\n" % (port, i))
        f.write("first_party: [127.0.0.1]\ninterval: 24h\ntimeout: 10s\nrules: %s\nregistry: approved.yaml\n"
                "state: state.sqlite\nalerts:\n  log: alerts.log\n  feed: feed.json\n  feed_items: 100\n"
                % os.path.join(ROOT, "rules"))
    errlog = open(os.path.join(work, "daemon.log"), "w+")
    daemon = subprocess.Popen([args.bin, "run", "--config", os.path.join(work, "tagwatch.yaml")], stderr=errlog)
    expected_events = 0
    samples = []
    try:
        def finished():
            errlog.flush()
            with open(errlog.name) as f:
                return f.read().count("scan finished")

        deadline = time.time() + 30
        while finished() < 1 and time.time() < deadline:
            time.sleep(0.05)
        for c in range(1, args.cycles + 1):
            if c % args.change_every == 0:
                i = rng.randrange(args.pages)
                state[i] = not state[i]
                with open(os.path.join(site, "p%d.html" % i), "w") as f:
                    f.write(page(i, state[i]))
                expected_events += 1
            before = finished()
            daemon.send_signal(signal.SIGUSR1)
            deadline = time.time() + 60
            while finished() <= before and time.time() < deadline:
                time.sleep(0.01)
            if finished() <= before:
                print("cycle %d did not finish within 60 s" % c, file=sys.stderr)
                return 1
            if c == 1 or c % 50 == 0:
                samples.append((c, rss_kib(daemon.pid), fds(daemon.pid)))
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        server.terminate()
    with open(os.path.join(work, "alerts.log")) as f:
        lines = [l for l in f if l.strip()]
    print("cycle  rss_kib  fds")
    for c, r, n in samples:
        print("%5d  %7d  %3d" % (c, r, n))
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    print("cycles %d, pages %d, changes %d, alert log lines %d, daemon exit %d"
          % (args.cycles, args.pages, expected_events, len(lines), code))
    print("RSS from cycle %d to %d: %+d KiB; fds %d -> %d" % (first[0], last[0], last[1] - first[1], first[2], last[2]))
    ok = len(lines) == expected_events and last[2] <= first[2] and code == 0
    shutil.rmtree(work, ignore_errors=True)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
