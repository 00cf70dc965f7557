import Foundation
import Testing
@testable import TagwatchCore

/// Pages written to hide a script from a parser that is not a browser (issue 9): each hidden
/// script must still be found, and what cannot be read must be a warning.
@Suite struct HostileHTMLTests {
    let extractor = Extractor()
    let page = "https://www.shop.test/"
    let hidden = "https://static.hotjar.com/c/hotjar-1.js"

    func scripts(_ body: [UInt8], charset: String? = nil) -> (urls: [String], warnings: [String]) {
        let e = extractor.extract(body: body, pageURL: page, charset: charset)
        return (e.resources.filter { $0.kind == .script }.map(\.url), e.warnings)
    }

    func scripts(_ html: String, charset: String? = nil) -> (urls: [String], warnings: [String]) {
        scripts(Array(html.utf8), charset: charset)
    }

    @Test(arguments: [255, 256, 300, 3000, 20000])
    func deepNestingHidesNothing(depth: Int) {
        let html = "<html><body>" + String(repeating: "<div>", count: depth) + "<script src=\"\(hidden)\"></script>"
            + String(repeating: "</div>", count: depth) + "<script src=\"https://after.test/a.js\"></script></body></html>"
        let r = scripts(html)
        #expect(r.urls.contains(hidden), "depth \(depth)")
        #expect(r.urls.contains("https://after.test/a.js"), "depth \(depth)")
    }

    @Test func nulBytesHideNothing() {
        var body = Array("<html><head><title>x\0y</title>\0".utf8)
        body += Array("<script src=\"\(hidden)\"></script><img src=\"https://px.test/\0p.gif\"></head></html>".utf8)
        let e = extractor.extract(body: body, pageURL: page)
        #expect(e.resources.contains { $0.url == hidden })
        #expect(e.resources.contains { $0.kind == .img && $0.url.hasPrefix("https://px.test/") })
    }

    @Test(arguments: ["UTF-16LE", "utf-16", "UTF-16BE", "utf-32", "UTF-32LE", "ucs-2"])
    func aUTF16MetaCharsetMeansUTF8(label: String) {
        let html = "<html><head><meta charset=\"\(label)\"><script src=\"\(hidden)\"></script></head><body>é</body></html>"
        #expect(scripts(html).urls == [hidden], "\(label)")
        let httpEquiv = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=\(label)\"><script src=\"\(hidden)\"></script></head></html>"
        #expect(scripts(httpEquiv).urls == [hidden], "\(label)")
    }

    @Test func byteOrderMarksDecide() {
        let html = "<html><head><meta charset=\"windows-1252\"><script src=\"\(hidden)\"></script></head></html>"
        var le: [UInt8] = [0xFF, 0xFE]
        var be: [UInt8] = [0xFE, 0xFF]
        for u in html.utf16 {
            le += [UInt8(u & 0xFF), UInt8(u >> 8)]
            be += [UInt8(u >> 8), UInt8(u & 0xFF)]
        }
        #expect(scripts(le).urls == [hidden])
        #expect(scripts(be).urls == [hidden])
        // A BOM beats the Content-Type header, as in a browser.
        #expect(scripts(le, charset: "iso-8859-1").urls == [hidden])
        #expect(scripts([0xEF, 0xBB, 0xBF] + Array(html.utf8), charset: "utf-16").urls == [hidden])
        // UTF-16 from the header without a BOM is decoded as UTF-16.
        #expect(scripts(Array(le.dropFirst(2)), charset: "utf-16le").urls == [hidden])
    }

    /// A byte sequence the page's encoding does not allow becomes a substitute and reading goes on,
    /// as in a browser; libxml2's own conversion stopped the document there, hiding every later script.
    @Test(arguments: [
        ("shift_jis", [0x82, 0xA0, 0x85, 0xFF] as [UInt8]), ("euc-jp", [0xA4, 0xA2, 0xFF, 0xFE]),
        ("gb18030", [0xC4, 0xE3, 0x81, 0x20]), ("big5", [0xA4, 0x40, 0xFF, 0x20]), ("euc-kr", [0xB0, 0xA1, 0xFF, 0x20]),
        ("iso-2022-jp", [0x1B, 0x24, 0x42, 0x24, 0x22, 0x1B, 0x28, 0x42, 0x0E]),
    ])
    func anInvalidByteInAMultibyteEncodingHidesNothing(label: String, prose: [UInt8]) {
        let head = Array("<html><head><meta charset=\"\(label)\"></head><body><p>".utf8)
        let tail = Array("</p><script src=\"\(hidden)\"></script></body></html>".utf8)
        let fromMeta = scripts(head + prose + tail)
        #expect(fromMeta.urls == [hidden], "\(label) from <meta>: \(fromMeta.warnings)")
        #expect(scripts(head + prose + tail, charset: label).urls == [hidden], "\(label) from HTTP")
    }

    /// A URL written in the page's own encoding reaches the resolver as the same characters.
    @Test func pagesInOtherEncodingsAreDecoded() {
        // "кот" in windows-1251 and "あ" in Shift_JIS, inside a script's path.
        let cp1251 = Array("<html><head><meta charset=windows-1251><script src=\"https://e.test/".utf8) + [0xEA, 0xEE, 0xF2]
            + Array(".js\"></script></head></html>".utf8)
        #expect(scripts(cp1251).urls == ["https://e.test/%D0%BA%D0%BE%D1%82.js"])
        let sjis = Array("<html><head><script src=\"https://e.test/".utf8) + [0x82, 0xA0] + Array(".js\"></script></head></html>".utf8)
        #expect(scripts(sjis, charset: "Shift_JIS").urls == ["https://e.test/%E3%81%82.js"])
    }

    @Test func anUnknownCharsetIsAWarningNotSilence() {
        let r = scripts("<html><head><meta charset=\"x-made-up\"><script src=\"\(hidden)\"></script></head></html>")
        #expect(r.urls == [hidden])
        #expect(r.warnings.contains { $0.contains("x-made-up") })
    }

    @Test func svgScriptsLoadFromHref() {
        let html = """
            <html><body><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
            <script xlink:href="https://a.test/xlink.js"></script><script href="https://b.test/href.js"/>
            <image href="https://px.test/p.gif"/></svg>
            <script href="https://not.test/html.js"></script></body></html>
            """
        let e = extractor.extract(body: Array(html.utf8), pageURL: page)
        let got = e.resources.map { "\($0.kind.rawValue) \($0.url)" }
        #expect(got.contains("script https://a.test/xlink.js"))
        #expect(got.contains("script https://b.test/href.js"))
        #expect(got.contains("img https://px.test/p.gif"))
        #expect(!got.contains { $0.contains("not.test") }, "a href on an HTML script loads nothing")
    }

    @Test func iframeSrcdocIsPartOfThePage() {
        let inner = "<script src=&quot;https://deeper.test/d.js&quot;></script>"
        let html = """
            <html><body><iframe srcdoc="<p>hi</p><script src='\(hidden)'></script>
            <img src='/pixel.gif'><script>var s='https://inline.test/i.js';</script>
            <iframe srcdoc='\(inner)'></iframe>"></iframe></body></html>
            """
        let e = extractor.extract(body: Array(html.utf8), pageURL: page)
        let urls = e.resources.map(\.url)
        #expect(urls.contains(hidden))
        #expect(urls.contains("https://www.shop.test/pixel.gif"), "srcdoc resolves against the page's base")
        #expect(urls.contains("https://inline.test/i.js"))
        #expect(urls.contains("https://deeper.test/d.js"))
    }

    @Test func srcdocNestingIsBoundedAndSaysSo() {
        var doc = "<script src='\(hidden)'></script>"
        for _ in 0..<12 {
            doc = "<iframe srcdoc=\"" + doc.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;") + "\"></iframe>"
        }
        let e = extractor.extract(body: Array(("<html><body>" + doc + "</body></html>").utf8), pageURL: page)
        #expect(e.warnings.contains { $0.contains("srcdoc nested more than") })
    }

    @Test func aHugeTextNodeHidesNothing() {
        let text = String(repeating: "a", count: 12_000_000)
        let r = scripts("<html><body><p>\(text)</p><script src=\"\(hidden)\"></script><textarea>\(text)</textarea><script src=\"https://after.test/a.js\"></script></body></html>")
        #expect(r.urls == [hidden, "https://after.test/a.js"])
    }

    @Test func baseHrefUsesTheBrowsersParser() {
        let e = extractor.extract(body: Array(#"<html><head><base href="https:\\evil.test/x/"><script src="app.js"></script></head></html>"#.utf8), pageURL: page)
        #expect(e.resources.map(\.url) == ["https://evil.test/x/app.js"])
        let dotted = extractor.extract(body: Array(#"<script src="https://ad.doubleclick%2Enet./x.js"></script>"#.utf8), pageURL: page)
        #expect(dotted.resources.map(\.url) == ["https://ad.doubleclick.net./x.js"])
        #expect(URLResolver.hostAndPath(dotted.resources[0].url)?.host == "ad.doubleclick.net")
    }

    /// Tokenizer corners where a browser loads a script that a careless parser would miss.
    @Test(arguments: [
        "<!--><script src=\"HIDDEN\"></script>",
        "<!---><script src=\"HIDDEN\"></script>",
        "<script/src=\"HIDDEN\"></script>",
        "<script src=HIDDEN></script>",
        "<SCRIPT SRC = \"HIDDEN\" ></SCRIPT>",
        "<script\nsrc=\"HIDDEN\"></script>",
        "<script src=\"HIDDEN\" src=\"https://decoy.test/d.js\"></script>",
        "<script src=\"&#x68;ttps://static&period;hotjar.com/c/hotjar-1.js\"></script>",
        "<textarea><script src=\"https://decoy.test/in-textarea.js\"></script></textarea><script src=\"HIDDEN\"></script>",
        "<iframe><script src=\"https://decoy.test/fallback.js\"></script></iframe><script src=\"HIDDEN\"></script>",
        "<?php echo 1 ?><?x><script src=\"HIDDEN\"></script>",
        "<!x><script src=\"HIDDEN\"></script>",
        "</ x><script src=\"HIDDEN\"></script>",
        "<!-- a --!><script src=\"HIDDEN\"></script>",
        "<script src=\"https&colon;&sol;&sol;static&period;hotjar&period;com/c/hotjar-1&period;js\"></script>",
        "<script src=https:&sol;/static.hotjar.com&sol;c/hotjar-1.js></script>",
        "<script src=\"https://&sopf;&topf;&aopf;&topf;&iopf;&copf;.hotjar.com/c/hotjar-1.js\"></script>",
        "<svg><foreignObject><script src=\"HIDDEN\"></script></foreignObject></svg>",
        "<SVG><SCRIPT XLINK:HREF=\"HIDDEN\"></SCRIPT></SVG>",
        "<table><script src=\"HIDDEN\"></script></table>",
        "<select><script src=\"HIDDEN\"></script></select>",
        "<frameset><frame src=\"x\"></frameset><script src=\"HIDDEN\"></script>",
    ])
    func tokenizerCornersHideNothing(html: String) {
        let body = "<!doctype html><html><head></head><body>" + html.replacingOccurrences(of: "HIDDEN", with: hidden) + "</body></html>"
        let r = scripts(body)
        #expect(r.urls.first == hidden, "\(html): \(r.urls)")
    }

    /// Documents and scripts inside data: URLs load with the page.
    @Test func dataURLDocumentsAndScriptsArePartOfThePage() {
        let inner = "<script src='\(hidden)'></script>"
        let b64 = Data(inner.utf8).base64EncodedString()
        let svg = Data("<svg xmlns='http://www.w3.org/2000/svg'><script href='https://svg.test/s.js'/></svg>".utf8).base64EncodedString()
        let html = """
            <html><body>
            <iframe src="data:text/html,%3Cscript%20src%3D%22https://pct.test/p.js%22%3E%3C/script%3E"></iframe>
            <iframe src="data:text/html;base64,\(b64)"></iframe>
            <object data="data:image/svg+xml;base64,\(svg)"></object>
            <embed src="DATA:text/html;charset=utf-8,<img src='https://embed.test/e.gif'>">
            <script src="data:text/javascript,var s=document.createElement('script');s.src='https://dyn.test/d.js';document.head.appendChild(s)"></script>
            <iframe src="data:text/plain,<script src='https://plain.test/no.js'></script>"></iframe>
            </body></html>
            """
        let urls = extractor.extract(body: Array(html.utf8), pageURL: page).resources.map(\.url)
        #expect(urls.contains("https://pct.test/p.js"))
        #expect(urls.contains(hidden))
        #expect(urls.contains("https://svg.test/s.js"))
        #expect(urls.contains("https://embed.test/e.gif"))
        #expect(urls.contains("https://dyn.test/d.js"))
        #expect(!urls.contains("https://plain.test/no.js"), "text/plain is not a document")
    }

    /// A frame whose src is a javascript: URL runs that code when it loads.
    @Test func javascriptURLFramesAreSearched() {
        let html = #"<html><body><iframe src="javascript:'<script src=\'https://jsurl.test/j.js\'></script>'"></iframe><iframe src="JavaScript:%27%3Cscript%20src=%22https://pct.test/k.js%22%3E%3C/script%3E%27"></iframe></body></html>"#
        let urls = extractor.extract(body: Array(html.utf8), pageURL: page).resources.map(\.url)
        #expect(urls.contains("https://jsurl.test/j.js"), "\(urls)")
        #expect(urls.contains("https://pct.test/k.js"), "\(urls)")
    }

    /// Images a page loads without <img src>: srcset, <picture><source>, <input type=image>, video posters.
    @Test func pixelsWithoutImgSrc() {
        let html = """
            <html><body><img srcset="https://px.test/a.gif 1x, https://px.test/b.gif 2x" alt="">
            <picture><source srcset="https://px.test/c.gif"><img src="/local.gif"></picture>
            <input type="image" src="https://px.test/d.gif"><input type="text" src="https://not.test/x">
            <video poster="https://px.test/e.gif"></video></body></html>
            """
        let imgs = extractor.extract(body: Array(html.utf8), pageURL: page).resources.filter { $0.kind == .img }.map(\.url)
        for u in ["a", "b", "c", "d", "e"] { #expect(imgs.contains("https://px.test/\(u).gif"), "\(u): \(imgs)") }
        #expect(!imgs.contains { $0.contains("not.test") })
    }

    /// URLs in inline code written with JavaScript escapes are the URLs the browser loads.
    @Test func escapedSlashesInInlineCode() {
        let html = #"<script>var a="https:\/\/ad.doubleclick.net\/x.js"; var b='\x2f\x2fcdn.esc.test\u002fy.js'; var c="https\u003a//z.test/z.js";</script>"#
        let urls = extractor.extract(body: Array(html.utf8), pageURL: page).resources.map(\.url)
        #expect(urls.contains("https://ad.doubleclick.net/x.js"), "\(urls)")
        #expect(urls.contains("https://cdn.esc.test/y.js"), "\(urls)")
        #expect(urls.contains("https://z.test/z.js"), "\(urls)")
    }
}

/// Sitemaps are XML from the network: entity tricks end quickly and name no local file.
@Suite struct HostileSitemapTests {
    @Test func billionLaughsEndsQuickly() {
        var dtd = "<!DOCTYPE urlset [<!ENTITY a0 \"https://x.test/\">"
        for i in 1...12 { dtd += "<!ENTITY a\(i) \"" + String(repeating: "&a\(i - 1);", count: 10) + "\">" }
        dtd += "]>"
        let xml = "<?xml version=\"1.0\"?>" + dtd + "<urlset><url><loc>&a12;</loc></url><url><loc>https://ok.test/</loc></url></urlset>"
        let r = SitemapExtractor.extract(Array(xml.utf8))
        // Either refused or read without expanding 10^12 copies; the plain entry survives if read.
        if let r { #expect(r.pages.allSatisfy { $0.utf8.count < 10_000_000 }) }
    }

    @Test func externalEntitiesAreNotRead() {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE urlset [<!ENTITY e SYSTEM \"file:///etc/hostname\">]><urlset><url><loc>https://a.test/&e;</loc></url></urlset>"
        let r = SitemapExtractor.extract(Array(xml.utf8))
        let host = (try? String(contentsOfFile: "/etc/hostname", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "\u{0}"
        #expect(!(r?.pages ?? []).contains { $0.contains(host) })
    }
}

/// The fast UTF-8 check every page goes through (issue 12) finds the same first bad byte as the
/// standard library's decoder, on the edge cases of RFC 3629 and on random bytes.
@Suite struct UTF8CheckTests {
    static func reference(_ body: [UInt8]) -> Int? {
        var it = body.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    @Test func agreesWithTheStandardDecoder() {
        let ascii = Array("<p>plain ASCII, long enough for the eight-byte steps</p>".utf8)
        let cases: [[UInt8]] = [
            [], ascii, Array("café – 日本 – 😀".utf8),
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF5, 0x80, 0x80, 0x80], [0xF0, 0x9F, 0x98], [0xE2, 0x82], [0x80], [0xFF], [0xC3],
        ]
        var all = cases
        for c in cases { all.append(ascii + c + ascii); all.append(ascii + c) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<40, using: &rng)
            let pool: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0x9F, 0xA0, 0x8F, 0x90]
            all.append(ascii.prefix(Int.random(in: 0..<12, using: &rng)) + (0..<n).map { _ in pool.randomElement(using: &rng)! })
        }
        for body in all {
            #expect(Scanner.firstInvalidUTF8(body) == Self.reference(body), "\(body)")
        }
    }
}
