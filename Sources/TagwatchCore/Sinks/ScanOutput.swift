import Foundation

/// Renders scan results for people (text) and for programs (the documented JSON shape).
public enum ScanOutput {
    /// `withFindings` adds each page's `findings` (when a registry was applied).
    public static func json(_ reports: [PageReport], withFindings: Bool = false) -> JSONValue {
        .object([("pages", .array(reports.map { page($0, withFindings: withFindings) }))])
    }

    public static func page(_ r: PageReport, withFindings: Bool) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("target", .string(r.target.name)),
            ("url", .string(r.url)),
            ("status", .num(r.status)),
            ("error", .str(r.error)),
            ("warnings", .array(r.warnings.map { .string($0) })),
            ("resources", .array(r.resources.map(resource))),
            ("scripts", .array(r.scripts.map(script))),
        ]
        if withFindings { fields.append(("findings", .array(r.findings.map(finding)))) }
        return .object(fields)
    }

    public static func finding(_ f: Finding) -> JSONValue {
        .object([
            ("kind", .string(f.kind.rawValue)),
            ("severity", .string(f.severity.rawValue)),
            ("page", .string(f.page)),
            ("vendor", f.vendor.map(vendor) ?? .null),
            ("subject", .string(f.subject)),
            ("resource_url", .str(f.resourceURL)),
            ("message", .string(f.message)),
        ])
    }

    public static func resource(_ r: Resource) -> JSONValue {
        .object([
            ("url", .string(r.url)),
            ("host", .string(r.host)),
            ("kind", .string(r.kind.rawValue)),
            ("party", .string(r.party.rawValue)),
            ("vendor", r.vendor.map(vendor) ?? .null),
            ("tag_ids", .array(r.tagIDs.map { .string($0) })),
            ("via", .str(r.via)),
            ("tag", r.tag.map(tag) ?? .null),
        ])
    }

    /// A followed script's integrity record: what to pin, and whether the page's pin matches.
    public static func script(_ s: ScriptRecord) -> JSONValue {
        .object([
            ("url", .string(s.url)), ("kind", .string(s.kind)), ("via", .str(s.via)),
            ("sha384", .str(s.digest.map { "sha384-" + $0.sha384 })), ("sha256", .str(s.digest?.sha256)),
            ("size", .num(s.digest?.size)), ("integrity", .str(s.integrity)),
            ("sri", .str(s.integrity.flatMap { a in s.digest.map { SubresourceIntegrity.verify(a, $0).rawValue } })),
            ("container", .str(s.containerVersion)), ("error", .str(s.error)),
        ])
    }

    public static func tag(_ t: TagRef) -> JSONValue {
        .object([("type", .string(t.type)), ("id", .str(t.id)), ("consent", .array(t.consent.map { .string($0) })),
                 ("container", .str(t.container))])
    }

    public static func vendor(_ v: VendorRef) -> JSONValue {
        .object([("id", .string(v.id)), ("name", .string(v.name)), ("company", .string(v.company)),
                 ("category", .string(v.category))])
    }

    /// A readable report per page: vendors grouped with company and category, unknown hosts, totals.
    public static func text(_ reports: [PageReport]) -> String {
        var t = TextReport()
        var out = ""
        for r in reports { out += t.page(r) }
        return out + t.totals()
    }
}

/// The text report, page by page, so a scan of thousands of pages prints as it goes.
public struct TextReport {
    var totalThird = 0, totalFindings = 0, totalVendors = Set<String>(), totalUnknown = Set<String>(), failed = 0, pages = 0

    public init() {}

    public mutating func page(_ r: PageReport) -> String {
        pages += 1
        var out = ""
        out += "\(r.url)"
        if r.target.name != r.url { out += "  (\(r.target.name))" }
        out += "\n"
        if let e = r.error {
            out += "  error: \(e)\n\n"
            failed += 1
            return out
        }
        for w in r.warnings { out += "  warning: \(w)\n" }
        let third = r.resources.filter { $0.party == .third }
        let first = r.resources.count - third.count
        totalThird += third.count
        var byVendor: [String: (VendorRef, [Resource])] = [:]
        var order: [String] = []
        var unknown: [String: [Resource]] = [:]
        var unknownOrder: [String] = []
        for res in third {
            if let v = res.vendor {
                if byVendor[v.id] == nil { order.append(v.id); byVendor[v.id] = (v, []) }
                byVendor[v.id]!.1.append(res)
            } else {
                if unknown[res.host] == nil { unknownOrder.append(res.host) }
                unknown[res.host, default: []].append(res)
            }
        }
        if order.isEmpty && unknownOrder.isEmpty {
            out += "  no third-party resources\n"
        }
        if !order.isEmpty {
            out += "  vendors:\n"
            let w = order.map { byVendor[$0]!.0.name.count }.max() ?? 0
            for id in order {
                let (v, rs) = byVendor[id]!
                totalVendors.insert(id)
                let kinds = Dictionary(grouping: rs, by: { $0.kind.rawValue }).map { "\($0.value.count) \($0.key)" }.sorted()
                let ids = Array(Set(rs.flatMap { $0.tagIDs })).sorted()
                out += "    " + v.name.padding(toLength: w, withPad: " ", startingAt: 0)
                out += "  \(v.company) · \(v.category) · \(kinds.joined(separator: ", "))"
                if !ids.isEmpty { out += " · ids \(ids.joined(separator: " "))" }
                out += "\n"
            }
        }
        // What came in through a container or script, by what it came through.
        var insideOrder: [String] = []
        var inside: [String: [String]] = [:]
        for res in third {
            guard let via = res.via else { continue }
            let name = res.tag?.container.map { "\($0) (\(via))" } ?? via
            if inside[name] == nil { insideOrder.append(name); inside[name] = [] }
            let what = res.vendor?.name ?? res.host
            if !inside[name]!.contains(what) { inside[name]!.append(what) }
        }
        for name in insideOrder {
            out += "  inside \(name): \(inside[name]!.joined(separator: ", "))\n"
        }
        if !unknownOrder.isEmpty {
            out += "  unknown third-party hosts:\n"
            for h in unknownOrder {
                totalUnknown.insert(h)
                let rs = unknown[h]!
                out += "    \(h)  \(rs.count) resource\(rs.count == 1 ? "" : "s") (\(rs[0].kind.rawValue) \(rs[0].url))\n"
            }
        }
        if !r.findings.isEmpty {
            out += "  findings:\n"
            for f in r.findings.sorted(by: { $0.severity > $1.severity }) {
                out += "    [\(f.severity.rawValue)] \(f.kind.rawValue): \(f.message)\n"
            }
        }
        totalFindings += r.findings.count
        out += "  \(third.count) third-party, \(first) first-party resources\n\n"
        return out
    }

    public func totals() -> String {
        var out = ""
        out += "\(pages) page\(pages == 1 ? "" : "s") scanned"
        if failed > 0 { out += ", \(failed) failed" }
        out += "; \(totalVendors.count) vendor\(totalVendors.count == 1 ? "" : "s"), \(totalUnknown.count) unknown third-party host\(totalUnknown.count == 1 ? "" : "s"), \(totalThird) third-party resources"
        if totalFindings > 0 { out += "; \(totalFindings) finding\(totalFindings == 1 ? "" : "s")" }
        out += "\n"
        return out
    }

}
