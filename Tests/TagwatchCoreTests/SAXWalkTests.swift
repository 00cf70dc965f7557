import Foundation
import Testing
@testable import TagwatchCore

/// The Extractor reads libxml2's SAX events instead of a tree (issue 12). These pin what a walk
/// over events must reconstruct to list exactly what the tree walk listed: nesting closed by
/// implied end tags, text arriving in pieces, attributes as the parser hands them, the order of a
/// noscript's resources, and where libxml2's tree builder put (or dropped) content.
@Suite struct SAXWalkTests {
    let extractor = Extractor()

    func extract(_ html: String) -> Extraction {
        extractor.extract(body: Array(html.utf8), pageURL: "https://www.shop.test/p/")
    }

    func names(_ e: Extraction) -> [String] {
        e.resources.map { ($0.url.split(separator: "/").last.map(String.init) ?? "") + " " + $0.kind.rawValue }
    }

    /// `</p>` closes an open noscript, `</div>` an open svg: what follows is outside them.
    @Test func impliedEndTagsCloseNoscriptAndSVG() {
        let e = extract("""
            <html><body><p><noscript><img src=a.gif></p><img src=b.gif>\
            <div><svg><a></div><script href=x.js></script><svg><script href=y.js></script></svg></body></html>
            """)
        #expect(names(e) == ["a.gif noscript-img", "b.gif img", "y.js script"])
    }

    /// The parser hands a long script over in pieces of about 1,000 bytes; its text is their
    /// concatenation, and a URL across a boundary is whole.
    @Test func scriptTextSplitAcrossCallbacksIsWhole() {
        let body = (0..<1500).map { "var x\($0) = \"https://cdn\($0).vendor.test/lib.js\";\n" }.joined()
        let split = "var a=\"" + String(repeating: "x", count: 995) + "https://split.vendor.test/s.js\";"
        let e = extract("<html><head><script>\(body)</script><script>\(split)</script></head></html>")
        #expect(e.inlineScripts == [body, split])
        let inline = e.resources.filter { $0.kind == .inlineScript }.map(\.url)
        #expect(inline.count == 1501)
        #expect(inline.contains("https://cdn1499.vendor.test/lib.js"))
        #expect(inline.last == "https://split.vendor.test/s.js")
    }

    /// 20,000 attributes before the one read; names compared as the parser lowercased them; a
    /// repeated attribute is dropped by the parser (the first wins); one written without a
    /// value is empty, so names nothing.
    @Test func attributesAsTheParserGivesThem() {
        let many = (0..<20_000).map { "a\($0)=v\($0)" }.joined(separator: " ")
        let e = extract("<html><body><img \(many) SRC=first.gif src=second.gif><img src srcset=\"s.gif 1x\"><script src></script></body></html>")
        #expect(names(e) == ["first.gif img", "s.gif img"])
        #expect(e.inlineScripts.isEmpty)
    }

    /// A noscript's markup kept as text (escaped here) is parsed on its own, each text node
    /// separately (a comment ends one); its resources come before those of the noscript's elements.
    @Test func noscriptTextComesBeforeItsElements() {
        let e = extract("<html><body><noscript><img src=el.gif>&lt;img src=tx.gif&gt;<!-- c -->&lt;img src=tx2.gif&gt;</noscript><img src=after.gif></body></html>")
        #expect(names(e) == ["tx.gif noscript-img", "tx2.gif noscript-img", "el.gif noscript-img", "after.gif img"])
    }

    /// Content after `</html>` is loaded by a browser (it moves it into `<body>`), whatever comes
    /// first: libxml2's tree hung it beside the root when a comment or doctype was the document's
    /// first child, and the old tree walk never saw it there, so a page could hide a script
    /// behind `<!DOCTYPE html>…</html>`. The walk now reports it in all three shapes.
    @Test func contentAfterTheRootIsReportedAsABrowserLoadsIt() {
        for prefix in ["", "<!-- c -->", "<!DOCTYPE html>"] {
            #expect(names(extract(prefix + "<html><body><img src=in.gif></body></html><script src=after.js></script><img src=x.gif>"))
                    == ["in.gif img", "after.js script", "x.gif img"], "prefix \(prefix)")
        }
    }

    /// In a noscript's text parsed on its own, a later top-level element is the first one's
    /// child in libxml2's tree: under a script (not entered), under an svg (SVG's script href),
    /// beside a leading comment (walked).
    @Test func aFragmentsLaterElementsHangUnderItsFirst() {
        let underScript = extract("<html><body><noscript>&lt;script src=a.js&gt;&lt;/script&gt;&lt;img src=b.gif&gt;</noscript></body></html>")
        #expect(names(underScript) == ["a.js script"])
        let underSVG = extract("<html><body><noscript>&lt;svg&gt;&lt;/svg&gt;&lt;script href=s.js&gt;&lt;/script&gt;</noscript></body></html>")
        #expect(names(underSVG) == ["s.js script"])
        let afterComment = extract("<html><body><noscript>&lt;!-- x --&gt;&lt;script src=a.js&gt;&lt;/script&gt;&lt;img src=b.gif&gt;</noscript></body></html>")
        #expect(names(afterComment) == ["a.js script", "b.gif noscript-img"])
    }

    /// A noscript's text is parsed without XML_PARSE_HUGE, so libxml2 stops that parse at an
    /// element 257 deep: what came before counts, nothing after it; the page itself goes on.
    @Test(arguments: [(256, true), (257, false)])
    func aStoppedFragmentParseKeepsWhatCameBefore(depth: Int, deepFound: Bool) {
        let open = String(repeating: "&lt;div&gt;", count: depth), close = String(repeating: "&lt;/div&gt;", count: depth)
        let e = extract("<html><body><noscript>&lt;img src=shallow.gif&gt;\(open)&lt;img src=deep.gif&gt;\(close)&lt;img src=after.gif&gt;</noscript><img src=page.gif></body></html>")
        #expect(names(e) == ["shallow.gif noscript-img"] + (deepFound ? ["deep.gif noscript-img", "after.gif noscript-img"] : []) + ["page.gif img"])
    }

    /// A parse started inside a callback (srcdoc, a data: document, a noscript's text) leaves the
    /// outer parse where it was.
    @Test func nestedParsesInsideCallbacks() {
        let e = extract("""
            <html><body><iframe srcdoc="&lt;noscript&gt;&amp;lt;img src=ns-in-srcdoc.gif&amp;gt;&lt;/noscript&gt;&lt;script&gt;fetch('https://sd.test/a.js')&lt;/script&gt;"></iframe>\
            <noscript>&lt;iframe srcdoc=&quot;&amp;lt;img src=srcdoc-in-ns.gif&amp;gt;&quot;&gt;&lt;/iframe&gt;</noscript>\
            <script>fetch("https://page.test/b.js")</script><img src=last.gif></body></html>
            """)
        #expect(names(e) == ["ns-in-srcdoc.gif noscript-img", "srcdoc-in-ns.gif img", "last.gif img", "a.js inline-script", "b.js inline-script"])
        #expect(e.inlineScripts == ["fetch('https://sd.test/a.js')", "fetch(\"https://page.test/b.js\")"])
    }
}
