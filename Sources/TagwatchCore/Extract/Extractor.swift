import CLibXML2
import Foundation

/// Turns a page's HTML into the resources it references, using libxml2's recovering HTML
/// parser with network access off. The only file in the core that touches libxml2.
public struct Extractor: Sendable {
    public init() {
        Extractor.initialize
    }

    private static let initialize: Void = {
        xmlInitParser()
        cxml_silence()
    }()

    /// libxml2's options: recovering, no network, and no size or depth limits that would hide
    /// content (XML_PARSE_HUGE lifts the 256-level depth limit and the 10 MB text node limit);
    /// the page decides nothing about its encoding (HTMLInput does, as a browser would).
    static let documentOptions = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
        | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue | HTML_PARSE_NOBLANKS.rawValue
        | HTML_PARSE_IGNORE_ENC.rawValue | XML_PARSE_HUGE.rawValue)

    /// Parses `bytes`, feeding the walker libxml2's SAX events instead of building a tree (the
    /// tree was only walked once and freed: bench/issue12/sax.md); a parser that stopped early
    /// is a warning, not silence. `fragmentOptions` parses a noscript's markup kept as text.
    fileprivate static func parseAndWalk(_ bytes: [UInt8], url: String?, encoding: String?, walker: Walker, warnings: inout [String],
                                         options: Int32 = documentOptions) {
        guard !bytes.isEmpty, let ctxt = htmlNewParserCtxt() else { return }
        defer { htmlFreeParserCtxt(ctxt) }
        // The context is the callbacks' only way back to the walker (user data is the context).
        ctxt.pointee.sax.pointee = Walker.saxHandler()
        ctxt.pointee._private = Unmanaged.passUnretained(walker).toOpaque()
        withExtendedLifetime(walker) {
            _ = bytes.withUnsafeBufferPointer { buf in
                buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                    htmlCtxtReadMemory(ctxt, p, Int32(clamping: buf.count), url, encoding, options)
                }
            }
        }
        ctxt.pointee._private = nil
        walker.finish()
        guard options == documentOptions else { return }
        if ctxt.pointee.disableSAX != 0 {
            let line = ctxt.pointee.input.map { Int($0.pointee.line) } ?? 0
            warnings.append("the HTML parser stopped at line \(line) (libxml2 error \(ctxt.pointee.errNo)); content after it was not scanned")
        }
        if !walker.started {
            warnings.append("the HTML parser could not read this document (libxml2 error \(ctxt.pointee.errNo)); nothing was extracted")
        }
    }

    /// Extracts from `body`, served at `pageURL`; `charset` is the one the HTTP headers named, if any
    /// (otherwise a byte order mark or the document's own `<meta charset>` decides, as in a browser).
    /// `validUTF8`: whether `body` is well-formed UTF-8, when the caller has checked already
    /// (the scanner does, for its warning), so it is not checked twice; nil: checked here if needed.
    public func extract(body: [UInt8], pageURL: String, charset: String? = nil, validUTF8: Bool? = nil) -> Extraction {
        let walker = Walker()
        let input = HTMLInput(body: body, headerCharset: charset, isKnown: Extractor.isKnownCharset, validUTF8: validUTF8)
        var warnings = input.notes
        Extractor.parseAndWalk(input.bytes, url: pageURL, encoding: input.encoding, walker: walker, warnings: &warnings)
        warnings += walker.warnings
        // `<base href>` goes through the same URL parser, against the page's own URL.
        let pageBase = WebURL(pageURL)
        var base = pageBase
        var baseURL = pageURL
        if let href = walker.baseHref, let resolved = URLResolver.resolve(href, against: pageURL) {
            base = WebURL(resolved)
            baseURL = resolved
        }
        // An http(s) base is parsed once; a saved page's file: base takes the slower path.
        func resolve(_ reference: String) -> String? {
            base != nil ? URLResolver.resolve(reference, against: base) : URLResolver.resolve(reference, against: baseURL)
        }
        let resources = Self.resources(of: walker, resolve: resolve)
        let canonical = (walker.canonical ?? walker.ogURL).flatMap { URLResolver.resolve($0, against: baseURL) }
            .flatMap { u in u.hasPrefix("http://") || u.hasPrefix("https://") ? u : nil }
        var extraction = Extraction(resources: resources, inlineScripts: walker.inlineScripts, baseURL: baseURL, canonicalURL: canonical)
        extraction.warnings = warnings
        return extraction
    }

    /// The resources an HTML fragment names (a tag manager's Custom HTML tag), resolved against
    /// `baseURL`: its elements' sources, and the URLs its inline scripts load (`kind: inlineScript`).
    public func extractFragment(html: String, baseURL: String) -> (resources: [ExtractedResource], inlineScripts: [String]) {
        let walker = Walker()
        // In a body, as a tag's markup is injected: parsed on its own, libxml2 would put a leading
        // <script> in <head>, where a following <noscript>'s markup is not parsed as elements.
        // Through the page's own path, so the browser-like tokenizing and NUL handling apply too.
        let input = HTMLInput(body: Array(("<html><body>" + html).utf8), headerCharset: "utf-8", isKnown: Extractor.isKnownCharset)
        var warnings = input.notes
        Extractor.parseAndWalk(input.bytes, url: nil, encoding: input.encoding, walker: walker, warnings: &warnings)
        let base = WebURL(baseURL)  // parsed once, not once per reference
        let resources = Self.resources(of: walker) { base != nil ? URLResolver.resolve($0, against: base) : URLResolver.resolve($0, against: baseURL) }
        return (resources, walker.inlineScripts)
    }

    /// The walker's references and the URLs its inline scripts load, resolved; unresolvable ones dropped.
    fileprivate static func resources(of walker: Walker, resolve: (String) -> String?) -> [ExtractedResource] {
        var resources: [ExtractedResource] = []
        resources.reserveCapacity(walker.raw.count)
        for r in walker.raw {
            if let u = resolve(r.url) {
                resources.append(ExtractedResource(url: u, kind: r.kind, integrity: r.integrity))
            }
        }
        for (i, text) in walker.inlineScripts.enumerated() {
            for u in InlineURLScanner.loadedURLs(in: text) {
                if let resolved = resolve(u) {
                    resources.append(ExtractedResource(url: resolved, kind: .inlineScript, inlineIndex: i))
                }
            }
        }
        return resources
    }

    static func isKnownCharset(_ name: String) -> Bool {
        if xmlParseCharEncoding(name) != XML_CHAR_ENCODING_ERROR { return true }
        // A handler found through iconv (windows-1251, Shift_JIS, …) is made for the caller, who
        // must close it: left open it leaked about 66 KB per page (LeakSanitizer found it).
        guard let handler = xmlFindCharEncodingHandler(name) else { return false }
        xmlCharEncCloseFunc(handler)
        return true
    }
}

/// The element names the extractor cares about.
private enum Tag {
    case script, iframe, img, link, form, object, embed, noscript, base, frame, svg, image, source, input, video, meta
}

private func tagOf(_ name: UnsafePointer<xmlChar>) -> Tag? {
    // Compare bytes directly: the parser lowercases element names.
    func eq(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        let b = s.utf8Start
        for i in 0..<n where name[i] != b[i] { return false }
        return name[n] == 0
    }
    switch name[0] {
    case UInt8(ascii: "s"): return eq("script") ? .script : (eq("svg") ? .svg : (eq("source") ? .source : nil))
    case UInt8(ascii: "i"): return eq("iframe") ? .iframe : (eq("img") ? .img : (eq("image") ? .image : (eq("input") ? .input : nil)))
    case UInt8(ascii: "v"): return eq("video") ? .video : nil
    case UInt8(ascii: "l"): return eq("link") ? .link : nil
    case UInt8(ascii: "f"): return eq("form") ? .form : (eq("frame") ? .frame : nil)
    case UInt8(ascii: "o"): return eq("object") ? .object : nil
    case UInt8(ascii: "e"): return eq("embed") ? .embed : nil
    case UInt8(ascii: "n"): return eq("noscript") ? .noscript : nil
    case UInt8(ascii: "b"): return eq("base") ? .base : nil
    case UInt8(ascii: "m"): return eq("meta") ? .meta : nil
    default: return nil
    }
}

private struct RawResource {
    var url: String
    var kind: ResourceKind
    var integrity: String?
}

/// `rel` values of `<link>` that make the browser load or connect to something.
private let loadingRels: Set<String> = [
    "stylesheet", "preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch",
    "prerender", "icon", "apple-touch-icon", "manifest",
]

/// Script `type`s that browsers execute as JavaScript.
private func isJavaScriptType(_ type: String?) -> Bool {
    guard let type else { return true }
    // An ASCII type with no blank at either end (nearly all) has nothing to trim: Foundation's
    // trimming cost 5,000 instructions a script. Its only ASCII whitespace is space and tab.
    let u = type.utf8
    let plain = u.allSatisfy { $0 < 0x80 } && u.first.map { $0 != 0x20 && $0 != 0x09 } == true && u.last.map { $0 != 0x20 && $0 != 0x09 } == true
    let t = plain ? type.lowercased() : type.trimmingCharacters(in: .whitespaces).lowercased()
    guard !t.isEmpty else { return true }
    // GTM's Custom HTML tags carry `text/gtmscript`, which GTM turns back into JavaScript.
    return t == "module" || t == "text/gtmscript" || t.hasSuffix("/javascript") || t.hasSuffix("/ecmascript")
        || t == "text/jscript" || t == "application/x-javascript" || t.hasPrefix("text/javascript")
}

/// What an open element means to the walk (one per element between its start and end events).
private struct Frame {
    enum Kind { case plain, noscript, svg, script, skipped }
    var kind: Kind
    /// A top-level element that libxml2's tree builder hangs under the first top-level element
    /// (see `startElement`) is, for the walk, inside a noscript or svg if that element is one.
    var adoptedIntoNoscript = false
    var adoptedIntoSVG = false
}

/// A `<noscript>` being read: where its resources go, and its text children so far.
private struct NoscriptText {
    /// `raw.count` at its start: a tree walk handled its text children (below) before its elements.
    var rawIndex: Int
    /// Its text children holding markup, as the tree's text nodes would be (adjacent character
    /// events merge; any other child ends a text node).
    var texts: [[UInt8]] = []
    var current: [UInt8] = []
    var inText = false

    mutating func endText() {
        if inText, current.contains(UInt8(ascii: "<")) { texts.append(current) }
        current.removeAll(keepingCapacity: true)
        inText = false
    }
}

/// The extraction state, fed by libxml2's SAX events for one document or fragment. A class:
/// the C callbacks reach it through an unretained pointer in the parser context.
fileprivate final class Walker {
    @exclusivity(unchecked) var raw: [RawResource] = []
    @exclusivity(unchecked) var inlineScripts: [String] = []
    var baseHref: String?
    /// `<link rel=canonical href>` and `<meta property=og:url content>`, first of each.
    var canonical: String?
    var ogURL: String?
    var warnings: [String] = []
    /// How many `iframe srcdoc` documents this one is nested in (each is parsed as a document).
    var srcdocDepth = 0
    static let maxSrcdocDepth = 8
    /// Whether libxml2 began the document at all (it did not when it could not read it).
    private(set) var started = false

    /// A noscript's markup kept as text, parsed on its own: every element is in a noscript, every
    /// top-level element is walked, and libxml2 builds its tree without XML_PARSE_HUGE.
    private let isFragment: Bool
    // The walk's hot state skips the runtime's exclusivity checks (`swift_beginAccess` on every
    // append and pop, 60,000 elements per 150 pages): one walker is only ever touched by its own
    // parse on one thread, and no access to it spans a callback (a nested parse has its own walker).
    @exclusivity(unchecked) private var stack: [Frame] = []
    private var noscriptOpen: Int
    private var svgOpen = 0
    /// Open elements the walk does not enter (inside a script or a skipped element).
    private var skipping = 0
    /// The text of the open inline JavaScript script, when one is being read.
    @exclusivity(unchecked) private var scriptText: [UInt8]?
    private var scriptOpen = false
    @exclusivity(unchecked) private var noscripts: [NoscriptText] = []
    /// The first top-level element (nil before it), and whether it has ended.
    private var firstTop: Tag??
    private var firstTopEnded = false
    /// Whether the document node's first child is an element (nil: no child yet). libxml2's
    /// tree builder (xmlSAX2StartElement) hangs a top-level element that starts after the first
    /// one ended under the document's first child when that is an element, and beside it
    /// otherwise: a comment or doctype first puts content after `</html>` outside the root.
    private var firstChildIsElement: Bool?

    init(fragmentInNoscript: Bool = false) {
        isFragment = fragmentInNoscript
        noscriptOpen = fragmentInNoscript ? 1 : 0
    }

    func add(_ url: String?, _ kind: ResourceKind, integrity: String? = nil) {
        guard let url, !url.isEmpty else { return }
        raw.append(RawResource(url: url, kind: kind, integrity: integrity))
    }

    // MARK: - SAX

    /// The callbacks, none of which builds a node; no Swift error can cross them (none throws).
    static func saxHandler() -> htmlSAXHandler {
        var h = htmlSAXHandler()
        h.initialized = 1
        h.startDocument = { ctx in Walker.walker(ctx)?.started = true }
        h.startElement = { ctx, name, atts in
            guard let name else { return }
            Walker.walker(ctx)?.startElement(name, Attributes(atts))
        }
        h.endElement = { ctx, _ in Walker.walker(ctx)?.endElement() }
        h.characters = { ctx, ch, len in
            guard let ch, len > 0 else { return }
            Walker.walker(ctx)?.text(UnsafeBufferPointer(start: ch, count: Int(len)), cdata: false)
        }
        h.cdataBlock = { ctx, ch, len in
            guard let ch, len > 0 else { return }
            Walker.walker(ctx)?.text(UnsafeBufferPointer(start: ch, count: Int(len)), cdata: true)
        }
        h.comment = { ctx, _ in Walker.walker(ctx)?.otherNode() }
        h.processingInstruction = { ctx, _, _ in Walker.walker(ctx)?.otherNode() }
        // A doctype (even a misplaced one) becomes the document's first child.
        h.internalSubset = { ctx, _, _, _ in Walker.walker(ctx)?.firstChildIsElement = false }
        return h
    }

    private static func walker(_ ctx: UnsafeMutableRawPointer?) -> Walker? {
        guard let priv = ctx?.assumingMemoryBound(to: htmlParserCtxt.self).pointee._private else { return nil }
        return Unmanaged<Walker>.fromOpaque(priv).takeUnretainedValue()
    }

    /// A comment or processing instruction: a child node that ends a noscript's text node.
    private func otherNode() {
        guard started, !halted else { return }
        if stack.isEmpty {
            if firstChildIsElement == nil { firstChildIsElement = false }
            return
        }
        if skipping == 0, stack[stack.count - 1].kind == .noscript { noscripts[noscripts.count - 1].endText() }
    }

    private func text(_ chars: UnsafeBufferPointer<UInt8>, cdata: Bool) {
        guard started, !halted, let top = stack.last else { return }
        if scriptOpen {
            scriptText?.append(contentsOf: chars)
            return
        }
        guard skipping == 0, top.kind == .noscript else { return }
        // A CDATA block is its own node, as is text after one; the tree merges neither with text.
        if cdata {
            noscripts[noscripts.count - 1].endText()
            noscripts[noscripts.count - 1].inText = true
            noscripts[noscripts.count - 1].current.append(contentsOf: chars)
            noscripts[noscripts.count - 1].endText()
        } else {
            noscripts[noscripts.count - 1].inText = true
            noscripts[noscripts.count - 1].current.append(contentsOf: chars)
        }
    }

    /// Without XML_PARSE_HUGE, libxml2's tree builder stops the parser at an element nested
    /// deeper than this (nodePush); a fragment's tree held only what came before.
    private static let maxDepthWithoutHuge = 256
    private var halted = false

    private func startElement(_ name: UnsafePointer<xmlChar>, _ atts: Attributes) {
        guard started, !halted else { return }
        if isFragment, stack.count > Walker.maxDepthWithoutHuge {
            halted = true
            return
        }
        if skipping > 0 {
            skipping += 1
            stack.append(Frame(kind: .skipped))
            return
        }
        if let last = stack.last, last.kind == .noscript { noscripts[noscripts.count - 1].endText() }
        let tag = tagOf(name)
        var frame = Frame(kind: .plain)
        if stack.isEmpty {
            if firstChildIsElement == nil { firstChildIsElement = true }
            if let first = firstTop {
                if firstTopEnded {
                    // A later top-level element: content after `</html>`, or a fragment's second element.
                    if firstChildIsElement == true {
                        if first == .script {
                            // Under a script, whose children the tree walk did not enter.
                            skipping += 1
                            stack.append(Frame(kind: .skipped))
                            return
                        }
                        frame.adoptedIntoNoscript = first == .noscript
                        frame.adoptedIntoSVG = first == .svg
                    }
                    // Otherwise (a doctype or comment came first) libxml2 hangs it beside the root
                    // element, where the old tree walk never went; a browser moves it into <body>
                    // and loads it, so it is walked like the rest of the page.
                }
            } else {
                firstTop = .some(tag)
            }
        }
        if frame.adoptedIntoNoscript { noscriptOpen += 1 }
        if frame.adoptedIntoSVG { svgOpen += 1 }
        frame.kind = element(tag, atts)
        stack.append(frame)
    }

    private func endElement() {
        guard started, !halted, let frame = stack.popLast() else { return }
        close(frame)
    }

    private func close(_ frame: Frame) {
        switch frame.kind {
        case .skipped:
            skipping -= 1
        case .script:
            skipping -= 1
            scriptOpen = false
            if let t = scriptText {
                // As the tree's text content was read (String(cString:)): up to a NUL, repaired.
                let text = String(decoding: t.prefix { $0 != 0 }, as: UTF8.self)
                if !text.isEmpty { inlineScripts.append(text) }
            }
            scriptText = nil
        case .noscript:
            noscriptOpen -= 1
            endNoscript()
        case .svg:
            svgOpen -= 1
        case .plain:
            break
        }
        if frame.adoptedIntoNoscript { noscriptOpen -= 1 }
        if frame.adoptedIntoSVG { svgOpen -= 1 }
        if stack.isEmpty, firstTop != nil { firstTopEnded = true }
    }

    /// Ends what the parser left open (a stopped parser, or the end of the input), as a tree
    /// walk would have seen those elements.
    func finish() {
        while let frame = stack.popLast() { close(frame) }
    }

    /// One element the walk cares about, at its start; returns what it means for its subtree.
    private func element(_ tag: Tag?, _ attr: Attributes) -> Frame.Kind {
        guard let tag else { return .plain }
        let inNS = noscriptOpen > 0
        let inSVG = svgOpen > 0
        switch tag {
        case .svg:
            svgOpen += 1
            return .svg
        case .image:
            // SVG's <image href> loads an image (outside SVG, libxml2 keeps <image> too).
            add(attr("href") ?? attr("xlink:href") ?? attr("src"), inNS ? .noscriptImg : .img)
        case .script:
            // Nothing inside a script is walked; an inline one's text is read until its end.
            skipping += 1
            scriptOpen = true
            // In SVG a script loads from href or xlink:href; in HTML only src counts.
            let svgSource = inSVG ? (attr("href") ?? attr("xlink:href")) : nil
            // GTM rewrites a Custom HTML tag's `src` to `data-gtmsrc` and restores it on injection.
            if let src = attr("src") ?? attr("data-gtmsrc") ?? svgSource {
                // A script in a data: URL runs as if inline: its code is searched like an inline script's.
                if let data = DataURL.decode(src) {
                    let text = String(decoding: data.body, as: UTF8.self)
                    if !text.isEmpty { inlineScripts.append(text) }
                } else {
                    add(src, .script, integrity: attr("integrity"))
                }
            } else if isJavaScriptType(attr("type")) {
                scriptText = []
            }
            return .script
        case .iframe, .frame:
            let src = attr("src")
            add(src, .iframe)
            if tag == .iframe, let doc = attr("srcdoc"), !doc.isEmpty { parseSrcdoc(doc) }
            parseDataDocument(src)
            // A frame's javascript: URL runs when the frame loads (its string result
            // becomes the frame's document): its code is searched like an inline script's.
            if let src, let code = javascriptURLCode(src), !code.isEmpty { inlineScripts.append(code) }
        case .source:
            // <picture><source srcset> and <video><source src> (a poster-like load).
            for u in srcsetURLs(attr("srcset")) { add(u, inNS ? .noscriptImg : .img) }
        case .input:
            if attr("type")?.lowercased() == "image" { add(attr("src"), inNS ? .noscriptImg : .img) }
        case .video:
            add(attr("poster"), inNS ? .noscriptImg : .img)
        case .img:
            add(attr("src"), inNS ? .noscriptImg : .img)
            for u in srcsetURLs(attr("srcset")) { add(u, inNS ? .noscriptImg : .img) }
        case .link:
            if let rel = attr("rel")?.lowercased() {
                let rels = rel.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                if rels.contains(where: { loadingRels.contains(String($0)) }) {
                    add(attr("href"), .link, integrity: attr("integrity"))
                }
                if canonical == nil, !inNS, rels.contains("canonical"), let h = attr("href"), !h.isEmpty { canonical = h }
            }
        case .form:
            add(attr("action"), .form)
        case .object:
            let data = attr("data")
            add(data, .object)
            parseDataDocument(data)
        case .embed:
            let src = attr("src")
            add(src, .object)
            parseDataDocument(src)
        case .meta:
            if ogURL == nil, !inNS, (attr("property") ?? attr("name"))?.lowercased() == "og:url",
               let c = attr("content"), !c.isEmpty { ogURL = c }
        case .base:
            if baseHref == nil, let h = attr("href"), !h.isEmpty { baseHref = h }
        case .noscript:
            noscriptOpen += 1
            noscripts.append(NoscriptText(rawIndex: raw.count))
            return .noscript
        }
        return .plain
    }

    /// Where the parser kept a noscript's markup as text, that text is parsed on its own; its
    /// resources go where the tree walk put them, before those of the noscript's elements.
    private func endNoscript() {
        var ns = noscripts.removeLast()
        ns.endText()
        guard !ns.texts.isEmpty else { return }
        var found: [RawResource] = []
        for text in ns.texts {
            let sub = Walker(fragmentInNoscript: true)
            // As the tree's text content was read (String(cString:)): up to a NUL, repaired.
            let html = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            var ignored: [String] = []
            Extractor.parseAndWalk(Array(html.utf8), url: nil, encoding: "UTF-8", walker: sub, warnings: &ignored, options: Walker.fragmentOptions)
            // Scripts inside <noscript> never run: only the resources count.
            found += sub.raw
        }
        raw.insert(contentsOf: found, at: ns.rawIndex)
    }

    static let fragmentOptions = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
        | HTML_PARSE_NONET.rawValue | HTML_PARSE_NOIMPLIED.rawValue)
    /// The code of a `javascript:` URL (percent-decoded, as the browser runs it), or nil.
    private func javascriptURLCode(_ url: String) -> String? {
        var bytes = Array(url.utf8)
        bytes.removeAll { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var start = 0
        while start < bytes.count && bytes[start] <= 0x20 { start += 1 }
        guard bytes.count - start >= 11, String(decoding: bytes[start..<(start + 11)], as: UTF8.self).lowercased() == "javascript:" else { return nil }
        return String(decoding: HostParser.percentDecode(Array(bytes[(start + 11)...])), as: UTF8.self)
    }

    /// The image URLs of a `srcset` (each candidate's URL, descriptors dropped).
    private func srcsetURLs(_ srcset: String?) -> [String] {
        guard let srcset, !srcset.isEmpty else { return [] }
        var urls: [String] = []
        for candidate in srcset.split(separator: ",") {
            let words = candidate.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" })
            if let u = words.first, !u.isEmpty { urls.append(String(u)) }
        }
        return urls
    }

    /// A frame, object or embed whose URL is a data: document (HTML or SVG): parsed like a
    /// srcdoc, its resources are the page's.
    private func parseDataDocument(_ url: String?) {
        guard let url, let data = DataURL.decode(url), DataURL.isDocument(data.mediaType) else { return }
        parseSrcdoc(String(decoding: data.body, as: UTF8.self))
    }

    /// An `iframe srcdoc` is a document of its own whose resources load with the page: parsed
    /// as one, its resources and inline scripts become the page's.
    private func parseSrcdoc(_ html: String) {
        guard srcdocDepth < Walker.maxSrcdocDepth else {
            warnings.append("iframe srcdoc nested more than \(Walker.maxSrcdocDepth) deep; the innermost were not scanned")
            return
        }
        let sub = Walker()
        sub.srcdocDepth = srcdocDepth + 1
        var subWarnings: [String] = []
        Extractor.parseAndWalk(Array(html.utf8), url: nil, encoding: "UTF-8", walker: sub, warnings: &subWarnings)
        raw.append(contentsOf: sub.raw)
        inlineScripts.append(contentsOf: sub.inlineScripts)
        for w in subWarnings + sub.warnings where !warnings.contains(w) { warnings.append("iframe srcdoc: " + w) }
    }
}

/// An element's attributes as libxml2's SAX start event gives them: name/value pairs, names
/// lowercased, values with references decoded, a repeated name dropped by the parser (the first
/// wins). Looked up by comparing bytes, so attributes the walk does not read cost no String.
private struct Attributes {
    let pairs: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?

    init(_ pairs: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) { self.pairs = pairs }

    /// The value of `name`; "" for one written without a value, as the tree gave it (xmlGetProp).
    func callAsFunction(_ name: StaticString) -> String? {
        guard let pairs else { return nil }
        let want = name.utf8Start
        let count = name.utf8CodeUnitCount
        var i = 0
        while let n = pairs[i] {
            if n[0] == want[0] {
                var k = 1
                while k < count && n[k] == want[k] { k += 1 }
                if k == count && n[count] == 0 { return pairs[i + 1].map { String(cString: $0) } ?? "" }
            }
            i += 2
        }
        return nil
    }
}
