#!/usr/bin/env bash
# cmp.sh BIN_A BIN_B : 4 cycles each on a fresh copy of the shared site (port 18972); site changed after cycle 2
# (adapted from r4-steady's round4-cmp.sh; adds `tagwatch inventory` in its forms)
set -u
export ALL_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost,::1
S=/tmp/r5f/st/site2; P=18972
mkdir -p $S
reset_site() { rm -rf $S/pages $S/assets; cp -rp /tmp/m/shared/pages $S/pages; mkdir -p $S/assets/js; echo "console.log(1)" > $S/assets/js/analytics-consent.js; }
change_site() {
  r=$(grep -oh 'src="/assets/js/runtime[^"]*"' $S/pages/0003.html | head -1 | sed 's/src="//;s/"//')
  echo 'var s=document.createElement("script");s.src="https://connect.facebook.net/en_US/fbevents.js";fbq("init","1234567890")' > $S$r
  echo 'gtag("config","G-ABCDEF1234"); console.log(2)' > $S/assets/js/analytics-consent.js
  for p in 0010 0011 0600 0700; do sed -i 's#</head>#<script src="https://static.hotjar.com/c/hotjar-1.js?sv=6"></script><script src="/assets/js/added.js"></script></head>#' $S/pages/$p.html; done
  rm -f $S/pages/0999.html
  sed -i 's#googletagmanager.com#gtm2.example.net#g; s#static.hotjar.com#hj.example.org#g' $S/pages/0020.html
  echo 'console.log("added")' > $S/assets/js/added.js
  touch $S/pages/*.html -d '2026-11-30 10:00' 2>/dev/null; touch $S/pages/0010.html $S/pages/0011.html $S/pages/0600.html $S/pages/0700.html $S/pages/0020.html
}
mask() { sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}(T| )[0-9:.]+Z?/TS/g; s/after [0-9]+ ms/after N ms/g; s/[0-9]{10}\.[0-9]+/EPOCH/g; s/(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]+ [A-Za-z]+ [0-9]+ [0-9:]+ [-+0-9A-Z]+/DATE/g'; }
norm() { sqlite3 $1/state.sqlite .dump | mask | grep -v "INSERT INTO scans" | python3 -c "
import sys,re
for l in sys.stdin:
    l=re.sub(r\"X'[0-9A-Fa-f]+'\",'BLOB',l); l=re.sub(r\",'[0-9a-f]{64}'\\);\\n\",',FP);\\n',l) if 'script_cache' in l else l
    l=re.sub(r\"'[0-9a-f]{64}'\",'HASH',l) if 'fingerprint' in l or 'page_cache' in l else l
    sys.stdout.write(l)"; }
/work/shared/bench/serve-site start $S $P >/dev/null 2>&1
for side in A B; do
  bin=$([ $side = A ] && echo $1 || echo $2); d=/tmp/r5f/st/cmp$side; rm -rf $d; mkdir -p $d
  reset_site
  { echo "targets:"; sed "s#^#  - url: http://127.0.0.1:$P#" /tmp/m/shared/paths.txt; echo "first_party: [example.com]"; echo "rules: /work/main/rules"; echo "registry: /work/main/rules/approved.example.yaml"; echo "state: $d/state.sqlite"; echo "alerts:"; echo "  log: $d/alerts.log"; echo "  feed: $d/feed.json"; } > $d/tw.yaml
  for c in 1 2 3 4; do
    [ $c = 3 ] && change_site
    $bin run --once --config $d/tw.yaml > $d/out$c.txt 2>$d/err$c.txt; echo "exit $?" >> $d/out$c.txt
    norm $d > $d/dump$c.txt
    mask < $d/alerts.log > $d/alerts$c.txt
    mask < $d/feed.json > $d/feed$c.txt
    mask < $d/out$c.txt > $d/outn$c.txt
    { $bin inventory --state $d/state.sqlite; $bin inventory --state $d/state.sqlite --by vendor; $bin inventory --state $d/state.sqlite --format json; $bin inventory --state $d/state.sqlite --by vendor --format json; $bin inventory --state $d/state.sqlite --scripts; } 2>&1 | mask > $d/inv$c.txt
  done
done
/work/shared/bench/serve-site stop $P >/dev/null 2>&1
for c in 1 2 3 4; do for f in dump alerts feed outn inv; do
  if cmp -s /tmp/r5f/st/cmpA/$f$c.txt /tmp/r5f/st/cmpB/$f$c.txt; then echo "cycle $c $f same ($(wc -l < /tmp/r5f/st/cmpA/$f$c.txt) lines)"; else echo "cycle $c $f DIFFERENT"; diff /tmp/r5f/st/cmpA/$f$c.txt /tmp/r5f/st/cmpB/$f$c.txt | head -5 | cut -c1-300; fi
done; done
