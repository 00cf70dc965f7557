import Foundation
import TagwatchCore

/// `tagwatch inventory --scripts`: the PCI DSS 6.4.3 script inventory, with the registry's
/// authorization (status, owner, justification) beside each script's integrity evidence.
enum ScriptInventoryOutput {
    static let columns = ["script_url", "party", "vendor_id", "vendor", "company", "category", "registry_status", "owner",
                          "justification", "integrity_method", "integrity", "sha384", "sha256", "size", "pages", "labels",
                          "container_version", "first_seen", "last_changed", "last_verified", "failed_cycles"]

    static func fields(_ r: ScriptInventoryRow, registry: Registry?) -> [String] {
        let entry = r.vendor.flatMap { registry?.entry(for: $0) }
        let status = r.party == "first" ? "first-party" : (entry?.status.rawValue ?? (r.vendor == nil ? "unknown" : "unapproved"))
        return [r.url, r.party, r.vendor?.id ?? "", r.vendor?.name ?? "", r.vendor?.company ?? "", r.vendor?.category ?? "", status,
                entry?.owner ?? "", entry?.justification ?? "", r.integrityMethod, r.integrity ?? "",
                r.sha384.map { "sha384-" + $0 } ?? "", r.sha256 ?? "", r.size.map(String.init) ?? "", r.pages.joined(separator: " "),
                r.labels.joined(separator: " "), r.containerVersion ?? "", r.firstSeen, r.lastChanged ?? "", r.lastVerified ?? "",
                String(r.failures)]
    }

    static func csv(_ rows: [ScriptInventoryRow], registry: Registry?) -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = columns.joined(separator: ",") + "\n"
        for r in rows { out += fields(r, registry: registry).map(quote).joined(separator: ",") + "\n" }
        return out
    }

    static func json(_ rows: [ScriptInventoryRow], registry: Registry?) -> String {
        JSONValue.object([("scripts", .array(rows.map { r in
            .object(zip(columns, fields(r, registry: registry)).map { k, v in
                (k, k == "size" || k == "failed_cycles" ? (Int(v).map { .int($0) } ?? .null)
                    : (k == "pages" || k == "labels" ? .array(v.split(separator: " ").map { .string(String($0)) }) : .string(v)))
            })
        }))]).serialized(pretty: true)
    }

    static func text(_ rows: [ScriptInventoryRow], registry: Registry?) -> String {
        if rows.isEmpty { return "no scripts recorded\n" }
        var out = ""
        for r in rows {
            let f = Dictionary(uniqueKeysWithValues: zip(columns, fields(r, registry: registry)))
            out += "\(r.url)\n"
            out += "  \(f["vendor"]!.isEmpty ? (r.party == "first" ? "first party" : "unknown vendor") : "\(f["vendor"]!) (\(f["company"]!), \(f["category"]!))")"
            out += " · \(f["registry_status"]!)\(f["owner"]!.isEmpty ? "" : " · owner \(f["owner"]!)")\n"
            if !f["justification"]!.isEmpty { out += "  why: \(f["justification"]!)\n" }
            out += "  integrity: \(r.integrityMethod) · \(f["sha384"]!) · \(f["size"]!) bytes · last changed \(r.lastChanged ?? "never") · verified \(r.lastVerified ?? "never")\n"
            out += "  on \(r.pages.count) page\(r.pages.count == 1 ? "" : "s")\(r.labels.isEmpty ? "" : " (labels: \(r.labels.joined(separator: ", ")))")\n"
        }
        return out
    }
}
