import Foundation

/// A Google Tag Manager container as data: its tags with their parameters, consent lists and the
/// URLs custom templates are permitted to load. Read from what GTM serves (`gtm.js`: the
/// `var data = {"resource": …}` object, found by content so server-side containers on the
/// company's own domain count too) or from the JSON "Export container" gives. GTM's own library
/// code after the data object is never read: it names Google hosts whatever the tags are.
public struct TagManagerContainer: Sendable {
    /// One tag of the container, with its parameters reduced to text where they are plain.
    public struct Tag: Sendable {
        /// `__html`, `__hjtc`, `__cvt_123_45`… (export types get the `__` prefix too).
        public var type: String
        public var id: String?
        public var paused: Bool
        public var consent: [String]
        /// `vtp_name` -> value, for parameters whose value can be known without running the page
        /// (plain values, templates of plain parts, constant variables). Keys keep the `vtp_` prefix.
        public var parameters: [String: String]
        /// Parameters whose value is only known at run time (a variable, a macro).
        public var unknownParameters: Set<String>
    }

    /// The container's public id (`GTM-ABC1234`) when the data names it.
    public var publicID: String?
    public var version: String?
    public var tags: [Tag]
    /// A URL a tag type's permissions allow it to load.
    public struct PermittedURL: Sendable, Hashable {
        public var url: String
        /// `inject_script`, `send_pixel` or `inject_hidden_iframe`.
        public var permission: String
    }

    /// Tag type -> URLs its permissions allow it to inject or ping (`inject_script`, `send_pixel`,
    /// `inject_hidden_iframe`), as custom templates and some built-in types declare.
    public var permittedURLs: [String: [PermittedURL]]

    public enum ParseError: Error, CustomStringConvertible {
        case truncated(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .truncated(let s), .malformed(let s): return s
            }
        }
    }

    /// Whether `body` holds a container (served or exported), judged by content, cheaply.
    public static func looksLikeContainer(_ body: [UInt8]) -> Bool {
        dataObjectStart(body) != nil || exportStart(body) != nil
    }

    /// Parses a served container or an export. nil when `body` is neither; throws when it is one
    /// but cannot be read (truncated, malformed).
    public static func parse(_ body: [UInt8]) throws -> TagManagerContainer? {
        if let start = dataObjectStart(body) {
            guard let end = objectEnd(body, from: start) else {
                throw ParseError.truncated("the container's data object is truncated (no closing brace)")
            }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(body[start...end]), options: [])
            } catch {
                throw ParseError.malformed("the container's data object is not valid JSON: \(error.localizedDescription)")
            }
            guard let root = object as? [String: Any], let resource = root["resource"] as? [String: Any] else {
                throw ParseError.malformed("the container's data object has no \"resource\"")
            }
            return served(root: root, resource: resource, body: body)
        }
        if let start = exportStart(body) {
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(body[start...]), options: [])
            } catch {
                throw ParseError.malformed("the container export is not valid JSON: \(error.localizedDescription)")
            }
            guard let root = object as? [String: Any], let cv = root["containerVersion"] as? [String: Any] else {
                throw ParseError.malformed("the container export has no \"containerVersion\"")
            }
            return exported(cv)
        }
        return nil
    }

    // MARK: served gtm.js

    private static func served(root: [String: Any], resource: [String: Any], body: [UInt8]) -> TagManagerContainer {
        let macros = resource["macros"] as? [Any] ?? []
        var tags: [Tag] = []
        for case let t as [String: Any] in resource["tags"] as? [Any] ?? [] {
            guard let function = t["function"] as? String else { continue }
            var params: [String: String] = [:]
            var unknown = Set<String>()
            for (k, v) in t where k.hasPrefix("vtp_") {
                if let s = plain(v, macros: macros, depth: 0) {
                    params[k] = s
                } else if k == "vtp_html" || k == "vtp_url", let s = htmlDroppingUnknowns(v, macros: macros) {
                    // Markup and pixel URLs keep their known parts; the host is almost always literal.
                    params[k] = s
                    unknown.insert(k)
                } else {
                    unknown.insert(k)
                }
            }
            var consent: [String] = []
            if let c = t["consent"] as? [Any] {
                consent = c.dropFirst(c.first as? String == "list" ? 1 : 0).compactMap { $0 as? String }
            }
            let id = (t["tag_id"] as? NSNumber).map { "\($0.intValue)" } ?? (t["tag_id"] as? String)
            tags.append(Tag(type: function, id: id, paused: function == "__paused" || (t["paused"] as? Bool ?? false),
                            consent: consent, parameters: params, unknownParameters: unknown))
        }
        var permitted: [String: [PermittedURL]] = [:]
        if let perms = root["permissions"] as? [String: Any] {
            for (type, p) in perms {
                guard let p = p as? [String: Any] else { continue }
                var urls: [PermittedURL] = []
                for key in ["inject_script", "send_pixel", "inject_hidden_iframe"] {
                    if let entry = p[key] as? [String: Any], let list = entry["urls"] as? [Any] {
                        urls += list.compactMap { $0 as? String }.map { PermittedURL(url: $0, permission: key) }
                    }
                }
                if !urls.isEmpty { permitted[type] = urls }
            }
        }
        let version = (resource["version"] as? String) ?? (resource["version"] as? NSNumber).map { "\($0)" }
        return TagManagerContainer(publicID: publicIDNear(body), version: version, tags: tags, permittedURLs: permitted)
    }

    /// A macro-free text value: plain values, `["template", …]` of plain parts, `["escape", x, …]`,
    /// and `["macro", N]` when macro N is a constant (`__c`). nil when it depends on the page.
    static func plain(_ v: Any, macros: [Any], depth: Int) -> String? {
        if depth > 8 { return nil }
        switch v {
        case let s as String: return s
        case let n as NSNumber:
            return n.stringValue
        case let a as [Any]:
            guard let head = a.first as? String else { return nil }
            switch head {
            case "template":
                var out = ""
                for part in a.dropFirst() {
                    guard let s = plain(part, macros: macros, depth: depth + 1) else { return nil }
                    out += s
                }
                return out
            case "escape":
                return a.count > 1 ? plain(a[1], macros: macros, depth: depth + 1) : nil
            case "macro":
                guard a.count > 1, let n = (a[1] as? NSNumber)?.intValue, n >= 0, n < macros.count,
                      let m = macros[n] as? [String: Any], m["function"] as? String == "__c", let value = m["vtp_value"] else { return nil }
                return plain(value, macros: macros, depth: depth + 1)
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// Custom HTML with its run-time values left out, so the markup around them still parses.
    static func htmlDroppingUnknowns(_ v: Any, macros: [Any]) -> String? {
        if let s = plain(v, macros: macros, depth: 0) { return s }
        guard let a = v as? [Any], a.first as? String == "template" else { return nil }
        return a.dropFirst().map { plain($0, macros: macros, depth: 1) ?? "" }.joined()
    }

    // MARK: export JSON

    private static func exported(_ cv: [String: Any]) -> TagManagerContainer {
        var tags: [Tag] = []
        for case let t as [String: Any] in cv["tag"] as? [Any] ?? [] {
            guard let type = t["type"] as? String else { continue }
            var params: [String: String] = [:]
            var unknown = Set<String>()
            for case let p as [String: Any] in t["parameter"] as? [Any] ?? [] {
                guard let key = p["key"] as? String else { continue }
                if let value = exportPlain(p) { params["vtp_" + key] = value } else { unknown.insert("vtp_" + key) }
            }
            var consent: [String] = []
            if let cs = t["consentSettings"] as? [String: Any], cs["consentStatus"] as? String == "needed",
               let ct = cs["consentType"] as? [String: Any], let list = ct["list"] as? [Any] {
                consent = list.compactMap { ($0 as? [String: Any])?["value"] as? String }
            }
            let paused = (t["paused"] as? Bool) ?? ((t["paused"] as? String) == "true")
            tags.append(Tag(type: "__" + type, id: t["tagId"] as? String ?? (t["tagId"] as? NSNumber).map { "\($0)" },
                            paused: paused, consent: consent, parameters: params, unknownParameters: unknown))
        }
        var permitted: [String: [PermittedURL]] = [:]
        for case let tpl as [String: Any] in cv["customTemplate"] as? [Any] ?? [] {
            guard let containerID = tpl["containerId"] as? String, let templateID = tpl["templateId"] as? String,
                  let data = tpl["templateData"] as? String else { continue }
            let urls = exportPermissionURLs(data)
            if !urls.isEmpty { permitted["__cvt_\(containerID)_\(templateID)"] = urls }
        }
        let container = cv["container"] as? [String: Any]
        return TagManagerContainer(publicID: container?["publicId"] as? String,
                                   version: cv["containerVersionId"] as? String, tags: tags, permittedURLs: permitted)
    }

    /// A parameter's value in the export: `template`/`integer`/`boolean` values, with `{{Variable}}`
    /// references treated as unknown.
    private static func exportPlain(_ p: [String: Any]) -> String? {
        guard let value = p["value"] as? String else { return nil }
        if value.contains("{{") && (p["key"] as? String) != "html" { return nil }
        return value
    }

    /// The URLs of the `___WEB_PERMISSIONS___` section of a custom template's text that grant
    /// `inject_script`, `send_pixel` or `inject_hidden_iframe`.
    static func exportPermissionURLs(_ data: String) -> [PermittedURL] {
        guard let r = data.range(of: "___WEB_PERMISSIONS___") else { return [] }
        var section = data[r.upperBound...]
        if let end = section.range(of: "\n___") { section = section[..<end.lowerBound] }
        guard let start = section.firstIndex(of: "["),
              let list = try? JSONSerialization.jsonObject(with: Data(section[start...].utf8)) as? [Any] else { return [] }
        var urls: [PermittedURL] = []
        for case let perm as [String: Any] in list {
            guard let instance = perm["instance"] as? [String: Any], let key = instance["key"] as? [String: Any],
                  let id = key["publicId"] as? String, ["inject_script", "send_pixel", "inject_hidden_iframe"].contains(id) else { continue }
            var strings: [String] = []
            collectStrings(instance["param"], into: &strings)
            urls += strings.filter { $0.hasPrefix("https://") || $0.hasPrefix("http://") }.map { PermittedURL(url: $0, permission: id) }
        }
        return urls
    }

    private static func collectStrings(_ v: Any?, into out: inout [String]) {
        switch v {
        case let d as [String: Any]:
            if let s = d["string"] as? String { out.append(s) }
            for (_, x) in d { collectStrings(x, into: &out) }
        case let a as [Any]:
            for x in a { collectStrings(x, into: &out) }
        default: break
        }
    }

    // MARK: finding the data in the bytes

    /// The offset of `{` of `var data = {` when a `"resource"` key follows it closely.
    static func dataObjectStart(_ b: [UInt8]) -> Int? {
        let needle = Array("var data".utf8)
        var from = 0
        let limit = min(b.count, 4 * 1024 * 1024)
        while let at = find(needle, in: b, from: from, limit: limit) {
            var i = at + needle.count
            while i < b.count && (b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09) { i += 1 }
            if i < b.count && b[i] == UInt8(ascii: "=") {
                i += 1
                while i < b.count && (b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09) { i += 1 }
                if i < b.count && b[i] == UInt8(ascii: "{"), find(Array("\"resource\"".utf8), in: b, from: i, limit: min(b.count, i + 200)) != nil {
                    return i
                }
            }
            from = at + 1
        }
        return nil
    }

    /// The offset of the export's opening `{` when its first key is `exportFormatVersion` or it holds `"containerVersion"`.
    static func exportStart(_ b: [UInt8]) -> Int? {
        var i = 0
        if b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { i = 3 }
        while i < b.count && (b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09) { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        guard find(Array("\"containerVersion\"".utf8), in: b, from: i, limit: min(b.count, i + 4096)) != nil else { return nil }
        return i
    }

    /// The offset of the `}` that closes the object opening at `start`, skipping strings.
    static func objectEnd(_ b: [UInt8], from start: Int) -> Int? {
        var depth = 0
        var i = start
        var inString = false
        while i < b.count {
            let c = b[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        return nil
    }

    /// `GTM-…` named in the container's own code (`"GTM-ABC1234"` near the data, or `gtm.js?id=`).
    static func publicIDNear(_ b: [UInt8]) -> String? {
        let needle = Array("GTM-".utf8)
        var from = 0
        while let at = find(needle, in: b, from: from, limit: b.count) {
            var j = at + needle.count
            while j < b.count, (b[j] >= 0x30 && b[j] <= 0x39) || (b[j] >= 0x41 && b[j] <= 0x5A) { j += 1 }
            if j - at >= 8 { return String(decoding: b[at..<j], as: UTF8.self) }
            from = at + 1
        }
        return nil
    }

    static func find(_ needle: [UInt8], in b: [UInt8], from: Int, limit: Int) -> Int? {
        guard !needle.isEmpty, limit - needle.count >= from else { return nil }
        let first = needle[0]
        var i = from
        while i <= limit - needle.count {
            if b[i] == first {
                var k = 1
                while k < needle.count && b[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
