
// Copyright 2012 Google Inc. All rights reserved.
(function(w,g){w[g]=w[g]||{};w[g].e=function(s){return eval(s);};})(window,'google_tag_manager');
(function(){

var data = {
 "resource": {
  "version": "42",
  "macros": [
   {
    "function": "__e"
   },
   {
    "function": "__c",
    "vtp_value": "G-TESTMEAS01"
   },
   {
    "function": "__v",
    "vtp_name": "pixelId",
    "vtp_dataLayerVersion": 2
   },
   {
    "function": "__c",
    "vtp_value": "123456789"
   }
  ],
  "tags": [
   {
    "function": "__ua",
    "tag_id": 1,
    "vtp_trackingId": "UA-1234567-1",
    "vtp_trackType": "TRACK_PAGEVIEW"
   },
   {
    "function": "__gaawc",
    "tag_id": 2,
    "vtp_measurementId": [
     "macro",
     1
    ],
    "vtp_sendPageView": true
   },
   {
    "function": "__gaawe",
    "tag_id": 3,
    "vtp_measurementId": "G-TESTMEAS01",
    "vtp_eventName": "purchase"
   },
   {
    "function": "__googtag",
    "tag_id": 4,
    "vtp_tagId": "AW-987654321"
   },
   {
    "function": "__awct",
    "tag_id": 5,
    "vtp_conversionId": [
     "macro",
     3
    ],
    "vtp_conversionLabel": "abcDEF"
   },
   {
    "function": "__sp",
    "tag_id": 6,
    "vtp_conversionId": "987654321"
   },
   {
    "function": "__gclidw",
    "tag_id": 7
   },
   {
    "function": "__flc",
    "tag_id": 8,
    "vtp_advertiserId": "4444444",
    "vtp_groupTag": "grp",
    "vtp_activityTag": "act"
   },
   {
    "function": "__fls",
    "tag_id": 9,
    "vtp_advertiserId": "4444444",
    "vtp_groupTag": "grp",
    "vtp_activityTag": "sale"
   },
   {
    "function": "__baut",
    "tag_id": 10,
    "vtp_tagId": "5555555"
   },
   {
    "function": "__bzi",
    "tag_id": 11,
    "vtp_id": "777777"
   },
   {
    "function": "__hjtc",
    "tag_id": 12,
    "vtp_hotjar_site_id": "3333333",
    "consent": [
     "list",
     "analytics_storage"
    ]
   },
   {
    "function": "__html",
    "tag_id": 13,
    "vtp_html": [
     "template",
     "<script type=\"text/gtmscript\" data-gtmsrc=\"//js.hs-scripts.com/",
     [
      "macro",
      2
     ],
     "99.js\"></script>\n",
     "<script type=\"text/gtmscript\">!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){};t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','1122334455');</script>\n",
     "<noscript><img height=\"1\" width=\"1\" src=\"https://www.facebook.com/tr?id=1122334455&amp;ev=PageView&amp;noscript=1\"></noscript>"
    ],
    "consent": [
     "list",
     "ad_storage",
     "analytics_storage"
    ]
   },
   {
    "function": "__html",
    "tag_id": 14,
    "vtp_html": "<script type=\"text/gtmscript\">(function(c,l,a,r,i,t,y){t=l.createElement(r);t.async=1;t.src=\"https://www.clarity.ms/tag/\"+i;y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y)})(window,document,\"clarity\",\"script\",\"abcdef1234\");</script>"
   },
   {
    "function": "__img",
    "tag_id": 15,
    "vtp_url": "https://px.ads.linkedin.com/collect/?pid=777777&fmt=gif",
    "vtp_useCacheBuster": true
   },
   {
    "function": "__cvt_12345_67",
    "tag_id": 16,
    "vtp_pixelId": "C0FFEE"
   },
   {
    "function": "__paused",
    "tag_id": 17,
    "vtp_originalTagType": "html"
   },
   {
    "function": "__cl",
    "tag_id": 18
   },
   {
    "function": "__lcl",
    "tag_id": 19,
    "vtp_waitForTags": false
   },
   {
    "function": "__zz_unknown",
    "tag_id": 20
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
     3,
     4,
     5,
     6,
     7,
     8,
     9,
     10,
     11,
     12,
     13,
     14,
     15,
     16
    ]
   ]
  ]
 },
 "runtime": [],
 "permissions": {
  "__cvt_12345_67": {
   "inject_script": {
    "urls": [
     "https://analytics.tiktok.com/i18n/pixel/events.js"
    ]
   },
   "send_pixel": {
    "allowedUrls": "specific",
    "urls": [
     "https://*.tiktok.com/"
    ]
   },
   "access_globals": {
    "keys": [
     {
      "key": "ttq",
      "read": true,
      "write": true
     }
    ]
   }
  },
  "__bzi": {
   "inject_script": {
    "urls": [
     "https://snap.licdn.com/li.lms-analytics/insight.min.js"
    ]
   }
  }
 },
 "sandboxed_scripts": [
  {
   "__cvt_12345_67": "(function(){var injectScript=require('injectScript');injectScript('https://analytics.tiktok.com/i18n/pixel/events.js');})"
  }
 ],
 "security_groups": {}
};

/*

 Copyright The Closure Library Authors.
 SPDX-License-Identifier: Apache-2.0
*/

var aa=function(a){return a};var Ob="https://www.google-analytics.com/analytics.js",Pb="https://www.googletagmanager.com/gtag/js",
Qb="https://googleads.g.doubleclick.net/pagead/viewthroughconversion/",Rb="https://stats.g.doubleclick.net/j/collect",
Sb="https://www.googleadservices.com/pagead/conversion_async.js",Tb="https://td.doubleclick.net/td/rul/";
var Ub=function(a,b){var c=document.createElement("script");c.src="https://www.google.com/ccm/collect?"+a;return c};

var cz="GTM-TEST123";
})()
