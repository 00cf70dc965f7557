#!/usr/bin/env python3
"""Writes a seeded, deterministic marketing site for the benchmark (stdlib only).

The company is the made-up "Northwind Labs" at www.example.com (first party: example.com,
with static.example.com for assets). Each page is 60-150 KB of realistic markup: a head
with meta tags and a large inline stylesheet, a mega-menu, sections of body text, feature
grids, inline SVG icons, a first-party application-state script, a footer, and the
third-party tags a marketing team puts on such a site, in the shapes the vendors publish
them (inline loader snippets, noscript frames and pixels, async scripts, SRI-pinned CDN
libraries, embedded players).

Besides the tags it plants decoys that are NOT tags and must not be reported: footer
social links and share links (anchors), JSON-LD `sameAs`, `<link rel="me">`, old tags
left inside HTML comments, vendor names in prose, and links to vendor websites.

    gen_site.py --out DIR [--n 2000] [--seed 42]

Writes DIR/pages/NNNNN.html, DIR/paths.txt (one URL path a line) and DIR/truth.json:
per page the catalog vendor ids present (with the hosts each one's resources use and the
resources themselves) and the decoys. Vendor ids are those of rules/vendors/*.yaml.
truth.json is for scoring only; the product never reads it. Same --n and --seed, same bytes.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import string

VERSION = "1"
SITE = "www.example.com"
STATIC = "static.example.com"
HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits

# Vendor id (as in rules/vendors) -> display name, for the truth file.
VENDORS = {
    "google-tag-manager": "Google Tag Manager",
    "google-analytics": "Google Analytics",
    "meta-pixel": "Meta Pixel",
    "linkedin-insight": "LinkedIn Insight Tag",
    "hotjar": "Hotjar",
    "hubspot": "HubSpot",
    "segment": "Segment",
    "microsoft-clarity": "Microsoft Clarity",
    "microsoft-advertising-uet": "Microsoft Advertising UET",
    "tiktok-pixel": "TikTok Pixel",
    "x-pixel": "X (Twitter) Pixel",
    "intercom": "Intercom",
    "onetrust": "OneTrust",
    "google-recaptcha": "Google reCAPTCHA",
    "stripe-js": "Stripe.js",
    "google-fonts": "Google Fonts",
    "cdnjs": "cdnjs",
    "jsdelivr": "jsDelivr",
    "youtube": "YouTube",
    "vimeo": "Vimeo",
}

# Page kinds: share of the site, and the chance each vendor's tag is on a page of that kind.
KINDS = {
    "home": (0.01, {"google-tag-manager": 1, "google-analytics": .95, "meta-pixel": .9, "linkedin-insight": .9,
                    "hotjar": .7, "hubspot": .9, "segment": .5, "onetrust": .95, "google-fonts": .9, "cdnjs": .5,
                    "jsdelivr": .5, "youtube": .8, "microsoft-clarity": .3, "microsoft-advertising-uet": .5,
                    "x-pixel": .4, "intercom": .6, "tiktok-pixel": .2}),
    "product": (0.22, {"google-tag-manager": .9, "google-analytics": .85, "meta-pixel": .6, "linkedin-insight": .55,
                       "hotjar": .35, "hubspot": .65, "segment": .35, "onetrust": .7, "google-fonts": .75, "cdnjs": .45,
                       "jsdelivr": .4, "youtube": .45, "vimeo": .15, "microsoft-clarity": .15,
                       "microsoft-advertising-uet": .25, "x-pixel": .15, "intercom": .35, "tiktok-pixel": .05}),
    "pricing": (0.04, {"google-tag-manager": .95, "google-analytics": .9, "meta-pixel": .7, "linkedin-insight": .6,
                       "hubspot": .8, "segment": .4, "onetrust": .8, "google-fonts": .8, "stripe-js": .7,
                       "intercom": .5, "microsoft-advertising-uet": .3, "cdnjs": .3}),
    "blog": (0.36, {"google-tag-manager": .85, "google-analytics": .9, "meta-pixel": .35, "linkedin-insight": .3,
                    "hotjar": .15, "hubspot": .5, "segment": .2, "onetrust": .55, "google-fonts": .8, "cdnjs": .35,
                    "jsdelivr": .3, "youtube": .35, "vimeo": .1, "microsoft-clarity": .12,
                    "microsoft-advertising-uet": .08, "x-pixel": .1, "tiktok-pixel": .04}),
    "landing": (0.18, {"google-tag-manager": .95, "google-analytics": .9, "meta-pixel": .85, "linkedin-insight": .8,
                       "hotjar": .4, "hubspot": .85, "segment": .3, "onetrust": .6, "google-fonts": .6, "cdnjs": .25,
                       "jsdelivr": .25, "youtube": .3, "microsoft-clarity": .2, "microsoft-advertising-uet": .5,
                       "x-pixel": .35, "tiktok-pixel": .2, "google-recaptcha": .45}),
    "docs": (0.12, {"google-tag-manager": .6, "google-analytics": .8, "segment": .3, "onetrust": .4,
                    "google-fonts": .5, "cdnjs": .6, "jsdelivr": .7, "youtube": .1, "intercom": .35, "hotjar": .05}),
    "careers": (0.03, {"google-tag-manager": .8, "google-analytics": .8, "meta-pixel": .3, "linkedin-insight": .75,
                       "onetrust": .6, "google-fonts": .7, "youtube": .5, "vimeo": .25, "google-recaptcha": .35}),
    "contact": (0.02, {"google-tag-manager": .9, "google-analytics": .9, "hubspot": .9, "google-recaptcha": .9,
                       "onetrust": .8, "google-fonts": .7, "intercom": .6, "linkedin-insight": .5}),
    "legal": (0.02, {"google-tag-manager": .7, "google-analytics": .7, "onetrust": .9, "google-fonts": .6}),
}

WORDS = ("pipeline revenue forecast workspace insight customer account team dashboard report metric quota "
         "automation workflow integration sync record contact deal stage territory region partner reseller "
         "secure compliant audit role permission sandbox release roadmap changelog webhook endpoint token "
         "onboarding adoption renewal expansion churn cohort segment funnel attribution campaign channel "
         "launch scale grow measure improve connect share plan build ship learn iterate collaborate review "
         "simple fast reliable flexible modern powerful trusted global every new better clearer easier "
         "the a an and or of to in for with on by from our your their we you it this that more than across "
         "into over without between through while when where how why what who which each most").split()

FONTS = ["Inter", "IBM+Plex+Sans", "Manrope", "DM+Sans", "Nunito+Sans", "Work+Sans", "Rubik"]
CDNJS = [("jquery", "3.7.1", "jquery.min.js"), ("lodash.js", "4.17.21", "lodash.min.js"),
         ("gsap", "3.12.5", "gsap.min.js"), ("dayjs", "1.11.10", "dayjs.min.js"),
         ("highlight.js", "11.9.0", "highlight.min.js"), ("highlight.js", "11.9.0", "styles/github.min.css"),
         ("animate.css", "4.1.1", "animate.min.css"), ("font-awesome", "6.5.1", "css/all.min.css")]
JSDELIVR = [("bootstrap@5.3.3", "dist/js/bootstrap.bundle.min.js"), ("alpinejs@3.13.5", "dist/cdn.min.js"),
            ("chart.js@4.4.1", "dist/chart.umd.min.js"), ("swiper@11", "swiper-bundle.min.css"),
            ("@docsearch/js@3", "dist/umd/index.js"), ("@docsearch/css@3", "dist/style.css"),
            ("mermaid@10.9.0", "dist/mermaid.min.js")]


def token(r, n, alphabet=ALNUM):
    return "".join(r.choice(alphabet) for _ in range(n))


def number(r, n):
    return str(r.randint(1, 9)) + "".join(r.choice(string.digits) for _ in range(n - 1))


def esc(url):
    return url.replace("&", "&amp;")


def host_of(url):
    rest = url.split("//", 1)[1] if "//" in url else url
    return rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].lower()


def account_ids(seed):
    """The company's account ids: the same container, pixel and key on every page."""
    r = random.Random(f"northwind:{seed}:accounts")
    return {
        "gtm": "GTM-" + token(r, 7, string.ascii_uppercase + string.digits),
        "ga4": "G-" + token(r, 10, string.ascii_uppercase + string.digits),
        "ua": "UA-" + number(r, 9) + "-1",
        "fb": number(r, 15),
        "li": number(r, 7),
        "hj": number(r, 7),
        "hs": number(r, 8),
        "seg": token(r, 32),
        "clarity": token(r, 10, LOWER_ALNUM),
        "uet": number(r, 9),
        "tt": token(r, 20, string.ascii_uppercase + string.digits),
        "tw": token(r, 5, LOWER_ALNUM),
        "ic": token(r, 8, LOWER_ALNUM),
        "ot": "-".join(token(r, n, HEX) for n in (8, 4, 4, 4, 12)),
        "recaptcha": "6L" + token(r, 38, ALNUM + "-_"),
        "stripe": "pk_live_" + token(r, 40),
    }


class Page:
    def __init__(self, index, seed, ids):
        self.index = index
        self.r = random.Random(f"northwind:{seed}:page:{index}")
        self.ids = ids
        self.resources = []
        self.decoys = []
        self.first_party = []

    # ---- bookkeeping --------------------------------------------------------------------
    def uses(self, vendor, url, how):
        if url.startswith("//"):
            url = "https:" + url
        self.resources.append({"vendor": vendor, "url": url, "host": host_of(url), "how": how})

    def decoy(self, kind, vendor, detail):
        self.decoys.append({"type": kind, "vendor": vendor, "detail": detail})

    def words(self, lo, hi):
        return " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(lo, hi)))

    def sentence(self, lo=7, hi=20):
        s = self.words(lo, hi)
        return s[0].upper() + s[1:] + self.r.choice(".....?!")

    def paragraph(self):
        return " ".join(self.sentence() for _ in range(self.r.randint(2, 6)))

    # ---- vendor tags, in the shapes the vendors publish ---------------------------------
    def gtm_head(self):
        i = self.ids["gtm"]
        self.uses("google-tag-manager", f"https://www.googletagmanager.com/gtm.js?id={i}", "inline-snippet")
        return ("<!-- Google Tag Manager -->\n"
                "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':\n"
                "new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],\n"
                "j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=\n"
                "'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);\n"
                f"}})(window,document,'script','dataLayer','{i}');</script>\n"
                "<!-- End Google Tag Manager -->\n")

    def gtm_body(self):
        url = f"https://www.googletagmanager.com/ns.html?id={self.ids['gtm']}"
        self.uses("google-tag-manager", url, "noscript-iframe")
        return ("<!-- Google Tag Manager (noscript) -->\n"
                f'<noscript><iframe src="{url}"\nheight="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>\n'
                "<!-- End Google Tag Manager (noscript) -->\n")

    def google_analytics(self):
        if self.r.random() < 0.8:
            g = self.ids["ga4"]
            url = f"https://www.googletagmanager.com/gtag/js?id={g}"
            self.uses("google-analytics", url, "script")
            extra = ""
            if self.r.random() < 0.3:
                extra = f"  gtag('config', '{g}', {{ 'page_path': location.pathname, 'anonymize_ip': true }});\n"
            return (f'<!-- Google tag (gtag.js) -->\n<script async src="{url}"></script>\n'
                    "<script>\n  window.dataLayer = window.dataLayer || [];\n"
                    "  function gtag(){dataLayer.push(arguments);}\n  gtag('js', new Date());\n\n"
                    f"  gtag('config', '{g}');\n{extra}</script>\n")
        self.uses("google-analytics", "https://www.google-analytics.com/analytics.js", "inline-snippet")
        return ("<script>\n(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){\n"
                "(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),\n"
                "m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)\n"
                "})(window,document,'script','https://www.google-analytics.com/analytics.js','ga');\n\n"
                f"ga('create', '{self.ids['ua']}', 'auto');\nga('send', 'pageview');\n</script>\n")

    def meta_pixel(self):
        f = self.ids["fb"]
        self.uses("meta-pixel", "https://connect.facebook.net/en_US/fbevents.js", "inline-snippet")
        img = f"https://www.facebook.com/tr?id={f}&ev=PageView&noscript=1"
        self.uses("meta-pixel", img, "noscript-img")
        event = self.r.choice(["", "", "fbq('track', 'ViewContent');\n", "fbq('track', 'Lead');\n"])
        return ("<!-- Meta Pixel Code -->\n<script>\n!function(f,b,e,v,n,t,s)\n"
                "{if(f.fbq)return;n=f.fbq=function(){n.callMethod?\n"
                "n.callMethod.apply(n,arguments):n.queue.push(arguments)};\n"
                "if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';\n"
                "n.queue=[];t=b.createElement(e);t.async=!0;\nt.src=v;s=b.getElementsByTagName(e)[0];\n"
                "s.parentNode.insertBefore(t,s)}(window, document,'script',\n"
                "'https://connect.facebook.net/en_US/fbevents.js');\n"
                f"fbq('init', '{f}');\nfbq('track', 'PageView');\n{event}</script>\n"
                f'<noscript><img height="1" width="1" style="display:none"\nsrc="{esc(img)}"\n/></noscript>\n'
                "<!-- End Meta Pixel Code -->\n")

    def linkedin(self):
        p = self.ids["li"]
        self.uses("linkedin-insight", "https://snap.licdn.com/li.lms-analytics/insight.min.js", "inline-snippet")
        img = f"https://px.ads.linkedin.com/collect/?pid={p}&fmt=gif"
        self.uses("linkedin-insight", img, "noscript-img")
        return ('<script type="text/javascript">\n'
                f'_linkedin_partner_id = "{p}";\n'
                "window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];\n"
                "window._linkedin_data_partner_ids.push(_linkedin_partner_id);\n"
                '</script><script type="text/javascript">\n'
                "(function(l) {\nif (!l){window.lintrk = function(a,b){window.lintrk.q.push([a,b])};\n"
                "window.lintrk.q=[]}\nvar s = document.getElementsByTagName(\"script\")[0];\n"
                "var b = document.createElement(\"script\");\nb.type = \"text/javascript\";b.async = true;\n"
                "b.src = \"https://snap.licdn.com/li.lms-analytics/insight.min.js\";\n"
                "s.parentNode.insertBefore(b, s);})(window.lintrk);\n</script>\n"
                f'<noscript>\n<img height="1" width="1" style="display:none;" alt="" src="{esc(img)}" />\n</noscript>\n')

    def hotjar(self):
        h = self.ids["hj"]
        self.uses("hotjar", f"https://static.hotjar.com/c/hotjar-{h}.js?sv=6", "inline-snippet")
        return ("<!-- Hotjar Tracking Code for www.example.com -->\n<script>\n"
                "    (function(h,o,t,j,a,r){\n"
                "        h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};\n"
                f"        h._hjSettings={{hjid:{h},hjsv:6}};\n"
                "        a=o.getElementsByTagName('head')[0];\n"
                "        r=o.createElement('script');r.async=1;\n"
                "        r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;\n        a.appendChild(r);\n"
                "    })(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');\n</script>\n")

    def hubspot(self):
        h = self.ids["hs"]
        host = self.r.choice(["js.hs-scripts.com", "js.hs-scripts.com", "js-eu1.hs-scripts.com"])
        self.uses("hubspot", f"https://{host}/{h}.js", "script")
        out = ("<!-- Start of HubSpot Embed Code -->\n"
               f'<script type="text/javascript" id="hs-script-loader" async defer src="//{host}/{h}.js"></script>\n'
               "<!-- End of HubSpot Embed Code -->\n")
        if self.r.random() < 0.45:
            form = "-".join(token(self.r, n, HEX) for n in (8, 4, 4, 4, 12))
            self.uses("hubspot", "https://js.hsforms.net/forms/embed/v2.js", "script")
            out += ('<script charset="utf-8" type="text/javascript" src="//js.hsforms.net/forms/embed/v2.js"></script>\n'
                    f'<script>\n  hbspt.forms.create({{\n    region: "na1",\n    portalId: "{h}",\n'
                    f'    formId: "{form}"\n  }});\n</script>\n')
        return out

    def segment(self):
        k = self.ids["seg"]
        self.uses("segment", f"https://cdn.segment.com/analytics.js/v1/{k}/analytics.min.js", "inline-snippet")
        methods = ",".join(f'"{m}"' for m in ["trackSubmit", "trackClick", "trackLink", "trackForm", "pageview",
                                               "identify", "reset", "group", "track", "ready", "alias", "debug",
                                               "page", "screen", "once", "off", "on", "addSourceMiddleware",
                                               "addIntegrationMiddleware", "setAnonymousId", "addDestinationMiddleware",
                                               "register"])
        return ("<script>\n  !function(){var i=\"analytics\",analytics=window[i]=window[i]||[];"
                "if(!analytics.initialize)if(analytics.invoked)window.console&&console.error&&"
                "console.error(\"Segment snippet included twice.\");else{analytics.invoked=!0;"
                f"analytics.methods=[{methods}];analytics.factory=function(e){{return function(){{"
                "if(window[i].initialized)return window[i][e].apply(window[i],arguments);"
                "var n=Array.prototype.slice.call(arguments);n.unshift(e);analytics.push(n);return analytics}}};"
                "for(var n=0;n<analytics.methods.length;n++){var key=analytics.methods[n];"
                "analytics[key]=analytics.factory(key)}analytics.load=function(key,n){"
                "var t=document.createElement(\"script\");t.type=\"text/javascript\";t.async=!0;"
                "t.setAttribute(\"data-global-segment-analytics-key\",i);"
                "t.src=\"https://cdn.segment.com/analytics.js/v1/\" + key + \"/analytics.min.js\";"
                "var r=document.getElementsByTagName(\"script\")[0];r.parentNode.insertBefore(t,r);"
                "analytics._loadOptions=n};"
                f"analytics._writeKey=\"{k}\";;analytics.SNIPPET_VERSION=\"5.2.0\";\n"
                f"  analytics.load(\"{k}\");\n  analytics.page();\n  }}}}();\n</script>\n")

    def clarity(self):
        c = self.ids["clarity"]
        self.uses("microsoft-clarity", f"https://www.clarity.ms/tag/{c}", "inline-snippet")
        return ('<script type="text/javascript">\n    (function(c,l,a,r,i,t,y){\n'
                "        c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};\n"
                '        t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;\n'
                "        y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);\n"
                f'    }})(window, document, "clarity", "script", "{c}");\n</script>\n')

    def bing_uet(self):
        t = self.ids["uet"]
        self.uses("microsoft-advertising-uet", "https://bat.bing.com/bat.js", "inline-snippet")
        img = f"https://bat.bing.com/action/0?ti={t}&Ver=2"
        self.uses("microsoft-advertising-uet", img, "noscript-img")
        return ("<script>(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var o={ti:\"" + t +
                "\", enableAutoSpaTracking: true};o.q=w[u],w[u]=new UET(o),w[u].push(\"pageLoad\")},"
                "n=d.createElement(t),n.src=r,n.async=1,n.onload=n.onreadystatechange=function(){"
                "var s=this.readyState;s&&s!==\"loaded\"&&s!==\"complete\"||(f(),n.onload=n.onreadystatechange=null)},"
                "i=d.getElementsByTagName(t)[0],i.parentNode.insertBefore(n,i)})"
                "(window,document,\"script\",\"//bat.bing.com/bat.js\",\"uetq\");</script>\n"
                f'<noscript><img src="//bat.bing.com/action/0?ti={t}&amp;Ver=2" height="0" width="0" '
                'style="display:none; visibility: hidden;" /></noscript>\n')

    def tiktok(self):
        t = self.ids["tt"]
        self.uses("tiktok-pixel", "https://analytics.tiktok.com/i18n/pixel/events.js", "inline-snippet")
        return ("<script>\n!function (w, d, t) {\n  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];"
                "ttq.methods=[\"page\",\"track\",\"identify\",\"instances\",\"debug\",\"on\",\"off\",\"once\","
                "\"ready\",\"alias\",\"group\",\"enableCookie\",\"disableCookie\",\"holdConsent\","
                "\"revokeConsent\",\"grantConsent\"],ttq.setAndDefer=function(t,e){t[e]=function(){"
                "t.push([e].concat(Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)"
                "ttq.setAndDefer(ttq,ttq.methods[i]);ttq.instance=function(t){for(var e=ttq._i[t]||[],n=0;"
                "n<ttq.methods.length;n++)ttq.setAndDefer(e,ttq.methods[n]);return e},ttq.load=function(e,n){"
                "var r=\"https://analytics.tiktok.com/i18n/pixel/events.js\",o=n&&n.partner;ttq._i=ttq._i||{},"
                "ttq._i[e]=[],ttq._i[e]._u=r,ttq._t=ttq._t||{},ttq._t[e]=+new Date,ttq._o=ttq._o||{},"
                "ttq._o[e]=n||{};n=document.createElement(\"script\");n.type=\"text/javascript\",n.async=!0,"
                "n.src=r+\"?sdkid=\"+e+\"&lib=\"+t;e=document.getElementsByTagName(\"script\")[0];"
                "e.parentNode.insertBefore(n,e)};\n\n"
                f"  ttq.load('{t}');\n  ttq.page();\n}}(window, document, 'ttq');\n</script>\n")

    def x_pixel(self):
        t = self.ids["tw"]
        self.uses("x-pixel", "https://static.ads-twitter.com/uwt.js", "inline-snippet")
        out = ("<!-- X conversion tracking base code -->\n<script>\n"
               "!function(e,t,n,s,u,a){e.twq||(s=e.twq=function(){s.exe?s.exe.apply(s,arguments):s.queue.push(arguments);\n"
               "},s.version='1.1',s.queue=[],u=t.createElement(n),u.async=!0,u.src='https://static.ads-twitter.com/uwt.js',\n"
               f"a=t.getElementsByTagName(n)[0],a.parentNode.insertBefore(u,a))}}(window,document,'script');\n"
               f"twq('config','{t}');\n</script>\n<!-- End X conversion tracking base code -->\n")
        if self.r.random() < 0.5:
            txn = token(self.r, 5, LOWER_ALNUM)
            a = f"https://analytics.twitter.com/i/adsct?txn_id={txn}&p_id=Twitter&tw_sale_amount=0&tw_order_quantity=0"
            b = f"https://t.co/i/adsct?txn_id={txn}&p_id=Twitter&tw_sale_amount=0&tw_order_quantity=0"
            self.uses("x-pixel", a, "noscript-img")
            self.uses("x-pixel", b, "noscript-img")
            out += (f'<noscript>\n<img height="1" width="1" style="display:none;" alt="" src="{esc(a)}" />\n'
                    f'<img height="1" width="1" style="display:none;" alt="" src="{esc(b)}" />\n</noscript>\n')
        return out

    def intercom(self):
        a = self.ids["ic"]
        self.uses("intercom", f"https://widget.intercom.io/widget/{a}", "inline-snippet")
        self.uses("intercom", "https://api-iam.intercom.io", "inline-snippet")
        return ("<script>\n  window.intercomSettings = {\n    api_base: \"https://api-iam.intercom.io\",\n"
                f"    app_id: \"{a}\",\n  }};\n</script>\n<script>\n"
                "// We pre-filled your app ID in the widget URL: 'https://widget.intercom.io/widget/" + a + "'\n"
                "(function(){var w=window;var ic=w.Intercom;if(typeof ic===\"function\"){ic('reattach_activator');"
                "ic('update',w.intercomSettings);}else{var d=document;var i=function(){i.c(arguments);};i.q=[];"
                "i.c=function(args){i.q.push(args);};w.Intercom=i;var l=function(){var s=d.createElement('script');"
                f"s.type='text/javascript';s.async=true;s.src='https://widget.intercom.io/widget/{a}';"
                "var x=d.getElementsByTagName('script')[0];x.parentNode.insertBefore(s,x);};"
                "if(document.readyState==='complete'){l();}else if(w.attachEvent){w.attachEvent('onload',l);}"
                "else{w.addEventListener('load',l,false);}}})();\n</script>\n")

    def onetrust(self):
        o = self.ids["ot"]
        out = "<!-- OneTrust Cookies Consent Notice start for example.com -->\n"
        if self.r.random() < 0.3:
            auto = f"https://cdn.cookielaw.org/consent/{o}/OtAutoBlock.js"
            self.uses("onetrust", auto, "script")
            out += f'<script type="text/javascript" src="{auto}" ></script>\n'
        stub = "https://cdn.cookielaw.org/scripttemplates/otSDKStub.js"
        self.uses("onetrust", stub, "script")
        return (out + f'<script src="{stub}"  type="text/javascript" charset="UTF-8" data-domain-script="{o}" ></script>\n'
                '<script type="text/javascript">\nfunction OptanonWrapper() { }\n</script>\n'
                "<!-- OneTrust Cookies Consent Notice end for example.com -->\n")

    def recaptcha(self):
        if self.r.random() < 0.5:
            url = "https://www.google.com/recaptcha/api.js"
            self.uses("google-recaptcha", url, "script")
            return (f'<script src="{url}" async defer></script>\n'
                    f'<div class="g-recaptcha" data-sitekey="{self.ids["recaptcha"]}"></div>\n')
        url = f"https://www.google.com/recaptcha/api.js?render={self.ids['recaptcha']}"
        self.uses("google-recaptcha", url, "script")
        return f'<script src="{esc(url)}"></script>\n'

    def stripe(self):
        url = "https://js.stripe.com/v3/"
        self.uses("stripe-js", url, "script")
        return (f'<script src="{url}"></script>\n<script>\n  const stripe = Stripe("{self.ids["stripe"]}");\n'
                "  document.querySelectorAll('[data-checkout]').forEach(function (b) {\n"
                "    b.addEventListener('click', function () { stripe.redirectToCheckout({ sessionId: b.dataset.checkout }); });\n"
                "  });\n</script>\n")

    def google_fonts(self):
        fams = self.r.sample(FONTS, self.r.randint(1, 2))
        q = "&".join(f"family={f}:wght@400;500;600;700" for f in fams)
        url = f"https://fonts.googleapis.com/css2?{q}&display=swap"
        self.uses("google-fonts", "https://fonts.googleapis.com", "preconnect")
        self.uses("google-fonts", "https://fonts.gstatic.com", "preconnect")
        self.uses("google-fonts", url, "stylesheet")
        return ('<link rel="preconnect" href="https://fonts.googleapis.com">\n'
                '<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>\n'
                f'<link href="{esc(url)}" rel="stylesheet">\n')

    def sri(self):
        return "sha384-" + base64.b64encode(bytes(self.r.getrandbits(8) for _ in range(48))).decode()

    def cdn_lib(self, vendor, url):
        pinned = self.r.random() < 0.5
        attrs = f' integrity="{self.sri()}" crossorigin="anonymous" referrerpolicy="no-referrer"' if pinned else ""
        self.uses(vendor, url, "stylesheet" if url.endswith(".css") else "script")
        if url.endswith(".css"):
            return f'<link rel="stylesheet" href="{url}"{attrs} />\n'
        return f'<script src="{url}"{attrs}></script>\n'

    def cdnjs(self):
        return "".join(self.cdn_lib("cdnjs", f"https://cdnjs.cloudflare.com/ajax/libs/{n}/{v}/{f}")
                       for n, v, f in self.r.sample(CDNJS, self.r.randint(1, 3)))

    def jsdelivr(self):
        return "".join(self.cdn_lib("jsdelivr", f"https://cdn.jsdelivr.net/npm/{p}/{f}")
                       for p, f in self.r.sample(JSDELIVR, self.r.randint(1, 2)))

    def youtube(self):
        vid = token(self.r, 11, ALNUM + "-_")
        host = "www.youtube-nocookie.com" if self.r.random() < 0.25 else "www.youtube.com"
        url = f"https://{host}/embed/{vid}"
        if self.r.random() < 0.3:
            url += "?rel=0&modestbranding=1"
        self.uses("youtube", url, "iframe")
        return ('<figure class="video"><iframe width="560" height="315" '
                f'src="{esc(url)}" title="YouTube video player" frameborder="0" '
                'allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" '
                'referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>'
                f"<figcaption>{self.sentence(4, 10)}</figcaption></figure>\n")

    def vimeo(self):
        url = f"https://player.vimeo.com/video/{number(self.r, 9)}?h={token(self.r, 10, HEX)}&badge=0&autopause=0"
        self.uses("vimeo", url, "iframe")
        return ('<div style="padding:56.25% 0 0 0;position:relative;">'
                f'<iframe src="{esc(url)}" frameborder="0" allow="autoplay; fullscreen; picture-in-picture; clipboard-write" '
                'style="position:absolute;top:0;left:0;width:100%;height:100%;" title="Product walkthrough"></iframe></div>\n')

    # ---- first party ---------------------------------------------------------------------
    def stylesheet(self):
        r = self.r
        rules = []
        for _ in range(r.randint(60, 200)):
            rules.append(f".nw-{token(r, 5, string.ascii_lowercase)}{{margin:{r.randint(0, 40)}px {r.randint(0, 40)}px;"
                         f"padding:{r.randint(0, 24)}px {r.randint(0, 24)}px;color:#{token(r, 6, HEX)};"
                         f"background:#{token(r, 6, HEX)};font:{r.randint(400, 700)} {r.randint(12, 44)}px/"
                         f"{r.choice(['1.2', '1.35', '1.5', '1.6'])} var(--font-sans);"
                         f"display:{r.choice(['block', 'flex', 'grid', 'inline-flex'])}}}")
        return "<style>\n:root{--font-sans:Inter,system-ui,sans-serif}\n" + "\n".join(rules) + "\n</style>\n"

    def first_party_head(self):
        h = token(self.r, 10, HEX)
        urls = [f"/assets/app.{h}.css", f"https://{STATIC}/fonts/northwind-display.woff2"]
        self.first_party += urls
        return (f'<link rel="stylesheet" href="{urls[0]}">\n'
                f'<link rel="preload" href="{urls[1]}" as="font" type="font/woff2" crossorigin>\n'
                '<link rel="icon" href="/favicon.svg" type="image/svg+xml">\n'
                '<link rel="manifest" href="/site.webmanifest">\n')

    def first_party_scripts(self):
        r = self.r
        urls = [f"/assets/runtime.{token(r, 10, HEX)}.js", f"/assets/app.{token(r, 10, HEX)}.js",
                f"https://{STATIC}/js/chunks/{token(r, 8, HEX)}.js"]
        if r.random() < 0.4:
            urls.append("/assets/consent-bridge.js")
        self.first_party += urls
        out = "".join(f'<script src="{u}" defer></script>\n' for u in urls)
        state = {
            "route": f"/{self.kind}/{self.slug}", "locale": r.choice(["en-US", "en-GB", "de-DE", "fr-FR"]),
            "api": f"https://{SITE}/api/v2", "cdn": f"https://{STATIC}/",
            "flags": {f"nw_{token(r, 6, string.ascii_lowercase)}": r.choice([True, False]) for _ in range(r.randint(5, 20))},
            "menu": [{"label": self.words(1, 3).title(), "href": f"/{r.choice(WORDS)}/{r.choice(WORDS)}",
                      "icon": f"https://{STATIC}/icons/{r.choice(WORDS)}.svg"} for _ in range(r.randint(20, 70))],
            "strings": {f"s_{k}": self.sentence() for k in range(r.randint(20, 100))},
        }
        out += ("<script>window.__NW_STATE__ = " + json.dumps(state, separators=(",", ":")).replace("</", "<\\/")
                + ";</script>\n")
        return out

    def icon(self):
        r = self.r
        pts = " ".join(f"{r.randint(0, 24)},{r.randint(0, 24)}" for _ in range(r.randint(4, 9)))
        return (f'<svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">'
                f'<polyline points="{pts}" fill="none" stroke="currentColor" stroke-width="2"/></svg>')

    def section(self):
        r = self.r
        kind = r.random()
        if kind < 0.5:
            body = "".join(f"<p>{self.paragraph()}</p>" for _ in range(r.randint(1, 4)))
            if r.random() < 0.35:
                name = token(r, 12, string.ascii_lowercase)
                body += f'<img src="https://{STATIC}/img/{name}.webp" alt="{self.words(2, 5)}" loading="lazy" width="960" height="540">'
            return f'<section class="nw-{token(r, 5, string.ascii_lowercase)}"><h2>{self.sentence(3, 7)[:-1]}</h2>{body}</section>\n'
        if kind < 0.8:
            cards = "".join(f'<div class="card">{self.icon()}<h3>{self.words(2, 4).title()}</h3><p>{self.sentence()}</p>'
                            f'<a href="/{r.choice(WORDS)}/{r.choice(WORDS)}" class="more">Learn more</a></div>'
                            for _ in range(r.randint(3, 6)))
            return f'<section class="features"><h2>{self.sentence(3, 6)[:-1]}</h2><div class="grid">{cards}</div></section>\n'
        quotes = "".join(f'<blockquote><p>{self.sentence(10, 24)}</p><footer>{self.words(2, 2).title()}, '
                         f'{self.words(1, 3).title()}</footer></blockquote>' for _ in range(r.randint(1, 3)))
        return f'<section class="testimonials">{quotes}</section>\n'

    # ---- decoys --------------------------------------------------------------------------
    SOCIAL = [("facebook-social-plugins", "https://www.facebook.com/northwindlabs"),
              ("linkedin-plugins", "https://www.linkedin.com/company/northwind-labs"),
              ("twitter-widgets", "https://x.com/northwindlabs"),
              ("youtube", "https://www.youtube.com/@northwindlabs"),
              ("instagram-embeds", "https://www.instagram.com/northwindlabs/")]

    def footer_social(self):
        items = []
        for vendor, url in self.SOCIAL:
            self.decoy("footer-social-link", vendor, url)
            items.append(f'<li><a href="{url}" target="_blank" rel="noopener noreferrer" aria-label="{vendor}">{self.icon()}</a></li>')
        return '<ul class="social">' + "".join(items) + "</ul>"

    def json_ld(self):
        for vendor, url in self.SOCIAL:
            self.decoy("json-ld-sameAs", vendor, url)
        doc = {"@context": "https://schema.org", "@type": "Organization", "name": "Northwind Labs",
               "url": f"https://{SITE}/", "logo": f"https://{STATIC}/img/logo.png", "sameAs": [u for _, u in self.SOCIAL]}
        return '<script type="application/ld+json">' + json.dumps(doc, indent=2) + "</script>\n"

    def rel_me(self):
        self.decoy("link-rel-me", "twitter-widgets", "https://x.com/northwindlabs")
        return '<link rel="me" href="https://x.com/northwindlabs">\n'

    def share_links(self):
        page = f"https%3A%2F%2F{SITE}%2F{self.kind}%2F{self.slug}"
        links = [("facebook-social-plugins", f"https://www.facebook.com/sharer/sharer.php?u={page}"),
                 ("twitter-widgets", f"https://twitter.com/intent/tweet?url={page}&text=Northwind"),
                 ("linkedin-plugins", f"https://www.linkedin.com/sharing/share-offsite/?url={page}")]
        for vendor, url in links:
            self.decoy("share-link", vendor, url)
        return ('<div class="share">Share: ' + " ".join(f'<a href="{esc(u)}" target="_blank" rel="noopener">{v.split("-")[0]}</a>'
                                                         for v, u in links) + "</div>\n")

    OLD_TAGS = [("hotjar", '<script src="https://static.hotjar.com/c/hotjar-1029384.js?sv=6"></script>'),
                ("google-analytics", '<script async src="https://www.google-analytics.com/analytics.js"></script>'),
                ("meta-pixel", '<img height="1" width="1" src="https://www.facebook.com/tr?id=1234567890123&ev=PageView&noscript=1"/>'),
                ("segment", '<script src="https://cdn.segment.com/analytics.js/v1/0ldWr1teKey/analytics.min.js"></script>'),
                ("microsoft-clarity", '<script async src="https://www.clarity.ms/tag/abc123xyz"></script>'),
                ("tiktok-pixel", '<script src="https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=OLD123"></script>'),
                ("intercom", '<script src="https://widget.intercom.io/widget/oldapp1"></script>')]

    def commented_tag(self, present):
        options = [t for t in self.OLD_TAGS if t[0] not in present]
        if not options:
            return ""
        vendor, tag = self.r.choice(options)
        self.decoy("commented-out-tag", vendor, tag)
        return f"<!-- disabled {self.r.choice(['2023-02', '2023-09', '2024-05'])} (see WEB-{number(self.r, 4)}):\n{tag}\n-->\n"

    PROSE = [("hubspot", "HubSpot"), ("segment", "Segment"), ("hotjar", "Hotjar"), ("google-analytics", "Google Analytics"),
             ("intercom", "Intercom"), ("microsoft-clarity", "Microsoft Clarity"), ("stripe-js", "Stripe"),
             ("tiktok-pixel", "TikTok"), ("meta-pixel", "the Meta Pixel")]

    def prose(self, present):
        options = [p for p in self.PROSE if p[0] not in present]
        if not options:
            return ""
        picks = self.r.sample(options, min(len(options), self.r.randint(1, 3)))
        for vendor, name in picks:
            self.decoy("vendor-name-in-text", vendor, name)
        return (f"<p>Northwind connects to {', '.join(n for _, n in picks)} and the rest of your stack in minutes: "
                f"{self.sentence()}</p>\n")

    VENDOR_SITES = [("hotjar", "https://www.hotjar.com/", "Hotjar"), ("segment", "https://segment.com/docs/", "Segment"),
                    ("hubspot", "https://www.hubspot.com/products/crm", "HubSpot"),
                    ("intercom", "https://www.intercom.com/", "Intercom"), ("stripe-js", "https://stripe.com/docs/payments", "Stripe")]

    def vendor_site_link(self, present):
        options = [o for o in self.VENDOR_SITES if o[0] not in present]
        if not options:
            return ""
        vendor, url, name = self.r.choice(options)
        self.decoy("link-to-vendor-site", vendor, url)
        return f'<p>See the <a href="{url}">{name} integration guide</a> for the fields we sync.</p>\n'

    # ---- page ----------------------------------------------------------------------------
    def build(self):
        r = self.r
        kinds = list(KINDS)
        self.kind = r.choices(kinds, weights=[KINDS[k][0] for k in kinds])[0]
        chances = KINDS[self.kind][1]
        present = {v for v, p in chances.items() if r.random() < p}
        target = r.randint(62_000, 148_000)
        self.slug = "-".join(r.choice(WORDS) for _ in range(r.randint(2, 5)))
        title = self.sentence(3, 8)[:-1]

        head = ['<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>{title} | Northwind Labs</title>\n"
                f'<meta name="description" content="{self.sentence()}">\n'
                f'<link rel="canonical" href="https://{SITE}/{self.kind}/{self.slug}">\n'
                f'<link rel="alternate" hreflang="de" href="https://{SITE}/de/{self.kind}/{self.slug}">\n'
                f'<meta property="og:title" content="{title}">\n<meta property="og:type" content="website">\n'
                f'<meta property="og:image" content="https://{STATIC}/og/{self.slug}.png">\n'
                '<meta name="twitter:card" content="summary_large_image">\n<meta name="twitter:site" content="@northwindlabs">\n']
        # Consent first, then the tag manager, as consent platforms ask.
        if "onetrust" in present:
            head.append(self.onetrust())
        if "google-tag-manager" in present:
            head.append(self.gtm_head())
        if "google-fonts" in present:
            head.append(self.google_fonts())
        head.append(self.first_party_head())
        head.append(self.stylesheet())
        tags = []
        for vendor, fn in [("google-analytics", self.google_analytics), ("meta-pixel", self.meta_pixel),
                           ("segment", self.segment), ("hotjar", self.hotjar), ("microsoft-clarity", self.clarity),
                           ("tiktok-pixel", self.tiktok), ("microsoft-advertising-uet", self.bing_uet),
                           ("cdnjs", self.cdnjs), ("jsdelivr", self.jsdelivr)]:
            if vendor in present:
                tags.append(fn())
        r.shuffle(tags)
        head += tags
        if r.random() < 0.12:
            head.append(self.commented_tag(present))
        if r.random() < 0.3:
            head.append(self.rel_me())
        if r.random() < 0.75:
            head.append(self.json_ld())
        head.append("</head>\n")

        body = [f'<body class="page-{self.kind}">\n']
        if "google-tag-manager" in present:
            body.append(self.gtm_body())
        menu = ""
        for _ in range(r.randint(5, 9)):
            sub = "".join(f'<li><a href="/{r.choice(WORDS)}">{self.words(1, 3).title()}</a></li>'
                          for _ in range(r.randint(3, 8)))
            menu += f'<li><a href="/{r.choice(WORDS)}/{r.choice(WORDS)}">{self.words(1, 2).title()}</a><ul>{sub}</ul></li>'
        body.append(f'<header class="site"><a class="logo" href="/"><img src="https://{STATIC}/img/logo.svg" alt="Northwind Labs" '
                    f'width="140" height="32"></a><nav aria-label="Main"><ul class="mega">{menu}</ul></nav>'
                    '<a class="cta" href="/demo">Book a demo</a></header>\n<main>\n'
                    f'<section class="hero"><h1>{title}</h1><p class="lead">{self.sentence()}</p></section>\n')
        inserts = []
        if "youtube" in present:
            inserts += [self.youtube() for _ in range(r.choice([1, 1, 1, 2]))]
        if "vimeo" in present:
            inserts.append(self.vimeo())
        if "google-recaptcha" in present:
            inserts.append('<form class="lead-form" action="/api/lead" method="post"><input name="email" type="email">'
                           + self.recaptcha() + '<button type="submit">Send</button></form>\n')
        if r.random() < 0.15:
            inserts.append(self.prose(present))
        if r.random() < 0.08:
            inserts.append(self.vendor_site_link(present))
        if self.kind == "blog":
            inserts.append(self.share_links())
        if r.random() < 0.05:
            # A partner badge from a host no catalog vendor claims: third party, but no vendor.
            inserts.append('<script async src="https://widgets.trustbadge-partner.net/badge/v2/northwind.js"></script>\n')

        tail = []
        for vendor, fn in [("hubspot", self.hubspot), ("linkedin-insight", self.linkedin), ("x-pixel", self.x_pixel),
                           ("intercom", self.intercom), ("stripe-js", self.stripe)]:
            if vendor in present:
                tail.append(fn())
        columns = "".join(f'<div class="col"><h4>{self.words(1, 2).title()}</h4><ul>'
                          + "".join(f'<li><a href="/{r.choice(WORDS)}/{r.choice(WORDS)}">{self.words(1, 3).title()}</a></li>'
                                    for _ in range(r.randint(4, 8)))
                          + "</ul></div>" for _ in range(4))
        footer = (f'</main>\n<footer class="site"><div class="cols">{columns}</div>{self.footer_social()}'
                  '<p>&copy; 2025 Northwind Labs, Inc. All rights reserved.</p></footer>\n')
        scripts = self.first_party_scripts()

        size = sum(len(x.encode()) for x in head + body + inserts + tail) + len(footer) + len(scripts) + 20
        sections = []
        while size < target:
            s = self.section()
            sections.append(s)
            size += len(s.encode())
        for x in inserts:
            sections.insert(r.randint(0, len(sections)), x)
        html = "".join(head + body + sections) + footer + scripts + "".join(tail) + "</body>\n</html>\n"

        vendors = {}
        for res in self.resources:
            vendors.setdefault(res["vendor"], set()).add(res["host"])
        truth = {"kind": self.kind, "bytes": len(html.encode()),
                 "vendors": {v: sorted(h) for v, h in sorted(vendors.items())},
                 "resources": self.resources, "decoys": self.decoys, "first_party": self.first_party}
        return html, truth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    if a.n < 1 or a.n > 100_000:
        ap.error("--n must be between 1 and 100000")
    os.makedirs(os.path.join(a.out, "pages"), exist_ok=True)
    ids = account_ids(a.seed)
    pages, paths, total = {}, [], 0
    digest = hashlib.sha256()
    for i in range(a.n):
        html, truth = Page(i, a.seed, ids).build()
        path = f"/pages/{i:05d}.html"
        data = html.encode()
        with open(os.path.join(a.out, path.lstrip("/")), "wb") as f:
            f.write(data)
        digest.update(data)
        pages[path] = truth
        paths.append(path)
        total += len(data)
    doc = {"generator": {"script": "bench/gen_site.py", "version": VERSION, "n": a.n, "seed": a.seed,
                         "site": SITE, "first_party_domains": ["example.com"], "total_bytes": total},
           "vendors": VENDORS, "accounts": ids, "pages": pages}
    with open(os.path.join(a.out, "truth.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(a.out, "paths.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(paths) + "\n")
    print(json.dumps({"pages": a.n, "total_bytes": total, "avg_kb": round(total / a.n / 1024, 1),
                      "sha256_pages": digest.hexdigest()}))


if __name__ == "__main__":
    main()
