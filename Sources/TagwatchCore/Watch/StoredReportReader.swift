import Foundation

/// Reads a stored page observation (`page_cache.report`: the JSON `JSONEncoder` writes for a
/// `PageReport`) straight from its bytes into the value, without Foundation's `JSONDecoder`: in
/// the profile of a steady-state cycle, decoding the stored observations through it was the
/// largest single cost (a fifth of the cycle even spread over the cores). The format is the
/// synthesized `Codable` one, unchanged, so rows written by earlier versions read the same, and
/// anything it does not expect (a missing key, a wrong type, bad JSON) is an error: the caller
/// then forgets the copy and the page is scanned whole.
struct StoredReportReader {
    struct Malformed: Error {}

    private let b: [UInt8]
    private var i = 0

    private init(_ bytes: [UInt8]) { b = bytes }

    static func decode(_ bytes: [UInt8]) throws -> PageReport {
        var r = StoredReportReader(bytes)
        let report = try r.pageReport()
        r.space()
        guard r.i == r.b.count else { throw Malformed() }
        return report
    }

    // MARK: the model

    private mutating func pageReport() throws -> PageReport {
        var target: Target?, url: String?, status: Int?, error: String?
        var warnings: [String]?, resources: [Resource]?, scripts: [ScriptRecord]?
        var headers: [String: String]?, validators: PageValidators?
        try object { key, r in
            switch key {
            case "target": target = try r.target()
            case "url": url = try r.string()
            case "status": status = try r.nullable { try $0.int() }
            case "error": error = try r.nullable { try $0.string() }
            case "warnings": warnings = try r.strings()
            case "resources": resources = try r.array { try $0.resource() }
            case "scripts": scripts = try r.array { try $0.scriptRecord() }
            case "securityHeaders":
                var h: [String: String] = [:]
                try r.object { name, r in h[name] = try r.string() }
                headers = h
            case "validators": validators = try r.nullable { try $0.validators() }
            default: try r.skip()
            }
        }
        guard let target, let url, let warnings, let resources, let scripts, let headers else { throw Malformed() }
        var report = PageReport(target: target, url: url, status: status, error: error, warnings: warnings, resources: resources)
        report.scripts = scripts
        report.securityHeaders = headers
        report.validators = validators
        return report
    }

    private mutating func target() throws -> Target {
        var source: Target.Source?, labels: [String]?
        try object { key, r in
            switch key {
            case "source":
                try r.object { kind, r in
                    var url: String?, path: String?, baseURL: String?
                    try r.object { k, r in
                        switch k {
                        case "_0": url = try r.string()
                        case "path": path = try r.string()
                        case "baseURL": baseURL = try r.nullable { try $0.string() }
                        default: try r.skip()
                        }
                    }
                    switch kind {
                    case "url": guard let url else { throw Malformed() }; source = .url(url)
                    case "file": guard let path else { throw Malformed() }; source = .file(path: path, baseURL: baseURL)
                    default: throw Malformed()
                    }
                }
            case "labels": labels = try r.strings()
            default: try r.skip()
            }
        }
        guard let source, let labels else { throw Malformed() }
        return Target(source: source, labels: labels)
    }

    private mutating func resource() throws -> Resource {
        var url: String?, host: String?, kind: ResourceKind?, party: Party?, vendor: VendorRef?
        var integrity: String?, tagIDs: [String]?, via: String?, tag: TagRef?
        try object { key, r in
            switch key {
            case "url": url = try r.string()
            case "host": host = try r.string()
            case "kind": kind = ResourceKind(rawValue: try r.string())
            case "party": party = Party(rawValue: try r.string())
            case "vendor": vendor = try r.nullable { try $0.vendorRef() }
            case "integrity": integrity = try r.nullable { try $0.string() }
            case "tagIDs": tagIDs = try r.strings()
            case "via": via = try r.nullable { try $0.string() }
            case "tag": tag = try r.nullable { try $0.tagRef() }
            default: try r.skip()
            }
        }
        guard let url, let host, let kind, let party, let tagIDs else { throw Malformed() }
        return Resource(url: url, host: host, kind: kind, party: party, vendor: vendor, integrity: integrity, tagIDs: tagIDs,
                        via: via, tag: tag)
    }

    private mutating func vendorRef() throws -> VendorRef {
        var id: String?, name: String?, company: String?, category: String?
        try object { key, r in
            switch key {
            case "id": id = try r.string()
            case "name": name = try r.string()
            case "company": company = try r.string()
            case "category": category = try r.string()
            default: try r.skip()
            }
        }
        guard let id, let name, let company, let category else { throw Malformed() }
        return VendorRef(id: id, name: name, company: company, category: category)
    }

    private mutating func tagRef() throws -> TagRef {
        var type: String?, id: String?, consent: [String]?, container: String?
        try object { key, r in
            switch key {
            case "type": type = try r.string()
            case "id": id = try r.nullable { try $0.string() }
            case "consent": consent = try r.strings()
            case "container": container = try r.nullable { try $0.string() }
            default: try r.skip()
            }
        }
        guard let type, let consent else { throw Malformed() }
        return TagRef(type: type, id: id, consent: consent, container: container)
    }

    private mutating func scriptRecord() throws -> ScriptRecord {
        var url: String?, kind: String?, integrity: String?, digest: ScriptDigest?, error: String?
        var containerVersion: String?, containerTags: [String]?, via: String?
        try object { key, r in
            switch key {
            case "url": url = try r.string()
            case "kind": kind = try r.string()
            case "integrity": integrity = try r.nullable { try $0.string() }
            case "digest": digest = try r.nullable { try $0.digest() }
            case "error": error = try r.nullable { try $0.string() }
            case "containerVersion": containerVersion = try r.nullable { try $0.string() }
            case "containerTags": containerTags = try r.strings()
            case "via": via = try r.nullable { try $0.string() }
            default: try r.skip()
            }
        }
        guard let url, let kind, let containerTags else { throw Malformed() }
        return ScriptRecord(url: url, kind: kind, integrity: integrity, digest: digest, error: error,
                            containerVersion: containerVersion, containerTags: containerTags, via: via)
    }

    private mutating func digest() throws -> ScriptDigest {
        var sha384: String?, sha256: String?, size: Int?, sha256Base64: String?, sha512Base64: String?
        try object { key, r in
            switch key {
            case "sha384": sha384 = try r.string()
            case "sha256": sha256 = try r.string()
            case "size": size = try r.int()
            case "sha256Base64": sha256Base64 = try r.string()
            case "sha512Base64": sha512Base64 = try r.string()
            default: try r.skip()
            }
        }
        guard let sha384, let sha256, let size, let sha256Base64, let sha512Base64 else { throw Malformed() }
        return ScriptDigest(sha384: sha384, sha256: sha256, size: size, sha256Base64: sha256Base64, sha512Base64: sha512Base64)
    }

    private mutating func validators() throws -> PageValidators {
        var etag: String?, lastModified: String?, body: String?
        try object { key, r in
            switch key {
            case "etag": etag = try r.nullable { try $0.string() }
            case "lastModified": lastModified = try r.nullable { try $0.string() }
            case "bodySHA256": body = try r.string()
            default: try r.skip()
            }
        }
        guard let body else { throw Malformed() }
        return PageValidators(etag: etag, lastModified: lastModified, bodySHA256: body)
    }

    // MARK: JSON (RFC 8259)

    private mutating func space() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        space()
        guard i < b.count, b[i] == c else { throw Malformed() }
        i += 1
    }

    /// Whether the next token is `c` (consumed when it is).
    private mutating func take(_ c: UInt8) -> Bool {
        space()
        if i < b.count, b[i] == c { i += 1; return true }
        return false
    }

    private mutating func object(_ member: (String, inout StoredReportReader) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) { return }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(key, &self)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    private mutating func array<T>(_ element: (inout StoredReportReader) throws -> T) throws -> [T] {
        try expect(UInt8(ascii: "["))
        var out: [T] = []
        if take(UInt8(ascii: "]")) { return out }
        repeat { out.append(try element(&self)) } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
        return out
    }

    private mutating func strings() throws -> [String] { try array { try $0.string() } }

    private mutating func nullable<T>(_ value: (inout StoredReportReader) throws -> T) throws -> T? {
        space()
        if b.count - i >= 4, b[i] == UInt8(ascii: "n"), b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l") {
            i += 4
            return nil
        }
        return try value(&self)
    }

    private mutating func int() throws -> Int {
        space()
        let start = i
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
        guard i > start, let n = Int(String(decoding: b[start..<i], as: UTF8.self)) else { throw Malformed() }
        return n
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = i
        // The common case: no escapes, the bytes are the string.
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") {
            guard b[i] >= 0x20 else { throw Malformed() }
            i += 1
        }
        guard i < b.count else { throw Malformed() }
        if b[i] == UInt8(ascii: "\"") {
            i += 1
            return b.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<i - 1]), as: UTF8.self) }
        }
        var out = Array(b[start..<i])
        while true {
            guard i < b.count else { throw Malformed() }
            let c = b[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c != UInt8(ascii: "\\") {
                guard c >= 0x20 else { throw Malformed() }
                out.append(c)
                continue
            }
            guard i < b.count else { throw Malformed() }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A surrogate pair names one scalar; a lone half is not text.
                    guard b.count - i >= 6, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { throw Malformed() }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw Malformed()
                }
                guard let u = Unicode.Scalar(scalar) else { throw Malformed() }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw Malformed()
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func hex4() throws -> UInt32 {
        guard b.count - i >= 4 else { throw Malformed() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            i += 1
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw Malformed()
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Skips one value of any type (a key a newer version wrote).
    private mutating func skip() throws {
        space()
        guard i < b.count else { throw Malformed() }
        switch b[i] {
        case UInt8(ascii: "{"): try object { _, r in try r.skip() }
        case UInt8(ascii: "["): _ = try array { try $0.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            let word: [UInt8] = b[i] == UInt8(ascii: "t") ? Array("true".utf8) : b[i] == UInt8(ascii: "f") ? Array("false".utf8) : Array("null".utf8)
            guard b.count - i >= word.count, Array(b[i..<i + word.count]) == word else { throw Malformed() }
            i += word.count
        default:
            // A number: sign, digits, fraction, exponent.
            let start = i
            while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")
                || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { i += 1 }
            guard i > start else { throw Malformed() }
        }
    }
}
