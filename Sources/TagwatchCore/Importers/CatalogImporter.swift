import Foundation

/// The tracker lists a user may already keep, which `CatalogImporter` turns into our catalog format.
public enum ImportFormat: String, CaseIterable, Sendable {
    /// Disconnect's `services.json`.
    case disconnect
    /// DuckDuckGo's Tracker Radar / blocklist `tds.json`.
    case ddg
    /// Wappalyzer's `technologies.json`.
    case wappalyzer
    /// WhoTracks.me's `trackerdb.sql` (a SQLite dump).
    case whotracksme
}

/// What an import produced: vendors to add, and an account of everything left out, so a user
/// can see that nothing was lost silently.
public struct ImportResult: Sendable {
    /// New vendors in our format. `file` is the imported file and `line` is nil until
    /// `CatalogImporter.placed(_:in:)` points them at the YAML file they are written to.
    public var vendors: [Vendor]
    /// One entry per item (host, pattern or vendor) that was not imported, with the reason.
    public var skipped: [ImportSkip]

    public init(vendors: [Vendor], skipped: [ImportSkip]) {
        self.vendors = vendors
        self.skipped = skipped
    }
}

/// One item an import left out, and why.
public struct ImportSkip: Sendable, Equatable {
    /// The host, pattern or source entry (technology, company, tracker) concerned.
    public var item: String
    public var reason: String

    public init(item: String, reason: String) {
        self.item = item
        self.reason = reason
    }
}

/// A vendor as a source file describes it, before it is checked against our catalog.
struct ImportCandidate {
    var name: String
    var company: String
    var category: String
    var website: String?
    var hosts: [String]
    var patterns: [String] = []
}

/// Reads other projects' tracker catalogs and keeps only what ours does not already cover,
/// so a user can extend the catalog without clashing hosts (which `Catalog.add` rejects).
public enum CatalogImporter {
    /// Reads `path` in `format` and returns vendors not already covered by `existing`:
    /// hosts the existing catalog already claims (exact host already present, OR already matched
    /// by an existing vendor via Catalog.match) are dropped and listed in `skipped` with the vendor
    /// that has them; a vendor left without hosts is skipped.
    public static func importCatalog(format: ImportFormat, path: String, existing: Catalog) throws -> ImportResult {
        var skipped: [ImportSkip] = []
        let candidates: [ImportCandidate]
        switch format {
        case .disconnect: candidates = try DisconnectImporter.read(path: path, skipped: &skipped)
        case .ddg: candidates = try DDGImporter.read(path: path, skipped: &skipped)
        case .wappalyzer: candidates = try WappalyzerImporter.read(path: path, skipped: &skipped)
        case .whotracksme: candidates = try WhoTracksMeImporter.read(path: path, skipped: &skipped)
        }
        var vendors: [Vendor] = []
        var claimed: [String: String] = [:]  // host or pattern -> id of the imported vendor that has it
        var usedIDs = Set(existing.vendors.map(\.id))
        // Hosts our catalog splits by path (e.g. www.google.com/recaptcha/) are shared: no import takes them whole.
        var sharedHosts: [String: (vendor: Vendor, pattern: String)] = [:]
        for v in existing.vendors {
            for p in v.patterns {
                if let slash = p.firstIndex(of: "/") { sharedHosts[p[..<slash].lowercased()] = (v, p) }
            }
        }
        for c in candidates {
            var hosts: [String] = []
            for raw in c.hosts {
                guard let host = normalisedHost(raw) else {
                    skipped.append(ImportSkip(item: raw, reason: "not a host name (from '\(c.name)')"))
                    continue
                }
                if hosts.contains(host) { continue }
                if let (v, p) = sharedHosts[host] {
                    skipped.append(ImportSkip(item: host, reason: "shared host: our vendor '\(v.id)' (\(v.name)) claims '\(p)'; not added to '\(c.name)' (a host/path pattern could be)"))
                    continue
                }
                if let reason = claim(host, path: "/", rule: host, existing: existing, claimed: claimed, for: c.name) {
                    skipped.append(ImportSkip(item: host, reason: reason))
                    continue
                }
                hosts.append(host)
            }
            // A host under another of the vendor's hosts is already covered by it.
            let all = hosts
            hosts.removeAll { h in all.contains { h.hasSuffix("." + $0) } }
            var patterns: [String] = []
            for p in c.patterns {
                guard let slash = p.firstIndex(of: "/"), let host = normalisedHost(String(p[..<slash])) else {
                    skipped.append(ImportSkip(item: p, reason: "not a host/path pattern (from '\(c.name)')"))
                    continue
                }
                let pattern = host + p[slash...]
                if patterns.contains(pattern) { continue }
                // A pattern under one of this vendor's own hosts adds nothing.
                if hosts.contains(where: { host == $0 || host.hasSuffix("." + $0) }) { continue }
                if let reason = claim(host, path: String(p[slash...]), rule: pattern, existing: existing,
                                      claimed: claimed, for: c.name) {
                    skipped.append(ImportSkip(item: pattern, reason: reason))
                    continue
                }
                patterns.append(pattern)
            }
            if hosts.isEmpty && patterns.isEmpty {
                skipped.append(ImportSkip(item: c.name, reason: c.hosts.isEmpty && c.patterns.isEmpty
                    ? "no hosts" : "all its hosts are already claimed"))
                continue
            }
            let id = uniqueID(for: c.name, used: &usedIDs)
            for h in hosts { claimed[h] = id }
            for p in patterns { claimed[p] = id }
            vendors.append(Vendor(
                id: id, name: c.name, company: c.company, category: c.category, website: c.website,
                hosts: hosts, patterns: patterns, signatures: [], tagIDPatterns: [], file: path, line: nil))
        }
        return ImportResult(vendors: vendors, skipped: skipped)
    }

    /// Why `host` (with `path`) cannot go to the candidate `name`, or nil when it is free.
    private static func claim(_ host: String, path: String, rule: String, existing: Catalog,
                              claimed: [String: String], for name: String) -> String? {
        if let m = existing.match(host: host, path: path) {
            let v = existing.vendors[m.vendorIndex]
            return "already claimed by our vendor '\(v.id)' (\(v.name)) through '\(m.rule)'; not added to '\(name)'"
        }
        if let other = claimed[rule] {
            return "also listed for imported vendor '\(other)', which keeps it; not added to '\(name)'"
        }
        return nil
    }

    /// A host as our catalog writes it: lowercase, no leading `*.` or dot, labels of letters,
    /// digits and hyphens, at least two of them.
    static func normalisedHost(_ raw: String) -> String? {
        var h = raw.trimmingCharacters(in: .whitespaces).lowercased()
        if h.hasPrefix("*.") { h.removeFirst(2) }
        if h.hasPrefix(".") { h.removeFirst() }
        if h.hasSuffix(".") { h.removeLast() }
        let labels = h.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for l in labels {
            guard !l.isEmpty, l.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }) else { return nil }
        }
        return h
    }

    /// An id from `name` (lowercase words joined by hyphens), with -2, -3... when taken.
    static func uniqueID(for name: String, used: inout Set<String>) -> String {
        let base = slug(name)
        var id = base
        var n = 2
        while used.contains(id) {
            id = "\(base)-\(n)"
            n += 1
        }
        used.insert(id)
        return id
    }

    static func slug(_ name: String) -> String {
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        var words: [String] = []
        var word = ""
        for ch in folded.lowercased().unicodeScalars {
            if ch.isASCII, CharacterSet.alphanumerics.contains(ch) {
                word.unicodeScalars.append(ch)
            } else if !word.isEmpty {
                words.append(word)
                word = ""
            }
        }
        if !word.isEmpty { words.append(word) }
        return words.isEmpty ? "vendor" : words.joined(separator: "-")
    }

    /// The vendors with `file` set to `file` and `line` to where `yaml(vendors)` puts each entry,
    /// for when the import is written to that file.
    public static func placed(_ vendors: [Vendor], in file: String) -> [Vendor] {
        var line = yamlHeader.count + 2  // after the header comment and "vendors:"
        var result: [Vendor] = []
        for var v in vendors {
            v.file = file
            v.line = line
            result.append(v)
            line += entry(v).count + 1  // the entry's lines and the blank line after it
        }
        return result
    }
}

/// Reads a JSON file, with errors that name it.
func readJSONFile(_ path: String) throws -> Any {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw SourceError(file: path, line: nil, "cannot read this file")
    }
    do {
        return try JSONSerialization.jsonObject(with: data)
    } catch {
        let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        throw SourceError(file: path, line: nil, "not valid JSON: \(detail)")
    }
}

/// Text that is a non-empty string after trimming, or nil.
func trimmedString(_ value: Any?) -> String? {
    guard let s = value as? String else { return nil }
    let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
    return t.isEmpty ? nil : t
}
