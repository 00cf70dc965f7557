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

    /// Parses `bytes` and walks the document; a parser that stopped early is a warning, not silence.
    fileprivate static func parseAndWalk(_ bytes: [UInt8], url: String?, encoding: String?, walker: inout Walker, warnings: inout [String]) {
        guard !bytes.isEmpty, let ctxt = htmlNewParserCtxt() else { return }
        defer { htmlFreeParserCtxt(ctxt) }
        let doc: htmlDocPtr? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                htmlCtxtReadMemory(ctxt, p, Int32(clamping: buf.count), url, encoding, documentOptions)
            }
        }
        if ctxt.pointee.disableSAX != 0 {
            let line = ctxt.pointee.input.map { Int($0.pointee.line) } ?? 0
            warnings.append("the HTML parser stopped at line \(line) (libxml2 error \(ctxt.pointee.errNo)); content after it was not scanned")
        }
        guard let doc else {
            warnings.append("the HTML parser could not read this document (libxml2 error \(ctxt.pointee.errNo)); nothing was extracted")
            return
        }
        defer { xmlFreeDoc(doc) }
        walker.walk(xmlDocGetRootElement(doc), inNoscript: false)
    }

    /// Extracts from `body`, served at `pageURL`; `charset` is the one the HTTP headers named, if any
    /// (otherwise a byte order mark or the document's own `<meta charset>` decides, as in a browser).
    public func extract(body: [UInt8], pageURL: String, charset: String? = nil) -> Extraction {
        var walker = Walker()
        let input = HTMLInput(body: body, headerCharset: charset, isKnown: Extractor.isKnownCharset)
        var warnings = input.notes
        Extractor.parseAndWalk(input.bytes, url: pageURL, encoding: input.encoding, walker: &walker, warnings: &warnings)
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
        var walker = Walker()
        // In a body, as a tag's markup is injected: parsed on its own, libxml2 would put a leading
        // <script> in <head>, where a following <noscript>'s markup is not parsed as elements.
        // Through the page's own path, so the browser-like tokenizing and NUL handling apply too.
        let input = HTMLInput(body: Array(("<html><body>" + html).utf8), headerCharset: "utf-8", isKnown: Extractor.isKnownCharset)
        var warnings = input.notes
        Extractor.parseAndWalk(input.bytes, url: nil, encoding: input.encoding, walker: &walker, warnings: &warnings)
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
    guard let t = type?.trimmingCharacters(in: .whitespaces).lowercased(), !t.isEmpty else { return true }
    // GTM's Custom HTML tags carry `text/gtmscript`, which GTM turns back into JavaScript.
    return t == "module" || t == "text/gtmscript" || t.hasSuffix("/javascript") || t.hasSuffix("/ecmascript")
        || t == "text/jscript" || t == "application/x-javascript" || t.hasPrefix("text/javascript")
}

fileprivate struct Walker {
    var raw: [RawResource] = []
    var inlineScripts: [String] = []
    var baseHref: String?
    /// `<link rel=canonical href>` and `<meta property=og:url content>`, first of each.
    var canonical: String?
    var ogURL: String?
    var warnings: [String] = []
    /// How many `iframe srcdoc` documents this one is nested in (each is parsed as a document).
    var srcdocDepth = 0
    static let maxSrcdocDepth = 8

    private func attr(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let v = xmlGetProp(node, name) else { return nil }
        defer { cxml_free(v) }
        let s = String(cString: v)
        return s
    }

    private func content(_ node: xmlNodePtr) -> String {
        guard let c = xmlNodeGetContent(node) else { return "" }
        defer { cxml_free(c) }
        return String(cString: c)
    }

    mutating func add(_ url: String?, _ kind: ResourceKind, integrity: String? = nil) {
        guard let url, !url.isEmpty else { return }
        raw.append(RawResource(url: url, kind: kind, integrity: integrity))
    }

    /// Walks the tree without recursion (markup can nest 100,000 levels deep).
    mutating func walk(_ root: xmlNodePtr?, inNoscript: Bool) {
        guard let root else { return }
        var node: xmlNodePtr? = root
        var noscriptDepth: [xmlNodePtr] = inNoscript ? [root] : []
        var svgDepth: [xmlNodePtr] = []
        while let n = node {
            var descend = true
            if n.pointee.type == XML_ELEMENT_NODE, let name = n.pointee.name, let tag = tagOf(name) {
                let inNS = !noscriptDepth.isEmpty
                let inSVG = !svgDepth.isEmpty
                switch tag {
                case .svg:
                    svgDepth.append(n)
                case .image:
                    // SVG's <image href> loads an image (outside SVG, libxml2 keeps <image> too).
                    add(attr(n, "href") ?? attr(n, "xlink:href") ?? attr(n, "src"), inNS ? .noscriptImg : .img)
                case .script:
                    descend = false
                    // In SVG a script loads from href or xlink:href; in HTML only src counts.
                    let svgSource = inSVG ? (attr(n, "href") ?? attr(n, "xlink:href")) : nil
                    // GTM rewrites a Custom HTML tag's `src` to `data-gtmsrc` and restores it on injection.
                    if let src = attr(n, "src") ?? attr(n, "data-gtmsrc") ?? svgSource {
                        // A script in a data: URL runs as if inline: its code is searched like an inline script's.
                        if let data = DataURL.decode(src) {
                            let text = String(decoding: data.body, as: UTF8.self)
                            if !text.isEmpty { inlineScripts.append(text) }
                        } else {
                            add(src, .script, integrity: attr(n, "integrity"))
                        }
                    } else if isJavaScriptType(attr(n, "type")) {
                        let text = content(n)
                        if !text.isEmpty { inlineScripts.append(text) }
                    }
                case .iframe, .frame:
                    add(attr(n, "src"), .iframe)
                    if tag == .iframe, let doc = attr(n, "srcdoc"), !doc.isEmpty { parseSrcdoc(doc) }
                    parseDataDocument(attr(n, "src"))
                    // A frame's javascript: URL runs when the frame loads (its string result
                    // becomes the frame's document): its code is searched like an inline script's.
                    if let src = attr(n, "src"), let code = javascriptURLCode(src), !code.isEmpty { inlineScripts.append(code) }
                case .source:
                    // <picture><source srcset> and <video><source src> (a poster-like load).
                    for u in srcsetURLs(attr(n, "srcset")) { add(u, inNS ? .noscriptImg : .img) }
                case .input:
                    if attr(n, "type")?.lowercased() == "image" { add(attr(n, "src"), inNS ? .noscriptImg : .img) }
                case .video:
                    add(attr(n, "poster"), inNS ? .noscriptImg : .img)
                case .img:
                    add(attr(n, "src"), inNS ? .noscriptImg : .img)
                    for u in srcsetURLs(attr(n, "srcset")) { add(u, inNS ? .noscriptImg : .img) }
                case .link:
                    if let rel = attr(n, "rel")?.lowercased() {
                        let rels = rel.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
                        if rels.contains(where: { loadingRels.contains(String($0)) }) {
                            add(attr(n, "href"), .link, integrity: attr(n, "integrity"))
                        }
                        if canonical == nil, !inNS, rels.contains("canonical"), let h = attr(n, "href"), !h.isEmpty { canonical = h }
                    }
                case .form:
                    add(attr(n, "action"), .form)
                case .object:
                    add(attr(n, "data"), .object)
                    parseDataDocument(attr(n, "data"))
                case .embed:
                    add(attr(n, "src"), .object)
                    parseDataDocument(attr(n, "src"))
                case .meta:
                    if ogURL == nil, !inNS, (attr(n, "property") ?? attr(n, "name"))?.lowercased() == "og:url",
                       let c = attr(n, "content"), !c.isEmpty { ogURL = c }
                case .base:
                    if baseHref == nil, let h = attr(n, "href"), !h.isEmpty { baseHref = h }
                case .noscript:
                    noscriptDepth.append(n)
                    // Where the parser kept noscript's markup as text, parse that text on its own.
                    var child = n.pointee.children
                    while let c = child {
                        if c.pointee.type == XML_TEXT_NODE || c.pointee.type == XML_CDATA_SECTION_NODE {
                            let text = content(c)
                            if text.contains("<") { parseFragment(text, inNoscript: true) }
                        }
                        child = c.pointee.next
                    }
                }
            }
            // Next node in document order.
            if descend, let child = n.pointee.children {
                node = child
                continue
            }
            var cur: xmlNodePtr? = n
            node = nil
            while let c = cur {
                if c == root { break }
                if let last = noscriptDepth.last, last == c { noscriptDepth.removeLast() }
                if let last = svgDepth.last, last == c { svgDepth.removeLast() }
                if let next = c.pointee.next { node = next; break }
                cur = c.pointee.parent
            }
        }
    }

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
    private mutating func parseDataDocument(_ url: String?) {
        guard let url, let data = DataURL.decode(url), DataURL.isDocument(data.mediaType) else { return }
        parseSrcdoc(String(decoding: data.body, as: UTF8.self))
    }

    /// An `iframe srcdoc` is a document of its own whose resources load with the page: parsed
    /// as one, its resources and inline scripts become the page's.
    private mutating func parseSrcdoc(_ html: String) {
        guard srcdocDepth < Walker.maxSrcdocDepth else {
            warnings.append("iframe srcdoc nested more than \(Walker.maxSrcdocDepth) deep; the innermost were not scanned")
            return
        }
        var sub = Walker()
        sub.srcdocDepth = srcdocDepth + 1
        var subWarnings: [String] = []
        Extractor.parseAndWalk(Array(html.utf8), url: nil, encoding: "UTF-8", walker: &sub, warnings: &subWarnings)
        raw.append(contentsOf: sub.raw)
        inlineScripts.append(contentsOf: sub.inlineScripts)
        for w in subWarnings + sub.warnings where !warnings.contains(w) { warnings.append("iframe srcdoc: " + w) }
    }

    mutating func parseFragment(_ html: String, inNoscript: Bool) {
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_NOIMPLIED.rawValue)
        var bytes = Array(html.utf8)
        bytes.append(0)
        let doc = bytes.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
                htmlReadMemory($0, Int32(clamping: b.count - 1), nil, "UTF-8", options)
            }
        }
        guard let doc else { return }
        defer { xmlFreeDoc(doc) }
        var sub = Walker()
        var child = doc.pointee.children
        while let c = child {
            sub.walk(c, inNoscript: inNoscript)
            child = c.pointee.next
        }
        raw.append(contentsOf: sub.raw)
        // Scripts inside <noscript> never run; a tag's fragment's scripts do.
        if !inNoscript { inlineScripts.append(contentsOf: sub.inlineScripts) }
    }
}
