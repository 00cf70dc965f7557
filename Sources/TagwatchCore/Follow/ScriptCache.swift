import Foundation

/// What the last cycle stored about one followed script (the state's `script_cache`): the
/// validators the server gave, the body's SHA-256 and the analysis of that body, so the next
/// cycle asks with `If-None-Match` / `If-Modified-Since` and reuses the analysis on a 304 or on
/// the same bytes instead of analysing them again.
public struct StoredScript: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?
    public var bodySHA256: String
    /// `ScriptAnalysis.encoded(hashOnly:)` of that body.
    public var analysis: [UInt8]

    public init(etag: String?, lastModified: String?, bodySHA256: String, analysis: [UInt8]) {
        self.etag = etag
        self.lastModified = lastModified
        self.bodySHA256 = bodySHA256
        self.analysis = analysis
    }

    /// The request headers of a conditional GET for the version stored.
    var requestHeaders: [String] {
        PageValidators(etag: etag, lastModified: lastModified, bodySHA256: bodySHA256).requestHeaders
    }
}

/// A row to write to `script_cache` after the cycle: a script fetched whole whose bytes (or
/// validators) differ from what was stored.
public struct ScriptCacheEntry: Sendable, Equatable {
    public var url: String
    public var stored: StoredScript
}

/// Identifies what stored analyses and page observations were computed with: the catalog (vendor
/// hosts, tag types, signatures), the first-party domains and the binary that computed them. A
/// stored result is reused only under the same fingerprint; anything else is fetched and analysed
/// whole (the resources' vendors and parties come from these, the findings do not: the policy of
/// the day re-evaluates them from the registry every cycle).
public enum AnalysisFingerprint {
    public static func of(catalog: Catalog, firstParty: [String]) -> String {
        // The text is built as UTF-8 bytes in one buffer (concatenating Strings piece by piece
        // cost ~1 ms of every run's start with the bundled catalog); the bytes are the same.
        var text: [UInt8] = []
        text.reserveCapacity(256 * 1024)
        func add(_ s: String) { text.append(contentsOf: s.utf8) }
        func add(_ parts: [String], separatedBy separator: UInt8) {
            for (i, p) in parts.enumerated() {
                if i > 0 { text.append(separator) }
                add(p)
            }
        }
        add("tagwatch-analysis 1\u{1}")
        // The binary itself: a new build may extract or attribute differently.
        var st = stat()
        if stat("/proc/self/exe", &st) == 0 {
            add("exe \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)\u{1}")
        }
        add("first-party " + firstParty.map { $0.lowercased() }.sorted().joined(separator: " ") + "\u{1}")
        for v in catalog.vendors {
            add([v.id, v.name, v.company, v.category], separatedBy: 2)
            text.append(2)
            add(v.hosts, separatedBy: 0x20)
            text.append(2)
            add(v.patterns, separatedBy: 0x20)
            text.append(2)
            add(v.signatures, separatedBy: 3)
            text.append(2)
            add(v.tagIDPatterns, separatedBy: 3)
            text.append(2)
            for t in v.tagTypes {
                add(t.manager.rawValue)
                text.append(0x20)
                add(t.type)
                text.append(0x20)
                add(t.loads, separatedBy: 0x20)
                text.append(3)
            }
            text.append(1)
        }
        return ScriptDigest.sha256Hex(text)
    }
}

/// A small binary format (varints and length-prefixed UTF-8) for what is stored and read back
/// every cycle: cheaper to write and read than Foundation's JSON coders, which were the largest
/// single cost of a steady-state cycle.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func int(_ v: Int) {
        var u = UInt64(bitPattern: Int64(v) << 1 ^ Int64(v) >> 63)  // zigzag
        while u >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: u) | 0x80)
            u >>= 7
        }
        bytes.append(UInt8(u))
    }

    mutating func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { p in
            int(p.count)
            bytes.append(contentsOf: p)
        }
    }

    mutating func optional(_ s: String?) {
        bool(s != nil)
        if let s { string(s) }
    }

    mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }
}

/// Reads what `ByteWriter` wrote; any malformed input throws (a stored copy that cannot be read
/// is not used).
struct ByteReader {
    struct Malformed: Error {}
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { at == bytes.count }

    mutating func int() throws -> Int {
        var u: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < bytes.count, shift < 64 else { throw Malformed() }
            let b = bytes[at]
            at += 1
            u |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        return Int(Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1))
    }

    mutating func bool() throws -> Bool {
        guard at < bytes.count, bytes[at] <= 1 else { throw Malformed() }
        at += 1
        return bytes[at - 1] == 1
    }

    mutating func string() throws -> String {
        let n = try int()
        guard n >= 0, n <= bytes.count - at else { throw Malformed() }
        defer { at += n }
        return bytes.withUnsafeBufferPointer { p in
            String(decoding: UnsafeBufferPointer(rebasing: p[at..<at + n]), as: UTF8.self)
        }
    }

    mutating func optional() throws -> String? {
        try bool() ? try string() : nil
    }

    mutating func strings() throws -> [String] {
        let n = try int()
        guard n >= 0, n <= bytes.count - at else { throw Malformed() }
        var out: [String] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try string()) }
        return out
    }
}

extension ScriptAnalysis {
    static let encodingVersion = 1

    /// The analysis in `ByteWriter`'s format, for `script_cache`. `hashOnly`: a stylesheet
    /// fetched only to check its SRI pin (its analysis is its digest).
    func encoded(hashOnly: Bool) -> [UInt8] {
        var w = ByteWriter()
        w.int(Self.encodingVersion)
        w.bool(hashOnly)
        w.int(found.count)
        for r in found {
            w.string(r.url)
            w.string(r.kind.rawValue)
            w.optional(r.integrity)
            w.bool(r.inlineIndex != nil)
            if let i = r.inlineIndex { w.int(i) }
            w.optional(r.via)
            w.bool(r.tag != nil)
            if let t = r.tag {
                w.string(t.type)
                w.optional(t.id)
                w.strings(t.consent)
                w.optional(t.container)
            }
            w.optional(r.vendorID)
            w.strings(r.tagIDs)
        }
        w.strings(follow)
        w.strings(warnings)
        w.optional(kind)
        w.int(size)
        w.bool(digest != nil)
        if let d = digest {
            w.string(d.sha384)
            w.string(d.sha256)
            w.int(d.size)
            w.string(d.sha256Base64)
            w.string(d.sha512Base64)
        }
        w.optional(containerVersion)
        w.strings(containerTags)
        return w.bytes
    }

    /// Reads `encoded(hashOnly:)`; nil when the bytes are not such an analysis or were stored
    /// for the other use (`hashOnly`).
    init?(encoded bytes: [UInt8], hashOnly: Bool) {
        var r = ByteReader(bytes)
        do {
            guard try r.int() == Self.encodingVersion, try r.bool() == hashOnly else { return nil }
            self.init()
            let n = try r.int()
            guard n >= 0, n <= bytes.count else { return nil }
            found.reserveCapacity(n)
            for _ in 0..<n {
                let url = try r.string()
                guard let kind = ResourceKind(rawValue: try r.string()) else { return nil }
                var e = ExtractedResource(url: url, kind: kind)
                e.integrity = try r.optional()
                if try r.bool() { e.inlineIndex = try r.int() }
                e.via = try r.optional()
                if try r.bool() {
                    e.tag = TagRef(type: try r.string(), id: try r.optional(), consent: try r.strings(), container: try r.optional())
                }
                e.vendorID = try r.optional()
                e.tagIDs = try r.strings()
                found.append(e)
            }
            follow = try r.strings()
            warnings = try r.strings()
            kind = try r.optional()
            size = try r.int()
            if try r.bool() {
                let sha384 = try r.string(), sha256 = try r.string(), dsize = try r.int()
                digest = ScriptDigest(sha384: sha384, sha256: sha256, size: dsize, sha256Base64: try r.string(),
                                      sha512Base64: try r.string())
            }
            containerVersion = try r.optional()
            containerTags = try r.strings()
            guard r.atEnd else { return nil }
        } catch {
            return nil
        }
    }
}
