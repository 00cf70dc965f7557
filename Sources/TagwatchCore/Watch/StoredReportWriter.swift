import Foundation

/// Writes a page observation's stored form (`page_cache.report`) straight into bytes, without
/// Foundation's `JSONEncoder`: in the profile of a first cycle, encoding each scanned page's
/// report through it was a tenth of the CPU and ran after each batch's scan, while nothing else
/// did. The JSON is the synthesized `Codable` form of `PageReport` (the same keys and values,
/// nil optionals left out, slashes not escaped), so `StoredReportReader`, `JSONDecoder` and rows
/// written by earlier versions all read the same; only the order of keys is fixed here (the
/// declaration order) where `JSONEncoder`'s is not. A field added to the model must be added here
/// and to the reader (`StoredFormsTests` compares all three on a report that sets every field).
struct StoredReportWriter {
    private var out: [UInt8] = []

    static func encode(_ r: PageReport) -> String {
        var w = StoredReportWriter()
        w.out.reserveCapacity(1024 + r.resources.count * 256 + r.scripts.count * 320)
        w.pageReport(r)
        return String(decoding: w.out, as: UTF8.self)
    }

    // MARK: the model (the fields of each type's `CodingKeys`, in order)

    private mutating func pageReport(_ r: PageReport) {
        open()
        key("target", first: true); target(r.target)
        key("url"); string(r.url)
        if let s = r.status { key("status"); int(s) }
        if let e = r.error { key("error"); string(e) }
        key("warnings"); strings(r.warnings)
        key("resources"); array(r.resources) { $0.resource($1) }
        key("scripts"); array(r.scripts) { $0.scriptRecord($1) }
        key("securityHeaders")
        open()
        // Sorted, so the same headers always read the same bytes (any order decodes alike).
        for (n, (name, value)) in r.securityHeaders.sorted(by: { $0.key < $1.key }).enumerated() {
            key(name, first: n == 0); string(value)
        }
        close()
        if let v = r.validators {
            key("validators")
            open()
            var first = true
            if let e = v.etag { key("etag", first: first); string(e); first = false }
            if let m = v.lastModified { key("lastModified", first: first); string(m); first = false }
            key("bodySHA256", first: first); string(v.bodySHA256)
            close()
        }
        close()
    }

    private mutating func target(_ t: Target) {
        open()
        key("source", first: true)
        open()
        switch t.source {
        case .url(let u):
            key("url", first: true); open(); key("_0", first: true); string(u); close()
        case .file(let path, let baseURL):
            key("file", first: true); open(); key("path", first: true); string(path)
            if let b = baseURL { key("baseURL"); string(b) }
            close()
        }
        close()
        key("labels"); strings(t.labels)
        close()
    }

    private mutating func resource(_ r: Resource) {
        open()
        key("url", first: true); string(r.url)
        key("host"); string(r.host)
        key("kind"); string(r.kind.rawValue)
        key("party"); string(r.party.rawValue)
        if let v = r.vendor {
            key("vendor")
            open()
            key("id", first: true); string(v.id)
            key("name"); string(v.name)
            key("company"); string(v.company)
            key("category"); string(v.category)
            close()
        }
        if let i = r.integrity { key("integrity"); string(i) }
        key("tagIDs"); strings(r.tagIDs)
        if let v = r.via { key("via"); string(v) }
        if let t = r.tag {
            key("tag")
            open()
            key("type", first: true); string(t.type)
            if let id = t.id { key("id"); string(id) }
            key("consent"); strings(t.consent)
            if let c = t.container { key("container"); string(c) }
            close()
        }
        close()
    }

    private mutating func scriptRecord(_ s: ScriptRecord) {
        open()
        key("url", first: true); string(s.url)
        key("kind"); string(s.kind)
        if let i = s.integrity { key("integrity"); string(i) }
        if let d = s.digest {
            key("digest")
            open()
            key("sha384", first: true); string(d.sha384)
            key("sha256"); string(d.sha256)
            key("size"); int(d.size)
            key("sha256Base64"); string(d.sha256Base64)
            key("sha512Base64"); string(d.sha512Base64)
            close()
        }
        if let e = s.error { key("error"); string(e) }
        if let c = s.containerVersion { key("containerVersion"); string(c) }
        key("containerTags"); strings(s.containerTags)
        if let v = s.via { key("via"); string(v) }
        close()
    }

    // MARK: JSON (RFC 8259)

    private mutating func open() { out.append(UInt8(ascii: "{")) }
    private mutating func close() { out.append(UInt8(ascii: "}")) }

    private mutating func key(_ k: String, first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        string(k)
        out.append(UInt8(ascii: ":"))
    }

    private mutating func array<T>(_ values: [T], _ element: (inout StoredReportWriter, T) -> Void) {
        out.append(UInt8(ascii: "["))
        for (n, v) in values.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            element(&self, v)
        }
        out.append(UInt8(ascii: "]"))
    }

    private mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }

    private mutating func int(_ n: Int) { out.append(contentsOf: String(n).utf8) }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string: `"` and `\` escaped, control characters as their short escape or `\u00XX`,
    /// everything else (including `/` and non-ASCII) as its UTF-8 bytes.
    private mutating func string(_ s: String) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for (i, c) in bytes.enumerated() where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                start = i + 1
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(c)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                            Self.hex[Int(c >> 4)], Self.hex[Int(c & 0x0F)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
