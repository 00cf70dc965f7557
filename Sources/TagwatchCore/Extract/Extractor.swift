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

    /// Extracts from `body`, served at `pageURL`; `charset` is the one the HTTP headers named, if any
    /// (otherwise the document's own `<meta charset>` decides).
    public func extract(body: [UInt8], pageURL: String, charset: String? = nil) -> Extraction {
        // HUGE lifts libxml2's nesting cap (256): without it, parsing stops at the 256th nested
        // element and every resource after it is lost, so 256 <div>s would hide any script.
        // The walk below is iterative, so depth costs no stack.
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue | HTML_PARSE_NOBLANKS.rawValue)
            | Int32(XML_PARSE_HUGE.rawValue)
        var walker = Walker()
        body.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress, buf.count > 0 else { return }
            let doc: htmlDocPtr? = base.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                if let charset, Extractor.isKnownCharset(charset) {
                    return htmlReadMemory(p, Int32(clamping: buf.count), pageURL, charset, options)
                }
                return htmlReadMemory(p, Int32(clamping: buf.count), pageURL, nil, options)
            }
            guard let doc else { return }
            defer { xmlFreeDoc(doc) }
            walker.walk(xmlDocGetRootElement(doc), inNoscript: false)
        }
        let baseURL = walker.baseHref.flatMap { URLResolver.resolve($0, against: pageURL) } ?? pageURL
        var resources: [ExtractedResource] = []
        resources.reserveCapacity(walker.raw.count)
        for r in walker.raw {
            if let u = URLResolver.resolve(r.url, against: baseURL) {
                resources.append(ExtractedResource(url: u, kind: r.kind, integrity: r.integrity))
            }
        }
        for (i, text) in walker.inlineScripts.enumerated() {
            for u in InlineURLScanner.loadedURLs(in: text) {
                if let resolved = URLResolver.resolve(u, against: baseURL) {
                    resources.append(ExtractedResource(url: resolved, kind: .inlineScript, inlineIndex: i))
                }
            }
        }
        let canonical = (walker.canonical ?? walker.ogURL).flatMap { URLResolver.resolve($0, against: baseURL) }
            .flatMap { u in u.hasPrefix("http://") || u.hasPrefix("https://") ? u : nil }
        return Extraction(resources: resources, inlineScripts: walker.inlineScripts, baseURL: baseURL, canonicalURL: canonical)
    }

    /// The resources an HTML fragment names (a tag manager's Custom HTML tag), resolved against
    /// `baseURL`: its elements' sources, and the URLs its inline scripts load (`kind: inlineScript`).
    public func extractFragment(html: String, baseURL: String) -> (resources: [ExtractedResource], inlineScripts: [String]) {
        var walker = Walker()
        // In a body, as a tag's markup is injected: parsed on its own, libxml2 would put a leading
        // <script> in <head>, where a following <noscript>'s markup is not parsed as elements.
        let bytes = Array(("<html><body>" + html).utf8)
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        bytes.withUnsafeBufferPointer { buf in
            let doc: htmlDocPtr? = buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                htmlReadMemory($0, Int32(clamping: buf.count), nil, "UTF-8", options)
            }
            guard let doc else { return }
            defer { xmlFreeDoc(doc) }
            walker.walk(xmlDocGetRootElement(doc), inNoscript: false)
        }
        var resources: [ExtractedResource] = []
        for r in walker.raw {
            if let u = URLResolver.resolve(r.url, against: baseURL) {
                resources.append(ExtractedResource(url: u, kind: r.kind, integrity: r.integrity))
            }
        }
        for (i, text) in walker.inlineScripts.enumerated() {
            for u in InlineURLScanner.loadedURLs(in: text) {
                if let resolved = URLResolver.resolve(u, against: baseURL) {
                    resources.append(ExtractedResource(url: resolved, kind: .inlineScript, inlineIndex: i))
                }
            }
        }
        return (resources, walker.inlineScripts)
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
    case script, iframe, img, link, form, object, embed, noscript, base, frame, meta
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
    case UInt8(ascii: "s"): return eq("script") ? .script : nil
    case UInt8(ascii: "i"): return eq("iframe") ? .iframe : (eq("img") ? .img : nil)
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

private struct Walker {
    var raw: [RawResource] = []
    var inlineScripts: [String] = []
    var baseHref: String?
    /// `<link rel=canonical href>` and `<meta property=og:url content>`, first of each.
    var canonical: String?
    var ogURL: String?

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
        while let n = node {
            var descend = true
            if n.pointee.type == XML_ELEMENT_NODE, let name = n.pointee.name, let tag = tagOf(name) {
                let inNS = !noscriptDepth.isEmpty
                switch tag {
                case .script:
                    descend = false
                    // GTM rewrites a Custom HTML tag's `src` to `data-gtmsrc` and restores it on injection.
                    if let src = attr(n, "src") ?? attr(n, "data-gtmsrc") {
                        add(src, .script, integrity: attr(n, "integrity"))
                    } else if isJavaScriptType(attr(n, "type")) {
                        let text = content(n)
                        if !text.isEmpty { inlineScripts.append(text) }
                    }
                case .iframe, .frame:
                    add(attr(n, "src"), .iframe)
                case .img:
                    add(attr(n, "src"), inNS ? .noscriptImg : .img)
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
                case .embed:
                    add(attr(n, "src"), .object)
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
                if let next = c.pointee.next { node = next; break }
                cur = c.pointee.parent
            }
        }
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
