import Foundation
import Testing
@testable import TagwatchCore

@Suite struct ExtractorTests {
    let extractor = Extractor()

    func extract(_ html: String, url: String = "https://www.shop.example/page/") -> Extraction {
        extractor.extract(body: Array(html.utf8), pageURL: url)
    }

    @Test func everyKindOfReference() {
        let e = extract("""
            <html><head>
            <script src="https://cdn.vendor.test/a.js" integrity="sha384-abc"></script>
            <link rel="stylesheet" href="/css/site.css">
            <link rel="preconnect" href="https://fonts.gstatic.com">
            <link rel="dns-prefetch" href="//dns.vendor.test">
            <link rel="canonical" href="https://www.shop.example/page/">
            <link rel="alternate" hreflang="de" href="https://www.shop.example/de/">
            <link rel="author" href="https://author.test/">
            </head><body>
            <iframe src="https://frames.test/embed"></iframe>
            <img src="pixel.gif">
            <form action="https://forms.test/submit"></form>
            <object data="https://objects.test/o.swf"></object>
            <embed src="https://embeds.test/e.swf">
            <noscript><img src="https://px.test/p.gif"></noscript>
            <a href="https://twitter.com/shop">follow us</a>
            </body></html>
            """)
        let got = e.resources.map { "\($0.kind.rawValue) \($0.url)" }
        #expect(got == [
            "script https://cdn.vendor.test/a.js",
            "link https://www.shop.example/css/site.css",
            "link https://fonts.gstatic.com",
            "link https://dns.vendor.test",
            "iframe https://frames.test/embed",
            "img https://www.shop.example/page/pixel.gif",
            "form https://forms.test/submit",
            "object https://objects.test/o.swf",
            "object https://embeds.test/e.swf",
            "noscript-img https://px.test/p.gif",
        ])
        #expect(e.resources[0].integrity == "sha384-abc")
    }

    @Test func baseHrefResolvesRelativeReferences() {
        let e = extract(#"<html><head><base href="https://static.shop.example/v2/"><script src="app.js"></script></head></html>"#)
        #expect(e.resources.map(\.url) == ["https://static.shop.example/v2/app.js"])
        #expect(e.baseURL == "https://static.shop.example/v2/")
    }

    @Test func inlineScriptsYieldTheURLsTheyLoad() {
        let e = extract("""
            <script>(function(w,d,s,l,i){var j=d.createElement(s);j.src='https://www.googletagmanager.com/gtm.js?id='+i;})(window,document,'script','dataLayer','GTM-ABC123');</script>
            <script type="application/ld+json">{"sameAs":["https://twitter.com/shop"]}</script>
            <script>// just a comment: http://example.invalid is not a load
            var x = "//cdn.loader.test/x.js";</script>
            """)
        #expect(e.inlineScripts.count == 2)
        let urls = e.resources.filter { $0.kind == .inlineScript }.map(\.url)
        // The snippet builds its URL from the id it is called with: the whole URL, not the literal cut off at `id=`.
        #expect(urls.contains("https://www.googletagmanager.com/gtm.js?id=GTM-ABC123"))
        #expect(!urls.contains("https://www.googletagmanager.com/gtm.js?id="))
        #expect(urls.contains("https://cdn.loader.test/x.js"))
        #expect(!urls.contains { $0.contains("twitter.com") })
    }

    @Test func nonHTTPSchemesAreNotResources() {
        let e = extract(#"<img src="data:image/png;base64,AAAA"><iframe src="about:blank"></iframe><script src="javascript:void(0)"></script><img src="mailto:a@b.c">"#)
        #expect(e.resources.isEmpty)
    }

    @Test func brokenMarkupStillYieldsResources() {
        let e = extract("<html><body><div><p><script src='https://a.test/1.js'><img src=https://b.test/2.gif <iframe src=\"https://c.test/f\">")
        #expect(e.resources.map(\.url).contains("https://a.test/1.js"))
    }

    @Test func metaCharsetIsHonoured() {
        var bytes = Array("<html><head><meta charset=\"iso-8859-1\"><title>Caf".utf8)
        bytes.append(0xE9)
        bytes += Array("</title></head><body><script>var u='https://cdn.caf\u{e9}.test/x.js';</script></body></html>".utf8)
        let e = extractor.extract(body: bytes, pageURL: "https://shop.example/")
        #expect(e.inlineScripts.count == 1)
    }

    @Test func deepNestingDoesNotOverflowTheStack() {
        let depth = 20_000
        let html = String(repeating: "<div>", count: depth) + "<script src='https://deep.test/x.js'></script>" + String(repeating: "</div>", count: depth)
        let e = extract(html)
        // libxml2 caps nesting depth (256 without HTML_PARSE_HUGE) and recovers; we must not crash either way.
        #expect(e.resources.count <= 1)
    }
}

@Suite struct InlineURLScannerTests {
    @Test func findsAbsoluteAndSchemeRelativeURLs() {
        let urls = InlineURLScanner.urls(in: #"a='https://static.hotjar.com/c/hotjar-'+h; b="//cdn.x.test/y.js"; c=`http://t.test/p`; // http://commented.test/"#)
        #expect(urls == ["https://static.hotjar.com/c/hotjar-", "//cdn.x.test/y.js", "http://t.test/p", "http://commented.test/"])
    }

    @Test func skipsThingsThatAreNotHosts() {
        #expect(InlineURLScanner.urls(in: "x = '//comment'; y = 'http://localhost/'; z = '//1.2'").isEmpty)
    }
}

@Suite struct URLSplitTests {
    @Test func hostAndPathMatchURLComponents() {
        for u in ["https://www.Example.com/a/b.js?x=1#f", "http://user:pw@cdn.test:8080/p", "https://[::1]:8443/x", "https://a.test",
                  "https://a.test?q=1", "http://127.0.0.1:1/", "https://b.test/%20space/x"] {
            let split = URLResolver.hostAndPath(u)
            let c = URLComponents(string: u)!
            #expect(split?.host == c.host!.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]")), "\(u)")
            #expect(split?.path == (c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath), "\(u)")
        }
        #expect(URLResolver.hostAndPath("mailto:x@y") == nil)
    }
}
