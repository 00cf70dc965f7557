
// Copyright 2012 Google Inc. All rights reserved.
(function(w,g){w[g]=w[g]||{};w[g].e=function(s){return eval(s);};})(window,'google_tag_manager');
(function(){

var data = {
 "resource": {
  "version": "7",
  "macros": [
   {
    "function": "__e"
   }
  ],
  "tags": [
   {
    "function": "__gaawc",
    "tag_id": 2,
    "vtp_measurementId": "G-ACME4567",
    "vtp_sendPageView": true
   },
   {
    "function": "__hjtc",
    "tag_id": 3,
    "vtp_hotjar_site_id": "3456789",
    "consent": [
     "list",
     "analytics_storage"
    ]
   },
   {
    "function": "__html",
    "tag_id": 4,
    "vtp_html": "<script type=\"text/gtmscript\">!function(w,d,t){w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.load=function(e){var n=\"https://analytics.tiktok.com/i18n/pixel/events.js\";var o=d.createElement(\"script\");o.async=!0;o.src=n+\"?sdkid=\"+e+\"&lib=\"+t;var a=d.getElementsByTagName(\"script\")[0];a.parentNode.insertBefore(o,a)};ttq.load('CACME0TIKTOK');ttq.page();}(window,document,'ttq');</script>",
    "consent": [
     "list",
     "ad_storage"
    ]
   },
   {
    "function": "__flc",
    "tag_id": 5,
    "vtp_advertiserId": "8765432",
    "vtp_groupTag": "acme",
    "vtp_activityTag": "visit"
   },
   {
    "function": "__paused",
    "tag_id": 6,
    "vtp_originalTagType": "html"
   },
   {
    "function": "__cl",
    "tag_id": 7
   }
  ],
  "predicates": [
   {
    "function": "_eq",
    "arg0": [
     "macro",
     0
    ],
    "arg1": "gtm.js"
   }
  ],
  "rules": [
   [
    [
     "if",
     0
    ],
    [
     "add",
     0,
     1,
     2,
     3
    ]
   ]
  ]
 },
 "runtime": [],
 "permissions": {},
 "security_groups": {}
};

/* the container library follows here in a real gtm.js; it names Google hosts whatever the tags are */
var Ob="https://www.google-analytics.com/analytics.js",Qb="https://googleads.g.doubleclick.net/pagead/viewthroughconversion/";
})()
