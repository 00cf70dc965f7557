import Foundation

/// What a followed script's content says it loads, independent of the page that loads it, so one
/// analysis serves every page of a scan or cycle.
public struct ScriptAnalysis: Sendable {
    /// What the script (or the container's tags) load, with `via` set to the script's URL.
    public var found: [ExtractedResource] = []
    /// Other URLs the script fetches as data and that are analysed in turn (Segment's project
    /// settings), but are not reported as resources themselves.
    public var follow: [String] = []
    /// Problems with the script's content: a truncated container, tag types nothing maps.
    public var warnings: [String] = []
    /// "GTM-ABC1234 version 55", "Segment settings", "Tealium iQ" — what the content was.
    public var kind: String?
    /// Why the script could not be had (fetch error, over the size cap); nil when analysed.
    public var error: String?
    /// Bytes of the script body (for budgets and reports).
    public var size: Int = 0
    /// Its hashes, when the bytes were had.
    public var digest: ScriptDigest?
    /// For a container: "GTM-ABC1234 version 42" and its tags (`__hjtc #12`), not paused.
    public var containerVersion: String?
    public var containerTags: [String] = []

    public init() {}
}

/// Reads a followed script's body: a tag-manager container is expanded tag by tag, Segment
/// settings become their destinations, Tealium's utag.js its numbered tags, and any other
/// script is searched for the script URLs and catalog hosts it loads, as inline code is.
public struct ScriptAnalyzer: Sendable {
    public var catalog: Catalog
    private let extractor = Extractor()

    /// Tag types that only listen for events or link conversions and load nothing themselves.
    static let nonLoadingGTMTypes: Set<String> = [
        "__cl", "__lcl", "__fsl", "__evl", "__tg", "__hl", "__sdl", "__ytl", "__jel", "__tl", "__zone",
        "__paused", "__awec", "__fls_listener",
    ]

    public init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// Analyses `body`, served at `url`.
    public func analyse(body: [UInt8], url: String) -> ScriptAnalysis {
        var a = ScriptAnalysis()
        a.size = body.count
        a.digest = ScriptDigest(of: body)
        do {
            if let container = try TagManagerContainer.parse(body) {
                expand(container, url: url, into: &a)
                return a
            }
        } catch {
            a.warnings.append("\(url) looks like a tag-manager container but cannot be read: \(error)")
            return a
        }
        if let settings = SegmentSettings.parse(body) {
            a.kind = "Segment settings"
            for name in settings.destinations {
                guard let (vendor, rule) = catalog.tagType(.segment, name) else { continue }
                for u in rule.loads {
                    a.found.append(ExtractedResource(url: Self.fill(u, settings.parameters[name] ?? [:]).url,
                                                     kind: Self.kind(forLoad: u), via: url,
                                                     tag: TagRef(type: name, container: "Segment"), vendorID: vendor.id))
                }
            }
            let unmapped = settings.destinations.filter { catalog.tagType(.segment, $0) == nil && $0 != "Segment.io" }
            if !unmapped.isEmpty {
                a.warnings.append("Segment destinations the catalog does not map to a vendor: \(unmapped.sorted().joined(separator: ", "))")
            }
            return a
        }
        let text = String(decoding: body, as: UTF8.self)
        if let segment = SegmentSettings.settingsURL(forLibrary: url) {
            a.kind = "Segment analytics.js"
            a.follow.append(segment)
        }
        if let tealium = Tealium.tagURLs(in: text, library: url) {
            a.kind = "Tealium iQ"
            for u in tealium { a.found.append(ExtractedResource(url: u, kind: .script, via: url)) }
        }
        for u in InlineURLScanner.loadedURLs(in: text) {
            guard let resolved = URLResolver.resolve(u, against: url) else { continue }
            a.found.append(ExtractedResource(url: resolved, kind: .inlineScript, inlineIndex: -1, via: url))
        }
        return a
    }

    private func expand(_ c: TagManagerContainer, url: String, into a: inout ScriptAnalysis) {
        var c = c
        // A saved copy may not name its id; the URL it is loaded from (`gtm.js?id=GTM-…`) does.
        if c.publicID == nil { c.publicID = LocalScripts.containerID(in: url) }
        a.kind = [c.publicID ?? "tag-manager container", c.version.map { "version \($0)" }].compactMap { $0 }.joined(separator: " ")
        a.containerVersion = a.kind
        a.containerTags = c.tags.filter { !$0.paused }.map { "\($0.type)" + ($0.id.map { " #\($0)" } ?? "") }
        var unmapped: [String: Int] = [:]
        // One resource per URL and kind: the first tag that loads it names it, the others add their ids.
        var at: [String: Int] = [:]
        func add(_ r: ExtractedResource) {
            let key = "\(r.kind.rawValue) \(r.url)"
            if let i = at[key] {
                for t in r.tagIDs where !a.found[i].tagIDs.contains(t) { a.found[i].tagIDs.append(t) }
                return
            }
            at[key] = a.found.count
            a.found.append(r)
        }
        for tag in c.tags where !tag.paused {
            let ref = TagRef(type: tag.type, id: tag.id, consent: tag.consent, container: c.publicID)
            var produced = false
            // Destinations a tag names by id (`G-…`, `AW-…`, `DC-…`) load what the gtag rules say.
            var destinationVendors = Set<String>()
            for (key, value) in tag.parameters.sorted(by: { $0.key < $1.key }) where key != "vtp_html" {
                guard Self.isDestinationID(value), let (vendor, rule) = catalog.tagType(.gtag, value) else { continue }
                for u in rule.loads {
                    let filled = Self.fill(u, ["id": value])
                    add(ExtractedResource(url: filled.url, kind: Self.kind(forLoad: u), via: url, tag: ref,
                                          vendorID: vendor.id, tagIDs: [value]))
                }
                destinationVendors.insert(vendor.id)
                produced = true
            }
            switch tag.type {
            case "__html":
                if let html = tag.parameters["vtp_html"] {
                    let fragment = extractor.extractFragment(html: html, baseURL: url)
                    var claimed = Set<String>()
                    for r in fragment.resources {
                        var r = r
                        r.via = url
                        r.tag = ref
                        if r.kind == .inlineScript { r.inlineIndex = -1 }
                        if let (host, path) = URLResolver.hostAndPath(r.url), let m = catalog.match(host: host, path: path) {
                            claimed.insert(catalog.vendors[m.vendorIndex].id)
                        }
                        add(r)
                    }
                    // A vendor's snippet that names none of its URLs (they are built at run time).
                    for script in fragment.inlineScripts {
                        for index in catalog.signatureMatches(in: script) where !claimed.contains(catalog.vendors[index].id) {
                            let v = catalog.vendors[index]
                            claimed.insert(v.id)
                            add(ExtractedResource(url: url + "#tag-\(tag.id ?? "?")", kind: .inlineScript, via: url, tag: ref,
                                                  vendorID: v.id, tagIDs: catalog.tagIDs(vendor: index, in: script)))
                        }
                    }
                }
                produced = true
            case "__img":
                if let u = tag.parameters["vtp_url"], let resolved = URLResolver.resolve(u, against: url) {
                    add(ExtractedResource(url: resolved, kind: .img, via: url, tag: ref))
                }
                produced = true
            default:
                if let (vendor, rule) = catalog.tagType(.gtm, tag.type) {
                    // A destination id the tag names says more than its type (a Google tag is GA4 or Ads by its id).
                    for u in rule.loads where destinationVendors.isEmpty {
                        let filled = Self.fill(u, tag.parameters)
                        add(ExtractedResource(url: filled.url, kind: Self.kind(forLoad: u), via: url, tag: ref,
                                              vendorID: vendor.id, tagIDs: filled.values))
                    }
                    produced = true
                } else if let permitted = c.permittedURLs[tag.type] {
                    // One template is one vendor's tag: the vendor of the script it injects names its pixels too.
                    let resolved = permitted.compactMap { p -> (String, String)? in
                        URLResolver.resolve(p.url.replacingOccurrences(of: "://*.", with: "://"), against: url).map { ($0, p.permission) }
                    }
                    let owner = resolved.first { $0.1 == "inject_script" }.flatMap { u -> String? in
                        guard let (host, path) = URLResolver.hostAndPath(u.0), let m = catalog.match(host: host, path: path) else { return nil }
                        return catalog.vendors[m.vendorIndex].id
                    }
                    for (u, permission) in resolved {
                        add(ExtractedResource(url: u, kind: permission == "inject_script" ? .script : (permission == "send_pixel" ? .img : .iframe),
                                              via: url, tag: ref, vendorID: owner))
                    }
                    produced = true
                }
            }
            if !produced && !Self.nonLoadingGTMTypes.contains(tag.type) {
                unmapped[tag.type, default: 0] += 1
            }
        }
        if !unmapped.isEmpty {
            let list = unmapped.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
            a.warnings.append("\(c.publicID ?? url): tags of types the catalog does not map to a vendor: \(list)")
        }
    }

    /// On the UTF-8 bytes (it runs for every tag id of every page, and again for each page a
    /// daemon cycle revisits): an id is all ASCII, so its bytes are its characters.
    static func isDestinationID(_ s: String) -> Bool {
        let u = s.utf8
        guard u.count >= 4, u.count <= 40 else { return false }
        var dash = -1
        for (i, b) in u.enumerated() {
            if b == 0x2D {
                if dash < 0 { dash = i }
            } else if dash < 0 {
                guard b >= 0x41 && b <= 0x5A else { return false }  // the prefix: A-Z
            } else {
                let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
                guard ok else { return false }
            }
        }
        return dash >= 1 && dash <= 3
    }

    /// `https://…/gtag/js` and `.js` paths are scripts; other loads are requests (pixels, beacons).
    static func kind(forLoad template: String) -> ResourceKind {
        let path = template.split(separator: "?", maxSplits: 1).first.map(String.init) ?? template
        return path.hasSuffix(".js") || path.contains("/gtag/js") || path.hasSuffix(".mjs") ? .script : .img
    }

    /// Fills `{name}` (or `{vtp_name}`) placeholders from `values`. A placeholder in the query
    /// whose value is not known drops its whole `key=` pair; elsewhere it stays as `{name}`, so
    /// no URL is cut off at a value known only at run time.
    static func fill(_ template: String, _ values: [String: String]) -> (url: String, values: [String]) {
        var used: [String] = []
        func value(_ name: String) -> String? {
            let v = values[name] ?? values["vtp_" + name] ?? (name.hasPrefix("vtp_") ? values[String(name.dropFirst(4))] : nil)
            guard let v, !v.isEmpty else { return nil }
            return v.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=#?/")))
                ?? v
        }
        var base = template
        var query: String?
        if let q = template.firstIndex(of: "?") {
            base = String(template[..<q])
            query = String(template[template.index(after: q)...])
        }
        func substitute(_ s: String) -> (String, Bool) {
            var out = ""
            var allKnown = true
            var rest = Substring(s)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                out += rest[..<open]
                let name = String(rest[rest.index(after: open)..<close])
                if let v = value(name) {
                    out += v
                    used.append(v.removingPercentEncoding ?? v)
                } else {
                    out += "{\(name)}"
                    allKnown = false
                }
                rest = rest[rest.index(after: close)...]
            }
            return (out + rest, allKnown)
        }
        var url = substitute(base).0
        if let query {
            let pairs = query.split(separator: "&").compactMap { pair -> String? in
                let (s, known) = substitute(String(pair))
                return known ? s : nil
            }
            if !pairs.isEmpty { url += "?" + pairs.joined(separator: "&") }
        }
        return (url, used)
    }
}

/// Segment's project settings (`/v1/projects/KEY/settings`): the destinations its analytics.js
/// loads in the browser are the keys of `integrations`.
struct SegmentSettings {
    var destinations: [String]
    var parameters: [String: [String: String]]

    static func parse(_ body: [UInt8]) -> SegmentSettings? {
        guard let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == UInt8(ascii: "{"),
              TagManagerContainer.find(Array("\"integrations\"".utf8), in: body, from: 0, limit: min(body.count, 1 << 20)) != nil,
              let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let integrations = object["integrations"] as? [String: Any] else { return nil }
        var params: [String: [String: String]] = [:]
        for (name, v) in integrations {
            guard let d = v as? [String: Any] else { continue }
            var p: [String: String] = [:]
            for (k, x) in d {
                if let s = x as? String { p[k] = s } else if let n = x as? NSNumber { p[k] = n.stringValue }
            }
            params[name] = p
        }
        return SegmentSettings(destinations: integrations.keys.sorted(), parameters: params)
    }

    /// `…/analytics.js/v1/KEY/analytics(.min).js` on any host (Segment's CDN or a custom proxy
    /// domain) fetches `…/v1/projects/KEY/settings` from the same origin.
    static func settingsURL(forLibrary url: String) -> String? {
        guard let r = url.range(of: "/analytics.js/v1/") else { return nil }
        let rest = url[r.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let key = rest[..<slash]
        let file = rest[rest.index(after: slash)...]
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber }), file.hasPrefix("analytics") else { return nil }
        return String(url[..<r.lowerBound]) + "/v1/projects/\(key)/settings"
    }
}

/// Tealium iQ's `utag.js` lists its tags in `utag.loader.cfg`; each loads as `utag.N.js` beside it.
enum Tealium {
    static func tagURLs(in text: String, library url: String) -> [String]? {
        guard let cfg = text.range(of: "utag.loader.cfg") else { return nil }
        let dir = url.split(separator: "?", maxSplits: 1).first.map { s -> String in
            guard let slash = s.lastIndex(of: "/") else { return String(s) }
            return String(s[...slash])
        } ?? url
        var ids: [String] = []
        var rest = text[cfg.upperBound...].prefix(200_000)
        // Entries look like "7":{load:1,send:1,...}
        while let q = rest.firstIndex(of: "\"") {
            let after = rest[rest.index(after: q)...]
            guard let end = after.firstIndex(of: "\"") else { break }
            let key = after[..<end]
            let tail = after[after.index(after: end)...]
            if !key.isEmpty, key.count <= 6, key.allSatisfy(\.isNumber), tail.hasPrefix(":{"), !ids.contains(String(key)) {
                ids.append(String(key))
            }
            rest = tail
            if tail.hasPrefix("};") || ids.count > 500 { break }
        }
        return ids.map { dir + "utag.\($0).js" }
    }
}
