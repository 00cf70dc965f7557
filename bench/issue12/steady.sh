#!/usr/bin/env bash
# Issue 12, steady state: `scan` against `run --once` (first cycle, second, third) on the
# generated site over HTTP, for one or more builds, alternated round by round.
#   bench/issue12/steady.sh [--assets] [--rounds N] [--port P] NAME=BINARY...
# --assets also serves the site's first-party scripts (/assets/*.js, which bench/gen_site.py
# names but does not write), so followed scripts answer 200 and then 304 as on a real site.
# Prints one line per measurement: NAME round measure wall_s user_s sys_s maxrss_kb pages/s.
# Needs the site in bench/out/site (python3 bench/gen_site.py --out bench/out/site --n 1000 --seed 42).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
assets=0; rounds=2; port=18833
while [ $# -gt 0 ]; do
  case "$1" in
    --assets) assets=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--assets] [--rounds N] [--port P] NAME=BINARY..." >&2; exit 2; }
site="$top/bench/out/site"
out="$top/bench/out/issue12-steady"
mkdir -p "$out"
if [ "$assets" = 1 ]; then
  # One deterministic script per first-party asset the pages name (4-16 KB each).
  python3 - "$site" <<'PY'
import os, re, sys, hashlib
site = sys.argv[1]
names = set()
for f in os.listdir(site + "/pages"):
    names.update(re.findall(r'src="(/assets/[A-Za-z0-9._-]+\.js)"', open(site + "/pages/" + f, encoding="utf-8").read()))
for n in sorted(names):
    p = site + n
    os.makedirs(os.path.dirname(p), exist_ok=True)
    if os.path.exists(p):
        continue
    h = hashlib.sha256(n.encode()).hexdigest()
    body = "/* %s */\n" % n + "".join("function f%s_%d(a){return a+%d;}\n" % (h[:8], i, i) for i in range(100 + int(h[:2], 16) * 2))
    open(p, "w").write(body)
print("assets:", len(names), file=sys.stderr)
PY
else
  rm -rf "$site/assets"
fi
export ALL_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost,::1
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy
trap 'bench/serve stop "$out/nginx"' EXIT
bench/serve start "$site" "$port" "$out/nginx"
sed "s#^#http://127.0.0.1:$port#" "$site/paths.txt" > "$out/urls.txt"
mapfile -t urls < "$out/urls.txt"
n=${#urls[@]}
curl -s --parallel --parallel-max 32 $(printf -- '-o /dev/null %s ' "${urls[@]}") > /dev/null 2>&1 || true

config() {  # config DIR: bench/run's (c) config with its state in DIR
  {
    echo "targets:"
    sed 's#^#  - url: #' "$out/urls.txt"
    echo "first_party: [example.com]"
    echo "rules: $top/rules"
    echo "registry: $top/rules/approved.example.yaml"
    echo "state: $1/state.sqlite"
    echo "alerts:"
    echo "  log: $1/alerts.log"
    echo "  feed: $1/feed.json"
    echo "  feed_title: tagwatch benchmark"
  } > "$1/tagwatch.yaml"
}

measure() {  # measure NAME ROUND WHAT CMD...
  local name=$1 round=$2 what=$3; shift 3
  /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" > "$out/$name-$what.out" 2> "$out/$name-$what.err" || true
  read -r wall user sys rss < "$out/time"
  echo "$name $round $what $wall $user $sys $rss $(python3 -c "print(round($n/$wall))")"
}

for round in $(seq "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*}; bin=${spec#*=}
    run="$out/run-$name"
    rm -rf "$run"; mkdir -p "$run"; config "$run"
    measure "$name" "$round" scan "$bin" scan --format json --rules rules --first-party example.com "${urls[@]}"
    measure "$name" "$round" run1 "$bin" run --once --config "$run/tagwatch.yaml"
    measure "$name" "$round" run2 "$bin" run --once --config "$run/tagwatch.yaml"
    measure "$name" "$round" run3 "$bin" run --once --config "$run/tagwatch.yaml"
  done
done
