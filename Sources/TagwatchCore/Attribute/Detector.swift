import Foundation

/// Decides first- or third-party for each resource and which vendor it belongs to.
public struct Detector: Sendable {
    public var catalog: Catalog
    /// Registrable domains the company declares as its own, beyond the page's.
    public var firstPartyDomains: Set<String>
    private let psl = PublicSuffixList.shared

    public init(catalog: Catalog, firstPartyDomains: [String] = []) {
        self.catalog = catalog
        self.firstPartyDomains = Set(firstPartyDomains.map { $0.lowercased() })
    }

    func isFirstParty(host: String, pageDomain: String?) -> Bool {
        let domain = psl.registrableDomain(host)
        if let pageDomain, domain == pageDomain { return true }
        if firstPartyDomains.contains(domain) || firstPartyDomains.contains(host) { return true }
        for d in firstPartyDomains where Self.hasDottedSuffix(host, d) { return true }
        return false
    }

    /// `host.hasSuffix("." + domain)` without building the string; byte by byte when both are
    /// ASCII (hosts from the URL parser always are), by `Character` otherwise.
    static func hasDottedSuffix(_ host: String, _ domain: String) -> Bool {
        let h = host.utf8, d = domain.utf8
        guard h.allSatisfy({ $0 < 0x80 }) && d.allSatisfy({ $0 < 0x80 }) else { return host.hasSuffix("." + domain) }
        guard h.count > d.count else { return false }
        return h.dropFirst(h.count - d.count).elementsEqual(d) && h[h.index(h.endIndex, offsetBy: -d.count - 1)] == 0x2E
    }

    /// Resources a followed script or container named, for the page at `pageURL`: party by the
    /// page, vendor by the rules data that named the tag type when it did, else by host. URLs
    /// found in script code count, as in inline code, when they are scripts or a vendor's host.
    public func detectFollowed(_ found: [ExtractedResource], pageURL: String) -> [Resource] {
        let pageDomain = URLResolver.host(of: pageURL).map { psl.registrableDomain($0) }
        var out: [Resource] = []
        for r in found {
            guard let (rawHost, path) = URLResolver.hostAndPath(r.url) else { continue }
            let host = rawHost.hasSuffix(".") ? String(rawHost.dropLast()) : rawHost
            let first = isFirstParty(host: host, pageDomain: pageDomain)
            var vendorIndex: Int?
            if let id = r.vendorID, let v = catalog.vendor(id: id) {
                vendorIndex = catalog.vendors.firstIndex { $0.id == v.id }
            } else if !first {
                vendorIndex = catalog.match(host: host, path: path)?.vendorIndex
            }
            var kind = r.kind
            if r.kind == .inlineScript && r.inlineIndex == -1 {
                let isScript = Self.isScriptPath(path, url: r.url)
                if !(isScript || vendorIndex != nil) { continue }
                kind = isScript ? .script : .img
            }
            var tagIDs = r.tagIDs
            if let vi = vendorIndex {
                for t in catalog.tagIDs(vendor: vi, in: r.url) where !tagIDs.contains(t) { tagIDs.append(t) }
            }
            out.append(Resource(url: r.url, host: host, kind: kind, party: first ? .first : .third,
                                vendor: vendorIndex.map { catalog.vendors[$0].ref }, integrity: r.integrity,
                                tagIDs: tagIDs, via: r.via, tag: r.tag))
        }
        return out
    }

    /// A script that gtag.js loads for a `gtag('config', 'ID')` call of an inline script.
    struct GtagLoad {
        var url: String
        var host: String
        var vendor: VendorRef
        var vendorIndex: Int
        var id: String
    }

    /// The scripts the `gtag('config', …)` calls of `script` load, in order (remembered per
    /// script text: the same gtag snippet is on every page of a site).
    func gtagLoads(_ script: String) -> [GtagLoad] {
        var loads: [GtagLoad] = []
        for id in Self.gtagDestinations(in: script) {
            guard let (vendor, rule) = catalog.tagType(.gtag, id), !id.hasPrefix("GTM-") else { continue }
            for u in rule.loads where ScriptAnalyzer.kind(forLoad: u) == .script {
                let url = ScriptAnalyzer.fill(u, ["id": id]).url
                guard let (host, _) = URLResolver.hostAndPath(url) else { continue }
                loads.append(GtagLoad(url: url, host: host, vendor: vendor.ref, vendorIndex: catalog.vendors.firstIndex { $0.id == vendor.id } ?? -1, id: id))
            }
        }
        return loads
    }

    /// Whether `text` holds `needle`'s bytes, its first byte found by memchr (every inline
    /// script is searched for `gtag(`, the big ones byte by byte before).
    static func contains(_ text: String, _ needle: StaticString) -> Bool {
        var text = text
        let m = needle.utf8CodeUnitCount
        return text.withUTF8 { t in
            guard let base = t.baseAddress, m > 0, t.count >= m else { return m == 0 }
            let first = Int32(needle.utf8Start[0])
            var i = 0
            let last = t.count - m
            while i <= last, let p = memchr(base + i, first, last - i + 1) {
                i = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + i, needle.utf8Start, m) == 0 { return true }
                i += 1
            }
            return false
        }
    }

    /// The ids of `gtag('config', 'ID')` calls.
    static func gtagDestinations(in script: String) -> [String] {
        var ids: [String] = []
        var rest = Substring(script)
        while let r = rest.range(of: "gtag(") {
            rest = rest[r.upperBound...]
            var s = rest.drop { $0 == " " || $0 == "\n" || $0 == "\t" }
            guard let q = s.first, q == "'" || q == "\"" else { continue }
            s = s.dropFirst()
            guard s.hasPrefix("config"), s.dropFirst(6).first == q else { continue }
            s = s.dropFirst(7).drop { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" }
            guard let q2 = s.first, q2 == "'" || q2 == "\"" else { continue }
            let id = s.dropFirst().prefix { $0 != q2 && $0 != "\n" }
            if ScriptAnalyzer.isDestinationID(String(id)), !ids.contains(String(id)) { ids.append(String(id)) }
        }
        return ids
    }

    static func isScriptPath(_ path: String, url: String) -> Bool {
        path.hasSuffix(".js") || path.hasSuffix(".mjs") || path.containsBytes("/gtag/js") || path.containsBytes(".js/") || url.containsBytes(".js?")
    }

    /// `isScriptPath(u.path, url:)` on the path's bytes in `u.href`, without making the path a string.
    static func isScriptPath(_ u: WebURL, url: String) -> Bool {
        let pathIsScript = u.withBytes { b -> Bool in
            let path = UnsafeBufferPointer(rebasing: b[Int(u.pathStart)..<Int(u.pathEnd)])
            return path.hasSuffix(".js") || path.hasSuffix(".mjs") || path.contains(bytes: "/gtag/js") || path.contains(bytes: ".js/")
        }
        return pathIsScript || url.containsBytes(".js?")
    }

    /// The page's resources, deduplicated by kind and URL, in document order. `siteURL` (default:
    /// the page's URL) is the site first-party is judged against: a saved file's canonical URL.
    public func detect(_ extraction: Extraction, pageURL: String, siteURL: String? = nil) -> [Resource] {
        let pageHost = URLResolver.host(of: siteURL ?? pageURL)
        let pageDomain = pageHost.map { psl.registrableDomain($0) }
        var resources: [Resource] = []
        var seen = Set<String>()
        var claimedInline: [Int: Set<Int>] = [:]  // inline script index -> vendors claimed by its URLs
        // The tag ids of a vendor in an inline script, by (vendor, script): each of a script's
        // URLs of that vendor, and its signature, would run the same regular expressions again.
        var scriptTagIDs: [Int: [String]] = [:]
        func scriptIDs(vendor: Int, script i: Int) -> [String] {
            let key = vendor << 32 | i
            if let ids = scriptTagIDs[key] { return ids }
            let ids = catalog.tagIDs(vendor: vendor, in: extraction.inlineScripts[i])
            scriptTagIDs[key] = ids
            return ids
        }
        for r in extraction.resources {
            // The extractor's URLs are already serialized: parsing one again shares its string,
            // and the host and path are read from it in place.
            guard let u = WebURL(r.url), u.isHTTP else { continue }
            let host = u.hostForMatching
            guard !host.isEmpty else { continue }
            let first = isFirstParty(host: host, pageDomain: pageDomain)
            let match = first ? nil : catalog.match(host: host, path: u.path)
            if r.kind == .inlineScript {
                // A URL in inline code counts when it is a script or a known vendor's host;
                // other links in code (share buttons, canonical URLs) are not loads.
                let isScript = Self.isScriptPath(u, url: r.url)
                if !(isScript || match != nil) { continue }
            }
            let key = r.kind.rawValue + " " + r.url
            guard seen.insert(key).inserted else { continue }
            var tagIDs: [String] = []
            if let match {
                tagIDs = catalog.tagIDs(vendor: match.vendorIndex, in: r.url)
                if r.kind == .inlineScript, let i = r.inlineIndex {
                    claimedInline[i, default: []].insert(match.vendorIndex)
                    for t in scriptIDs(vendor: match.vendorIndex, script: i) where !tagIDs.contains(t) {
                        tagIDs.append(t)
                    }
                }
            }
            resources.append(Resource(url: r.url, host: host, kind: r.kind, party: first ? .first : .third,
                                      vendor: match.map { catalog.vendors[$0.vendorIndex].ref },
                                      integrity: r.integrity, tagIDs: tagIDs))
        }
        // gtag('config', 'AW-…') names a destination that gtag.js then loads: the catalog's `gtag:`
        // entries say which product (GA4, Google Ads, Floodlight) and what it loads.
        for (i, script) in extraction.inlineScripts.enumerated() where Self.contains(script, "gtag(") {
            for load in TextMemo.current.gtagLoads(catalog: catalog.generation, text: script, gtagLoads) {
                guard !resources.contains(where: { $0.url == load.url }), seen.insert("inline-script " + load.url).inserted else { continue }
                resources.append(Resource(url: load.url, host: load.host, kind: .inlineScript, party: .third, vendor: load.vendor, tagIDs: [load.id]))
                claimedInline[i, default: []].insert(load.vendorIndex)
            }
        }
        // Inline snippets recognised by signature whose vendor no URL of theirs already names.
        for (i, script) in extraction.inlineScripts.enumerated() {
            for index in catalog.signatureMatches(in: script) where !(claimedInline[i]?.contains(index) ?? false) {
                let vendor = catalog.vendors[index]
                let url = pageURL.split(separator: "#", maxSplits: 1).first.map(String.init) ?? pageURL
                let key = "inline-script \(vendor.id) \(i)"
                guard seen.insert(key).inserted else { continue }
                resources.append(Resource(url: url + "#inline-script-\(i + 1)", host: pageHost ?? "",
                                          kind: .inlineScript, party: .third, vendor: vendor.ref,
                                          tagIDs: scriptIDs(vendor: index, script: i)))
            }
        }
        return resources
    }
}
