#!/usr/bin/env bash
# Alerts raised by the first `tagwatch run --once` on the generated site, grouped by vendor
# (the default) and per page (`alerts: {group_by: page}`, the behaviour before issue 11),
# with rules/approved.example.yaml; then the HTML report of that state: its size and how long
# chromium takes to render it (screenshot of the report minus screenshot of an empty page).
#   bench/alerts.sh [PAGES] [SEED]      (default 1000 42; needs nginx: scripts/install-deps --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
n=${1:-1000}; seed=${2:-42}
out=$top/bench/out/alerts; rm -rf "$out"; mkdir -p "$out"
tw=$top/.build/release/tagwatch
swift build -c release >/dev/null
python3 bench/gen_site.py --out "$out/site" --n "$n" --seed "$seed" >/dev/null
port=$((20000 + RANDOM % 20000))
bench/serve start "$out/site" "$port" "$out/nginx" >/dev/null
trap 'bench/serve stop "$out/nginx" >/dev/null || true' EXIT
for grouping in page vendor; do
  d=$out/$grouping; mkdir -p "$d"
  {
    echo "targets:"
    sed "s#^#  - url: http://127.0.0.1:$port#" "$out/site/paths.txt"
    echo "first_party: [example.com]"
    echo "rules: $top/rules"
    echo "registry: $top/rules/approved.example.yaml"
    echo "state: $d/state.sqlite"
    echo "alerts: {log: $d/alerts.log, feed: $d/feed.json, report: $d/report.html, group_by: $grouping}"
  } > "$d/tagwatch.yaml"
  "$tw" run --once --config "$d/tagwatch.yaml" > "$d/run.txt" || true
  raised=$(grep -c 'event=raised' "$d/alerts.log" || true)
  kinds=$(grep -o 'kind=[a-z-]*' "$d/alerts.log" | sort | uniq -c | awk '{printf "%s %s, ", $1, substr($2, 6)}')
  echo "group_by $grouping: $raised alerts raised on $n pages ($kinds) feed $(stat -c %s "$d/feed.json") B"
done
d=$out/vendor
echo "report: $(stat -c %s "$d/report.html") B, $(grep -c '<tr>' "$d/report.html") table rows"
start=$(date +%s.%N); "$tw" report --config "$d/tagwatch.yaml" --out "$d/report2.html"; end=$(date +%s.%N)
echo "tagwatch report: $(awk "BEGIN{printf \"%.3f\", $end - $start}") s"
if command -v chromium >/dev/null; then
  echo '<!doctype html><title>empty</title>' > "$out/empty.html"
  shot() { chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$out/prof" \
             --window-size=1280,4000 --screenshot="$out/shot.png" "file://$1" >/dev/null 2>&1; }
  shot "$out/empty.html"   # warm up
  for f in empty.html vendor/report.html empty.html vendor/report.html empty.html vendor/report.html; do
    s=$(date +%s.%N); shot "$out/$f"; e=$(date +%s.%N)
    echo "chromium screenshot $f: $(awk "BEGIN{printf \"%.3f\", $e - $s}") s"
  done
fi
