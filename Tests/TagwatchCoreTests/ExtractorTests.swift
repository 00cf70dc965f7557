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
            "link https://fonts.gstatic.com/",
            "link https://dns.vendor.test/",
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
        // Byte 0xE9 inside a URL is "й" (U+0439, %D0%B9 in UTF-8) in windows-1251 and "é" (%C3%A9)
        // in Latin-1, which is also what libxml2 falls back to for bytes that are not UTF-8: only a
        // parser that honours the declared charset gets the Cyrillic letter.
        func page(meta: String) -> [UInt8] {
            var bytes = Array("<html><head>\(meta)<title>x</title></head><body><script src=\"https://cdn.vendor.test/a".utf8)
            bytes.append(0xE9)
            bytes += Array(".js\"></script></body></html>".utf8)
            return bytes
        }
        let cyrillic = extractor.extract(body: page(meta: "<meta charset=\"windows-1251\">"), pageURL: "https://shop.example/")
        #expect(cyrillic.resources.map(\.url) == ["https://cdn.vendor.test/a%D0%B9.js"])
        let latin1 = extractor.extract(body: page(meta: "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">"),
                                       pageURL: "https://shop.example/")
        #expect(latin1.resources.map(\.url) == ["https://cdn.vendor.test/a%C3%A9.js"])
        // The charset the HTTP headers name decides for a document that names none.
        let header = extractor.extract(body: page(meta: ""), pageURL: "https://shop.example/", charset: "windows-1251")
        #expect(header.resources.map(\.url) == ["https://cdn.vendor.test/a%D0%B9.js"])
    }

    @Test(arguments: [255, 256, 300, 20_000])
    func deepNestingHidesNothing(depth: Int) {
        // libxml2 stops parsing at nesting depth 256 unless told otherwise; a script inside the
        // deepest element, and one after the nesting closes, must both still be found.
        let html = "<script src='https://before.test/a.js'></script>" + String(repeating: "<div>", count: depth)
            + "<script src='https://deep.test/x.js'></script>" + String(repeating: "</div>", count: depth)
            + "<img src='https://after.test/p.gif'>"
        let e = extract(html)
        #expect(e.resources.map(\.url) == ["https://before.test/a.js", "https://deep.test/x.js", "https://after.test/p.gif"])
    }

    @Test func linkRelationsThatLoadAreResources() {
        let rels = ["preload", "modulepreload", "prefetch", "prerender", "icon", "shortcut icon", "manifest", "stylesheet",
                    "preconnect", "dns-prefetch"]
        let skipped = ["canonical", "alternate", "author", "next", "license"]
        let html = (rels + skipped).enumerated().map { "<link rel=\"\($1)\" href=\"https://l\($0).test/x\">" }.joined()
        let e = extract("<html><head>\(html)</head></html>")
        #expect(e.resources.map(\.url) == rels.indices.map { "https://l\($0).test/x" })
        #expect(e.resources.allSatisfy { $0.kind == .link })
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
