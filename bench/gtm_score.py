#!/usr/bin/env python3
"""Scores tagwatch's container expansion against a set of real GTM containers with expected
domains (the layout of ../shared/gtm-containers: NN-GTM-ID.js[.gz], NN-GTM-ID.page.html[.gz],
expected.json). For each container: the registrable domains of what `tagwatch scan` attributes
to the container's tags (resources whose `via` is the container), found / expected, and the
share of reported domains in neither `domains` nor `also_accepted` (inventions).

usage: bench/gtm_score.py DIR [--tagwatch PATH] [--pages]
  --pages  scan the saved pages (NN-GTM-ID.page.html) instead of the container files
"""
import argparse, glob, gzip, json, os, shutil, subprocess, sys, tempfile

def registrable(host, psl):
    labels = host.strip('.').split('.')
    for i in range(len(labels)):
        cand = '.'.join(labels[i:])
        if ('!' + cand) in psl: return '.'.join(labels[i:])
        if cand in psl or ('*.' + '.'.join(labels[i+1:])) in psl:
            return '.'.join(labels[max(i-1,0):])
    return '.'.join(labels[-2:])

def load_psl():
    rules = set()
    for line in open('/usr/share/publicsuffix/public_suffix_list.dat', encoding='utf-8'):
        line = line.strip()
        if line and not line.startswith('//'): rules.add(line)
    return rules

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir'); ap.add_argument('--tagwatch', default='.build/release/tagwatch')
    ap.add_argument('--rules', default='rules'); ap.add_argument('--pages', action='store_true')
    a = ap.parse_args()
    psl = load_psl()
    expected = json.load(open(os.path.join(a.dir, 'expected.json')))
    tmp = tempfile.mkdtemp(prefix='tagwatch-gtm-')
    tot_exp = tot_found = tot_rep = tot_inv = 0
    hidden = 0
    vendors_html = vendors_inside = 0
    try:
        for name in sorted(expected):
            exp = set(expected[name]['domains']); acc = set(expected[name]['also_accepted'])
            d = os.path.join(tmp, name); os.makedirs(d)
            for f in glob.glob(os.path.join(a.dir, name + '.*')):
                base = os.path.basename(f)
                out = os.path.join(d, base[:-3] if base.endswith('.gz') else base)
                with (gzip.open(f) if f.endswith('.gz') else open(f, 'rb')) as src, open(out, 'wb') as dst:
                    shutil.copyfileobj(src, dst)
            target = os.path.join(d, name + ('.page.html' if a.pages else '.js'))
            if not os.path.exists(target): continue
            r = subprocess.run([a.tagwatch, 'scan', '--rules', a.rules, '--format', 'json', target],
                               capture_output=True, text=True)
            page = json.loads(r.stdout)['pages'][0]
            got = set(); html = set()
            vh = {(r['vendor'] or {}).get('id') for r in page['resources'] if not r.get('via') and r['party'] == 'third'} - {None}
            vi = {(r['vendor'] or {}).get('id') for r in page['resources'] if r.get('via') and r['party'] == 'third'} - {None}
            vendors_html += len(vh); vendors_inside += len(vi - vh)
            for res in page['resources']:
                dom = registrable(res['host'], psl)
                if res.get('via') and res.get('tag') is not None:
                    got.add(dom)
                elif not res.get('via'):
                    html.add(dom)
            # Through a page, a domain its HTML names too counts as found (the page report lists it once).
            found = exp & (got | html) if a.pages else exp & got
            inv = got - exp - acc
            hidden += len(exp - html)
            tot_exp += len(exp); tot_found += len(found); tot_rep += len(got); tot_inv += len(inv)
            print(f"{name}: expected {len(exp)}, found {len(found)}, reported {len(got)}, invented {sorted(inv)}, missed {sorted(exp - got)}")
        print(f"TOTAL recall {tot_found}/{tot_exp} = {tot_found/max(tot_exp,1):.3f}; invented {tot_inv}/{tot_rep} = {tot_inv/max(tot_rep,1):.3f}; "
              f"expected domains absent from the page HTML: {hidden}/{tot_exp}; "
              f"vendors named in the HTML {vendors_html}, vendors seen only inside containers {vendors_inside}")
    finally:
        shutil.rmtree(tmp)

if __name__ == '__main__':
    main()
