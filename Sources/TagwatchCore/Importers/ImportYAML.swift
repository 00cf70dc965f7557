import Foundation

extension CatalogImporter {
    static let yamlHeader = [
        "# Vendors imported by tagwatch from another project's list: check each company and category.",
        "# One entry per vendor. hosts: a host matches itself and all its subdomains.",
    ]

    /// Our catalog YAML for `vendors` (the exact format rules/vendors/*.yaml uses), loadable by CatalogLoader.
    public static func yaml(_ vendors: [Vendor]) -> String {
        var lines = yamlHeader + ["vendors:"]
        for (n, v) in vendors.enumerated() {
            if n > 0 { lines.append("") }
            lines += entry(v)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The lines of one vendor entry, indented as in rules/vendors/*.yaml.
    static func entry(_ v: Vendor) -> [String] {
        var lines = ["  - id: \(v.id)"]
        lines.append("    name: \(yamlScalar(v.name))")
        lines.append("    company: \(yamlScalar(v.company))")
        lines.append("    category: \(v.category)")
        if let w = v.website { lines.append("    website: \(yamlScalar(w))") }
        lines += yamlList("hosts", v.hosts.map(yamlScalar))
        lines += yamlList("patterns", v.patterns.map(yamlDoubleQuoted))
        lines += yamlList("signatures", v.signatures.map(yamlDoubleQuoted))
        lines += yamlList("tag_ids", v.tagIDPatterns.map(yamlSingleQuoted))
        return lines
    }

    /// `key: [a, b]` when it fits on a line, else one `- item` per line; nothing for no items.
    static func yamlList(_ key: String, _ items: [String]) -> [String] {
        if items.isEmpty { return [] }
        let flow = "    \(key): [\(items.joined(separator: ", "))]"
        if flow.count <= 100 { return [flow] }
        return ["    \(key):"] + items.map { "      - \($0)" }
    }

    /// `s` unquoted when YAML reads it back as the same text in both block and flow context,
    /// else double-quoted.
    static func yamlScalar(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last,
              CharacterSet.letters.contains(first), !CharacterSet.whitespaces.contains(last), last != ":" else {
            return yamlDoubleQuoted(s)
        }
        let special = CharacterSet(charactersIn: "\"'\\`[]{},#|>*&!%@")
            .union(.controlCharacters).union(.newlines).union(.illegalCharacters)
        if s.unicodeScalars.contains(where: { special.contains($0) }) || s.contains(": ") {
            return yamlDoubleQuoted(s)
        }
        let words = ["true", "false", "yes", "no", "on", "off", "y", "n", "null"]
        if words.contains(s.lowercased()) { return yamlDoubleQuoted(s) }
        return s
    }

    static func yamlDoubleQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F || u.value == 0x85 || u.value == 0x2028 || u.value == 0x2029
                    || (0xD800...0xDFFF).contains(u.value) || u.value == 0xFEFF {
                    out += String(format: "\\u%04X", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Single quotes keep regular expressions readable (no backslash doubling).
    static func yamlSingleQuoted(_ s: String) -> String {
        if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return yamlDoubleQuoted(s) }
        return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
