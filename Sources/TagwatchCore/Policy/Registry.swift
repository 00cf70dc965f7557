import Foundation

/// Where a registry entry allows or forbids a vendor: URL globs (`*` any run, `?` one
/// character) or `label:NAME` for targets carrying that label.
public struct Scope: Sendable, Hashable {
    public var text: String
    private var label: String?
    private var parts: [String]  // the glob split at '*'

    public init(_ text: String) throws {
        self.text = text
        if text.hasPrefix("label:") {
            let name = String(text.dropFirst(6))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ScopeError.badLabel
            }
            label = name
            parts = []
            return
        }
        guard !text.isEmpty else { throw ScopeError.empty }
        if text.contains(where: { $0 == "[" || $0 == "]" || $0 == "{" || $0 == "}" || $0 == " " }) {
            throw ScopeError.unsupported
        }
        if text.contains("**") { throw ScopeError.doubleStar }
        label = nil
        parts = text.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
    }

    enum ScopeError: Error {
        case empty, badLabel, unsupported, doubleStar
        var advice: String {
            switch self {
            case .empty: return "an empty scope matches nothing; remove it"
            case .badLabel: return "write labels as label:NAME with letters, digits, '-' or '_'"
            case .unsupported: return "only '*' and '?' are wildcards; brackets, braces and spaces are not allowed"
            case .doubleStar: return "'**' is not needed: one '*' already matches across '/'"
            }
        }
    }

    public func matches(url: String, labels: [String]) -> Bool {
        if let label { return labels.contains(label) }
        return Scope.glob(parts, url)
    }

    static func glob(_ parts: [String], _ s: String) -> Bool {
        let s = Array(s)
        var pos = 0
        for (i, part) in parts.enumerated() {
            let p = Array(part)
            if i == 0 {
                guard matchAt(p, s, 0) else { return false }
                pos = p.count
                if parts.count == 1 { return pos == s.count }
                continue
            }
            if i == parts.count - 1 {
                // Last piece must match at the end.
                let start = s.count - p.count
                return start >= pos && matchAt(p, s, start)
            }
            var found = false
            var k = pos
            while k + p.count <= s.count {
                if matchAt(p, s, k) { pos = k + p.count; found = true; break }
                k += 1
            }
            if !found { return false }
        }
        return true
    }

    private static func matchAt(_ p: [Character], _ s: [Character], _ at: Int) -> Bool {
        guard at + p.count <= s.count else { return false }
        for (j, c) in p.enumerated() where c != "?" && c != s[at + j] { return false }
        return true
    }
}

/// What IT security decided about a vendor or a whole category.
public struct RegistryEntry: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case approved, required, denied
    }
    public var status: Status
    public var owner: String?
    public var justification: String?
    public var on: [Scope]
    public var notOn: [Scope]
    /// Last day the approval holds, as YYYY-MM-DD.
    public var expires: String?
    /// `changes: expected`: its scripts change by design (a vendor that rotates its code), so a
    /// change is recorded, not alerted, and it is not asked to be pinned with SRI.
    public var changesExpected = false
    public var file: String
    public var line: Int?

    /// Whether a page is inside this entry's scope (in `on`, or everywhere when `on` is empty, and in no `not_on`).
    public func allows(url: String, labels: [String]) -> Bool {
        if !on.isEmpty && !on.contains(where: { $0.matches(url: url, labels: labels) }) { return false }
        return !notOn.contains(where: { $0.matches(url: url, labels: labels) })
    }
}

/// The approved-vendor registry (`rules/approved.yaml`): per vendor, and per category for
/// whole classes such as font CDNs. A vendor's own entry wins over its category's.
public struct Registry: Sendable {
    public var vendors: [String: RegistryEntry] = [:]
    public var categories: [String: RegistryEntry] = [:]
    public var file: String?

    public init() {}

    public func entry(for vendor: VendorRef) -> RegistryEntry? {
        vendors[vendor.id] ?? categories[vendor.category]
    }
}

/// Reads the registry strictly; with a catalog, it also checks every vendor it names exists.
public enum RegistryLoader {
    static let entryKeys = ["status", "owner", "justification", "on", "not_on", "expires", "changes"]

    public static func load(file path: String, catalog: Catalog?) throws -> Registry {
        var errors: [SourceError] = []
        let r = try load(file: path, catalog: catalog, errors: &errors)
        if let first = errors.first { throw first }
        return r
    }

    /// Loads what it can, collecting every problem into `errors` (for `rules check`).
    public static func load(file path: String, catalog: Catalog?, errors: inout [SourceError]) throws -> Registry {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SourceError(file: path, line: nil, "cannot read the registry file")
        }
        var registry = Registry()
        registry.file = path
        guard let root = try YAMLMap.load(file: path, text: String(decoding: data, as: UTF8.self), what: "the registry") else {
            return registry
        }
        try root.checkKeys(["vendors", "categories"], in: "the registry")
        for (section, isCategory) in [("vendors", false), ("categories", true)] {
            guard let node = root.node(section) else { continue }
            guard case .mapping(let m, _, _) = node else {
                errors.append(SourceError(file: path, line: node.line, "'\(section)' must map \(isCategory ? "category names" : "vendor ids") to entries"))
                continue
            }
            for pair in m {
                guard let name = pair.keyString else { continue }
                let line = pair.key.line
                let v = pair.value
                if isCategory {
                    if !Catalog.categories.contains(name) {
                        errors.append(SourceError(file: path, line: line, "unknown category '\(name)'; use one of: \(Catalog.categories.joined(separator: ", "))"))
                        continue
                    }
                } else if let catalog, catalog.vendor(id: name) == nil {
                    let near = catalog.vendors.map(\.id).min { editDistance($0, name) < editDistance($1, name) }
                    let hint = near.flatMap { editDistance($0, name) <= 4 ? " (did you mean '\($0)'?)" : nil } ?? ""
                    errors.append(SourceError(file: path, line: line, "the registry names vendor '\(name)', which the catalog lacks\(hint); fix the id or add the vendor to rules/vendors"))
                    continue
                }
                do {
                    let entry = try parseEntry(v, name: name, file: path, line: line)
                    if isCategory { registry.categories[name] = entry } else { registry.vendors[name] = entry }
                } catch let e as SourceError {
                    errors.append(e)
                }
            }
        }
        return registry
    }

    static func parseEntry(_ node: YAMLNode, name: String, file: String, line: Int?) throws -> RegistryEntry {
        // Short form: `fonts: approved`.
        if case .scalar(let s, _) = node {
            guard let status = RegistryEntry.Status(rawValue: s) else {
                throw SourceError(file: file, line: node.line ?? line, "status of '\(name)' must be approved, required or denied, not '\(s)'")
            }
            return RegistryEntry(status: status, owner: nil, justification: nil, on: [], notOn: [], expires: nil, file: file, line: line)
        }
        let m = try YAMLMap(file: file, node: node, what: "the entry for '\(name)'")
        try m.checkKeys(entryKeys, in: "the entry for '\(name)'")
        let statusText = try m.requiredString("status", in: "the entry for '\(name)'")
        guard let status = RegistryEntry.Status(rawValue: statusText) else {
            throw SourceError(file: file, line: m.lineOf("status"), "status of '\(name)' must be approved, required or denied, not '\(statusText)'")
        }
        func scopes(_ key: String) throws -> [Scope] {
            try m.strings(key, withLines: ()).map { text, l in
                do { return try Scope(text) } catch let e as Scope.ScopeError {
                    throw SourceError(file: file, line: l ?? m.lineOf(key), "bad glob '\(text)' in '\(key)' of '\(name)': \(e.advice)")
                }
            }
        }
        var expires: String?
        if let e = try m.string("expires") {
            guard Self.isValidDate(e) else {
                throw SourceError(file: file, line: m.lineOf("expires"), "bad date '\(e)' in 'expires' of '\(name)'; write it as YYYY-MM-DD, e.g. 2027-06-30")
            }
            expires = e
        }
        var entry = RegistryEntry(status: status, owner: try m.string("owner"), justification: try m.string("justification"),
                                  on: try scopes("on"), notOn: try scopes("not_on"), expires: expires, file: file, line: line)
        if let c = try m.string("changes") {
            guard c == "expected" || c == "alert" else {
                throw SourceError(file: file, line: m.lineOf("changes"), "'changes' of '\(name)' must be expected (record script changes, no alert) or alert, not '\(c)'")
            }
            entry.changesExpected = c == "expected"
        }
        return entry
    }

    static func isValidDate(_ s: String) -> Bool {
        let p = s.split(separator: "-")
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = Int(p[0]), let mo = Int(p[1]), let d = Int(p[2]), (1...12).contains(mo), d >= 1 else { return false }
        let days = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[mo - 1]
    }
}
