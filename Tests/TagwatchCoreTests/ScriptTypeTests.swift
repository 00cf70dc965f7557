import Testing
@testable import TagwatchCore

/// Which `type`s make an inline script JavaScript (its code is searched); ASCII types without
/// blanks at either end skip Foundation's trimming, the others keep it.
@Suite struct ScriptTypeTests {
    @Test(arguments: [
        ("", true), ("module", true), ("Module", true), (" module", true), ("module\t", true), ("\tTEXT/JavaScript ", true),
        ("text/javascript; charset=utf-8", true), ("application/x-javascript", true), ("text/gtmscript", true),
        ("application/ecmascript", true), ("text/jscript", true), ("TEXT/JAVASCRIPT", true),
        ("text/plain", false), ("application/ld+json", false), ("text/template", false), ("mod ule", false), ("\nmodule", false),
        ("MODULE\u{00A0}x", false), ("text/javascrİpt", false),
        // As main's build reads them (checked with both builds): these are not trimmed to `module`.
        ("\u{00A0}module", false), ("module\u{2003}", false), ("\u{212A}odule", false), ("module\r", false), ("\u{0B}module", false),
    ])
    func inlineScriptIsReadFor(type: String, isJavaScript: Bool) {
        let html = "<html><body><script type=\"\(type)\">var x = 'https://cdn.example.net/x.js';</script></body></html>"
        let e = Extractor().extract(body: Array(html.utf8), pageURL: "https://www.example.com/")
        #expect(e.inlineScripts.isEmpty == !isJavaScript, "\(type.debugDescription)")
    }
}
