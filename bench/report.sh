#!/usr/bin/env bash
# The HTML report at scale: a state of 1,000 pages, 50 vendors and 30 cycles written by
# `tagwatch-bench report-state`, then `tagwatch report` (time, file size) and chromium's
# headless render of it at 1280 px: the time of a screenshot of the report minus that of an
# empty page, over 5 runs each (the difference is the report's parse, style, layout and paint).
#   bench/report.sh [PAGES] [VENDORS] [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
pages=${1:-1000}; vendors=${2:-50}; cycles=${3:-30}
out=$top/bench/out/report; rm -rf "$out"; mkdir -p "$out"
swift build -c release >/dev/null
.build/release/tagwatch-bench report-state "$out/state.sqlite" --pages "$pages" --vendors "$vendors" --cycles "$cycles" --rules rules
printf 'targets:\n  - url: https://www.example.com/\nrules: %s/rules\nregistry: %s/rules/approved.example.yaml\nstate: state.sqlite\nalerts: {feed_title: "Northwind Labs (synthetic state)"}\n' \
  "$top" "$top" > "$out/tagwatch.yaml"
s=$(date +%s.%N); .build/release/tagwatch report --config "$out/tagwatch.yaml" --out "$out/report.html"; e=$(date +%s.%N)
echo "tagwatch report: $(awk "BEGIN{printf \"%.3f\", $e - $s}") s, $(stat -c %s "$out/report.html") bytes"
command -v chromium >/dev/null || { echo "chromium not installed (scripts/install-deps)"; exit 1; }
echo '<!doctype html><title>empty</title>' > "$out/empty.html"
shot() { chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$out/profile" \
           --window-size=1280,2000 --screenshot="$out/shot.png" "file://$1" >/dev/null 2>&1; }
shot "$out/empty.html"
for i in 1 2 3 4 5; do
  s=$(date +%s.%N); shot "$out/empty.html"; m=$(date +%s.%N); shot "$out/report.html"; e=$(date +%s.%N)
  echo "run $i: empty $(awk "BEGIN{printf \"%.3f\", $m - $s}") s, report $(awk "BEGIN{printf \"%.3f\", $e - $m}") s, difference $(awk "BEGIN{printf \"%.3f\", ($e - $m) - ($m - $s)}") s"
done
