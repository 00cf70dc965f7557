import Foundation
import Synchronization

/// A vendor of the catalog: who runs a third-party host, and how to recognise its code.
public struct Vendor: Sendable {
    public var id: String
    public var name: String
    public var company: String
    public var category: String
    public var website: String?
    public var hosts: [String]
    /// `host/path-prefix` entries, for hosts several vendors share.
    public var patterns: [String]
    /// Literal substrings that mark the vendor's inline snippet.
    public var signatures: [String]
    /// Regular expressions of the tag or account ids the vendor's code carries.
    public var tagIDPatterns: [String]
    /// The tag-manager tag types that load this vendor, and the URLs they load.
    public var tagTypes: [TagTypeRule] = []
    public var file: String
    public var line: Int?

    public var ref: VendorRef { VendorRef(id: id, name: name, company: company, category: category) }
}

/// A tag type of a tag manager that stands for a vendor: GTM's built-in `__hjtc`, a Segment
/// destination named "Hotjar", a gtag destination prefix `AW-`. Kept in the catalog's YAML
/// (`tag_types:`), not in code, so a new tag type is a rules change.
public struct TagTypeRule: Sendable, Hashable {
    public enum Manager: String, Sendable, CaseIterable {
        case gtm, segment, gtag
    }
    public var manager: Manager
    /// `__hjtc` (gtm), `Hotjar` (segment: the destination's name), `AW-` (gtag: the id's prefix).
    public var type: String
    /// URL templates of what such a tag loads; `{name}` is replaced by the tag's parameter `name`
    /// (`vtp_` prefix optional for GTM) or, for gtag, `{id}` by the destination id.
    public var loads: [String]

    public init(manager: Manager, type: String, loads: [String]) {
        self.manager = manager
        self.type = type
        self.loads = loads
    }
}

/// Why a host or URL maps to a vendor, for `rules lookup` and for tests.
public struct CatalogMatch: Sendable {
    public var vendorIndex: Int
    /// The catalog entry that matched: a host (`example.com`) or a pattern (`example.com/path/`).
    public var rule: String
}

/// The vendor catalog, indexed so a lookup costs one hash probe per label of the host.
public struct Catalog: Sendable {
    public static let categories: [String] = [
        "tag-manager", "analytics", "advertising", "ad-verification", "session-replay", "social", "consent",
        "cdn", "payments", "support-chat", "a-b-testing", "fonts", "video", "marketing-automation",
        "customer-data-platform", "personalization", "recommendation", "comments", "security", "maps",
        "search", "reviews", "affiliate", "push-notifications", "accessibility", "audience-measurement", "other",
    ]

    public private(set) var vendors: [Vendor] = []
    private var byID: [String: Int] = [:]
    /// Keyed by `Substring` so `match` looks a host's suffixes up in place, without making a
    /// string of each (equality and hashing are those of `String`).
    private var hostIndex: [Substring: Int] = [:]
    /// host -> (path prefix, vendor), longest prefix first.
    private var patternIndex: [Substring: [(String, Int)]] = [:]
    private var signatureList: [(String, Int)] = []
    /// Byte index of the ASCII signatures (two bytes or more), so one pass over a script's
    /// bytes finds them all: `pairBucket[first two bytes]` is an index into `buckets` or -1.
    private var pairBucket = [Int32](repeating: -1, count: 65536)
    private var buckets: [[Int]] = []  // indexes into signatureList
    /// `buckets` and the signatures' bytes flattened for the scan loop (no array of arrays to
    /// retain and release per byte): bucket b's positions are `flatPositions[flatStarts[b]..<flatStarts[b + 1]]`,
    /// signature p's bytes `flatSignatureBytes[flatSignatureStarts[p]..<flatSignatureStarts[p + 1]]`.
    private var flatStarts: [Int32] = [0]
    private var flatPositions: [Int32] = []
    private var flatSignatureStarts: [Int32] = [0]
    private var flatSignatureBytes: [UInt8] = []
    /// A filter in front of `pairBucket`, 8 KB each so it stays in the L1 cache: bit
    /// `trigramKey` of every indexed signature's first three bytes, and bit `b0 << 8 | b1` of
    /// each pair that starts a two-byte signature. Most positions of a script fail both, and
    /// the bucket (and the 256 KB pair table) is not looked at.
    private var trigramBits = [UInt64](repeating: 0, count: 1024)
    private var shortPairBits = [UInt64](repeating: 0, count: 1024)
    /// Signatures of four bytes or more (all of the bundled catalog's) are found by their first
    /// four bytes instead: bit `quadKey` of each in `quadBits` (8 KB), and in `quadBucket[quadKey]`
    /// bucket `b` of those that hash there (`quadPositions[quadStarts[b]..<quadStarts[b + 1]]`),
    /// each with its first four bytes (`quadPrefixes`) compared as one word before the rest.
    /// The pair and trigram index above sent every position starting `cdn`, `con` or `sta` in
    /// a script (JSON and prose are full of them) through buckets of 20-60 signatures.
    private var quadBits = [UInt64](repeating: 0, count: 1024)
    private var quadBucket = [Int32](repeating: -1, count: 65536)
    private var quadStarts: [Int32] = [0]
    private var quadPositions: [Int32] = []
    private var quadPrefixes: [UInt32] = []
    /// Whether any signature of two or three bytes is indexed (the pair and trigram path).
    private var hasShortSignatures = false
    /// Signatures the byte index cannot take (one byte long, or not ASCII): searched one by one.
    private var unindexedSignatures: [Int] = []
    private var tagIDRegexes: [Int: [NSRegularExpressionBox]] = [:]
    /// manager + type -> (vendor, rule); gtag prefixes are matched by `hasPrefix`.
    private var tagTypeIndex: [String: (Int, TagTypeRule)] = [:]
    private var gtagPrefixes: [(String, Int, TagTypeRule)] = []

    /// Changed by every `add`: the key under which this catalog's tag-id results are
    /// remembered (`TextMemo`), so a copy that later diverges never reads another's.
    private(set) var generation = Catalog.nextGeneration()
    private static let generations = Atomic<UInt64>(0)
    private static func nextGeneration() -> UInt64 { generations.add(1, ordering: .relaxed).newValue }

    public init() {}

    /// The vendor and rule for a tag type of `manager` (Segment names are matched without case).
    public func tagType(_ manager: TagTypeRule.Manager, _ type: String) -> (vendor: Vendor, rule: TagTypeRule)? {
        if manager == .gtag {
            for (prefix, index, rule) in gtagPrefixes where type.hasPrefix(prefix) { return (vendors[index], rule) }
            return nil
        }
        let key = manager == .segment ? type.lowercased() : type
        return tagTypeIndex[manager.rawValue + " " + key].map { (vendors[$0.0], $0.1) }
    }

    public var count: Int { vendors.count }

    public func vendor(id: String) -> Vendor? { byID[id].map { vendors[$0] } }

    /// Adds a vendor, refusing a host or pattern another vendor already claims.
    public mutating func add(_ v: Vendor) throws {
        let at = SourceError(file: v.file, line: v.line, "")
        if let other = byID[v.id] {
            throw SourceError(file: v.file, line: v.line,
                              "vendor id '\(v.id)' is already used at \(vendors[other].file):\(vendors[other].line ?? 0); give this vendor another id or merge the two")
        }
        let index = vendors.count
        for h in v.hosts {
            let host = h.lowercased()
            if let other = hostIndex[Substring(host)] {
                throw SourceError(file: at.file, line: at.line,
                                  "host '\(host)' of '\(v.id)' is already claimed by '\(vendors[other].id)' (\(vendors[other].file)); a host belongs to one vendor: remove it from one of them, or use patterns (host/path) to split it")
            }
        }
        var newPatterns: [(String, String)] = []
        for p in v.patterns {
            guard let slash = p.firstIndex(of: "/"), slash != p.startIndex else {
                throw SourceError(file: at.file, line: at.line,
                                  "pattern '\(p)' of '\(v.id)' must be host/path-prefix, e.g. www.google.com/recaptcha/")
            }
            let host = p[..<slash].lowercased()
            let path = String(p[slash...])
            if let existing = patternIndex[Substring(host)], let clash = existing.first(where: { $0.0 == path }) {
                throw SourceError(file: at.file, line: at.line,
                                  "pattern '\(p)' of '\(v.id)' is already claimed by '\(vendors[clash.1].id)'; a pattern belongs to one vendor")
            }
            newPatterns.append((host, path))
        }
        for rule in v.tagTypes {
            let key = rule.manager.rawValue + " " + (rule.manager == .segment ? rule.type.lowercased() : rule.type)
            if let other = tagTypeIndex[key] ?? gtagPrefixes.first(where: { rule.manager == .gtag && $0.0 == rule.type }).map({ ($0.1, $0.2) }) {
                throw SourceError(file: at.file, line: at.line,
                                  "tag type \(rule.manager.rawValue) '\(rule.type)' of '\(v.id)' is already claimed by '\(vendors[other.0].id)'; a tag type belongs to one vendor")
            }
        }
        var regexes: [NSRegularExpressionBox] = []
        for t in v.tagIDPatterns {
            if RegexSyntax.isPlainlyValid(t) {
                regexes.append(NSRegularExpressionBox(deferring: t))
                continue
            }
            do {
                regexes.append(NSRegularExpressionBox(try NSRegularExpression(pattern: t)))
            } catch {
                throw SourceError(file: at.file, line: at.line,
                                  "tag_ids pattern '\(t)' of '\(v.id)' is not a valid regular expression; fix its syntax")
            }
        }
        vendors.append(v)
        byID[v.id] = index
        for h in v.hosts { hostIndex[Substring(h.lowercased())] = index }
        for (host, path) in newPatterns {
            // Longest prefix first, and among equal lengths the earlier one: where a stable sort
            // after appending puts it, found without sorting the list again.
            let length = path.count
            let at = patternIndex[Substring(host)]?.firstIndex { $0.0.count < length }
            patternIndex[Substring(host), default: []].insert((path, index), at: at ?? patternIndex[Substring(host)]?.count ?? 0)
        }
        for s in v.signatures where !s.isEmpty {
            let position = signatureList.count
            let bytes = Array(s.utf8)
            signatureList.append((s, index))
            let indexable = bytes.allSatisfy({ $0 < 0x80 && $0 != 0x0A && $0 != 0x0D })
            // The first four bytes of every signature, as one word (zero for shorter ones, never read).
            let prefix = bytes.count >= 4 ? bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } : 0
            quadPrefixes.append(prefix)
            if bytes.count >= 4, indexable {
                let key = Self.quadKey(prefix)
                quadBits[key >> 6] |= 1 << UInt64(key & 63)
                if quadBucket[key] < 0 {
                    quadBucket[key] = Int32(quadStarts.count - 1)
                    quadStarts.append(quadStarts[quadStarts.count - 1])
                }
                // As the pair index's flat copy below: grown in place, not rebuilt per vendor.
                let b = Int(quadBucket[key])
                quadPositions.insert(Int32(position), at: Int(quadStarts[b + 1]))
                for k in (b + 1)..<quadStarts.count { quadStarts[k] += 1 }
            } else if bytes.count >= 2, indexable {
                hasShortSignatures = true
                let key = Int(bytes[0]) << 8 | Int(bytes[1])
                if pairBucket[key] < 0 {
                    pairBucket[key] = Int32(buckets.count)
                    buckets.append([])
                    flatStarts.append(flatStarts[flatStarts.count - 1])
                }
                let b = Int(pairBucket[key])
                buckets[b].append(position)
                // The flat copy grows in place: the position goes at the end of bucket b's run,
                // and the runs after it move up by one (rebuilding it per vendor was quadratic).
                flatPositions.insert(Int32(position), at: Int(flatStarts[b + 1]))
                for k in (b + 1)..<flatStarts.count { flatStarts[k] += 1 }
                if bytes.count == 2 {
                    shortPairBits[key >> 6] |= 1 << UInt64(key & 63)
                } else {
                    let t = Self.trigramKey(bytes[0], bytes[1], bytes[2])
                    trigramBits[t >> 6] |= 1 << UInt64(t & 63)
                }
            } else {
                unindexedSignatures.append(position)
            }
            flatSignatureBytes += bytes
            flatSignatureStarts.append(Int32(flatSignatureBytes.count))
        }
        if !regexes.isEmpty { tagIDRegexes[index] = regexes }
        generation = Self.nextGeneration()
        for rule in v.tagTypes {
            if rule.manager == .gtag {
                // Longest prefix first, equal lengths in the order added (as a stable sort would).
                let length = rule.type.count
                gtagPrefixes.insert((rule.type, index, rule), at: gtagPrefixes.firstIndex { $0.0.count < length } ?? gtagPrefixes.count)
            } else {
                let key = rule.manager.rawValue + " " + (rule.manager == .segment ? rule.type.lowercased() : rule.type)
                tagTypeIndex[key] = (index, rule)
            }
        }
    }

    /// The vendor that claims `host` (and `path`, for shared hosts): the longest matching suffix
    /// wins, and at the same suffix a path pattern beats the bare host.
    public func match(host: String, path: String = "/") -> CatalogMatch? {
        // An ASCII host (every host the URL parser gives) steps from label to label on its
        // bytes, where a dot is always a character of its own; walking `Character`s cost half
        // of a lookup.
        let utf8 = host.utf8
        if utf8.allSatisfy({ $0 < 0x80 }) {
            var start = utf8.startIndex
            while start != utf8.endIndex {
                let suffix = host[start...]
                if let m = match(suffix: suffix, path: path) { return m }
                guard let dot = utf8[start...].firstIndex(of: 0x2E) else { break }
                start = utf8.index(after: dot)
            }
            return nil
        }
        var suffix = Substring(host)
        while !suffix.isEmpty {
            if let m = match(suffix: suffix, path: path) { return m }
            guard let dot = suffix.firstIndex(of: ".") else { break }
            suffix = suffix[suffix.index(after: dot)...]
        }
        return nil
    }

    /// The vendor claiming exactly `suffix` (a path pattern first, then the bare host).
    private func match(suffix: Substring, path: String) -> CatalogMatch? {
        if let patterns = patternIndex[suffix] {
            for (prefix, index) in patterns where path.hasPrefix(prefix) {
                return CatalogMatch(vendorIndex: index, rule: String(suffix) + prefix)
            }
        }
        if let index = hostIndex[suffix] {
            return CatalogMatch(vendorIndex: index, rule: String(suffix))
        }
        return nil
    }

    /// Vendors whose inline signature occurs in `script`, each once, in catalog order.
    ///
    /// One pass over the script's UTF-8 bytes finds the ASCII signatures (`String.contains`
    /// per signature bridged the whole script to UTF-16 once per signature: 656 times per
    /// inline script with the bundled catalog). `String.contains` compares with Unicode
    /// canonical equivalence, which only non-ASCII text can tell apart from a byte match, so a
    /// script with non-ASCII bytes has each byte match confirmed by `String.contains`, and
    /// one holding a character that decomposes to ASCII (U+037E, U+1FEF, U+212A) is searched
    /// the old way.
    public func signatureMatches(in script: String) -> [Int] {
        if signatureList.isEmpty { return [] }
        var utf8 = script
        let result: [Int]? = utf8.withUTF8 { text -> [Int]? in
            var hit = [Bool](repeating: false, count: signatureList.count)
            var high: UInt8 = 0
            let n = text.count
            pairBucket.withUnsafeBufferPointer { table in
            flatStarts.withUnsafeBufferPointer { starts in
            flatPositions.withUnsafeBufferPointer { positions in
            flatSignatureStarts.withUnsafeBufferPointer { sigStarts in
            flatSignatureBytes.withUnsafeBufferPointer { sigBytes in
            trigramBits.withUnsafeBufferPointer { trigrams in
            shortPairBits.withUnsafeBufferPointer { shortPairs in
            quadBits.withUnsafeBufferPointer { quadBits in
            quadBucket.withUnsafeBufferPointer { quadBucket in
            quadStarts.withUnsafeBufferPointer { quadStarts in
            quadPositions.withUnsafeBufferPointer { quadPositions in
            quadPrefixes.withUnsafeBufferPointer { quadPrefixes in
            hit.withUnsafeMutableBufferPointer { hit in
                // Signatures of four bytes or more: one word read and one bit test per position.
                if let base = text.baseAddress, n >= 4 {
                    let raw = UnsafeRawPointer(base)
                    for i in 0...(n - 4) {
                        let word = raw.loadUnaligned(fromByteOffset: i, as: UInt32.self)
                        let key = Self.quadKey(word)
                        if quadBits[key >> 6] & (1 << UInt64(key & 63)) == 0 { continue }
                        let bucket = Int(quadBucket[key])
                        for k in Int(quadStarts[bucket])..<Int(quadStarts[bucket + 1]) {
                            let position = Int(quadPositions[k])
                            if hit[position] || quadPrefixes[position] != word { continue }
                            let from = Int(sigStarts[position]), count = Int(sigStarts[position + 1]) - from
                            if i + count <= n {
                                var j = 4
                                while j < count && text[i + j] == sigBytes[from + j] { j += 1 }
                                if j == count { hit[position] = true }
                            }
                        }
                    }
                }
                // Whether the script is all ASCII, eight bytes at a time.
                var i = 0
                if let base = text.baseAddress {
                    var word: UInt64 = 0
                    while i + 8 <= n {
                        word |= UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                        i += 8
                    }
                    if word & 0x8080_8080_8080_8080 != 0 { high = 0x80 }
                    while i < n { high |= text[i]; i += 1 }
                }
                // Signatures of two or three bytes, through the pair and trigram index.
                i = 0
                while hasShortSignatures && i + 1 < n {
                    let b0 = text[i]
                    let pair = Int(b0) << 8 | Int(text[i + 1])
                    if i + 2 < n {
                        // No signature starts here unless the filter says one may.
                        let t = Self.trigramKey(b0, text[i + 1], text[i + 2])
                        if trigrams[t >> 6] & (1 << UInt64(t & 63)) == 0 && shortPairs[pair >> 6] & (1 << UInt64(pair & 63)) == 0 {
                            i += 1
                            continue
                        }
                    }
                    let bucket = Int(table[pair])
                    if bucket >= 0 {
                        for k in Int(starts[bucket])..<Int(starts[bucket + 1]) {
                            let position = Int(positions[k])
                            if hit[position] { continue }
                            let from = Int(sigStarts[position]), count = Int(sigStarts[position + 1]) - from
                            if i + count <= n {
                                var j = 2
                                while j < count && text[i + j] == sigBytes[from + j] { j += 1 }
                                if j == count { hit[position] = true }
                            }
                        }
                    }
                    i += 1
                }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            let ascii = high < 0x80
            if !ascii && Self.hasASCIIDecomposingCharacter(text) { return nil }
            var found = Set<Int>()
            for position in 0..<signatureList.count where hit[position] {
                let (sig, index) = signatureList[position]
                if ascii || script.contains(sig) { found.insert(index) }
            }
            for position in unindexedSignatures {
                let (sig, index) = signatureList[position]
                if !found.contains(index) && script.contains(sig) { found.insert(index) }
            }
            return found.sorted()
        }
        if let result { return result }
        var found: [Int] = []
        for (sig, index) in signatureList where !found.contains(index) {
            if script.contains(sig) { found.append(index) }
        }
        return found.sorted()
    }

    /// A 16-bit hash of four bytes (read as one little-endian word) for `quadBits` and `quadBucket`.
    @inline(__always) private static func quadKey(_ word: UInt32) -> Int {
        Int((word &* 0x9E37_79B1) >> 16)
    }

    /// A 16-bit hash of three bytes for `trigramBits` (the same function for signatures and text).
    @inline(__always) private static func trigramKey(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int {
        (Int(a & 0x7F) << 9 ^ Int(b) << 4 ^ Int(c)) & 0xFFFF
    }

    /// Whether UTF-8 `text` holds U+037E, U+1FEF or U+212A, whose canonical decompositions are ASCII.
    private static func hasASCIIDecomposingCharacter(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = text.count
        var i = 0
        while i + 1 < n {
            switch text[i] {
            case 0xCD where text[i + 1] == 0xBE: return true
            case 0xE1 where i + 2 < n && text[i + 1] == 0xBF && text[i + 2] == 0xAF: return true
            case 0xE2 where i + 2 < n && text[i + 1] == 0x84 && text[i + 2] == 0xAA: return true
            default: break
            }
            i += 1
        }
        return false
    }

    /// The tag ids of vendor `index` found in `text` (group 1 of a pattern when it has one).
    /// Remembered per thread (`TextMemo`): a site's pages repeat the same tag URLs and snippets,
    /// and each run of NSRegularExpression costs 50,000-90,000 instructions even on a URL.
    public func tagIDs(vendor index: Int, in text: String) -> [String] {
        guard let regexes = tagIDRegexes[index] else { return [] }
        let memo = TextMemo.current
        if let ids = memo.tagIDs(catalog: generation, vendor: index, text: text) { return ids }
        var allComplete = true
        let ids = tagIDs(regexes, vendor: index, in: text, complete: &allComplete)
        if allComplete { memo.rememberTagIDs(ids, catalog: generation, vendor: index, text: text) }
        return ids
    }

    private func tagIDs(_ regexes: [NSRegularExpressionBox], vendor index: Int, in text: String, complete allComplete: inout Bool) -> [String] {
        var ids: [String] = []
        let ns = text as NSString
        for r in regexes {
            // A text without the literal every match starts with has no match: the regex (UTF-16
            // bridging, ICU, a time budget) is not run at all.
            if let literal = r.requiredLiteral, !text.containsBytes(literal) { continue }
            let (matches, complete) = RegexBudget.matches(r.regex, in: text)
            if !complete {
                allComplete = false
                let v = vendors[index]
                RegexBudget.reportSlow(pattern: r.regex.pattern, vendor: v.id, at: v.line.map { "\(v.file):\($0)" } ?? v.file)
            }
            for m in matches {
                let range = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
                let id = ns.substring(with: range)
                if !ids.contains(id) { ids.append(id) }
            }
        }
        return ids
    }
}

/// A tag-id pattern and its NSRegularExpression (immutable and thread-safe once built), which a
/// pattern `RegexSyntax` vouches for builds the first time a text needs it: most commands run
/// few of the catalog's patterns, or none.
struct NSRegularExpressionBox: Sendable {
    private let storage: Storage
    /// ASCII text every match contains (`RequiredLiteral.of`), or nil when none is known.
    let requiredLiteral: String?

    init(_ r: NSRegularExpression) {
        storage = Storage(pattern: r.pattern, compiled: r)
        requiredLiteral = RequiredLiteral.of(r.pattern)
    }

    /// A pattern `RegexSyntax.isPlainlyValid` passed, compiled on first use.
    init(deferring pattern: String) {
        storage = Storage(pattern: pattern, compiled: nil)
        requiredLiteral = RequiredLiteral.of(pattern)
    }

    var regex: NSRegularExpression { storage.regex }

    private final class Storage: @unchecked Sendable {
        let pattern: String
        private let lock = NSLock()
        private var compiled: NSRegularExpression?

        init(pattern: String, compiled: NSRegularExpression?) {
            self.pattern = pattern
            self.compiled = compiled
        }

        var regex: NSRegularExpression {
            lock.lock()
            defer { lock.unlock() }
            if let compiled { return compiled }
            let r: NSRegularExpression
            do {
                r = try NSRegularExpression(pattern: pattern)
            } catch {
                // RegexSyntax passes only what ICU compiles (a test holds it to that); should it
                // ever be wrong, the pattern matches nothing rather than stopping the process.
                FileHandle.standardError.write(Data("tagwatch: tag_ids pattern '\(pattern)' is not a valid regular expression; it is ignored\n".utf8))
                r = try! NSRegularExpression(pattern: "(?!)")
            }
            compiled = r
            return r
        }
    }
}

/// The literal a regular expression's matches all contain, read off the start of its pattern:
/// `\bAW-(\d{6,12})\b` → `AW-`, `fbq\(\s*…` → `fbq(`. Tag-id patterns mostly name code
/// that is not in the text at hand (a URL, another vendor's snippet), and a byte search for
/// the literal is far cheaper than running ICU over the text bridged to UTF-16. Conservative:
/// nil for any pattern with `|`, and the literal stops at the first token it cannot read as
/// one fixed character (classes, escapes like `\d`, groups with `(?`, anchors other than
/// `\b`, a quantified token or group).
enum RequiredLiteral {
    static func of(_ pattern: String) -> String? {
        let p = Array(pattern.utf8)
        if p.contains(0x7C) { return nil }  // `|`: a match may take another alternative
        var literal: [UInt8] = []
        var i = 0
        func isQuantifier(_ k: Int) -> Bool { k < p.count && (p[k] == 0x3F || p[k] == 0x2A || p[k] == 0x2B || p[k] == 0x7B) }
        scan: while i < p.count {
            let c = p[i]
            let token: UInt8
            let next: Int
            switch c {
            case 0x5C:  // `\`
                guard i + 1 < p.count else { break scan }
                let e = p[i + 1]
                if e == 0x62 { i += 2; continue }  // `` matches no character
                guard isEscapedPunctuation(e) else { break scan }
                token = e
                next = i + 2
            case 0x28:  // `(`: a plain group is entered when nothing quantifies it
                guard i + 1 < p.count, p[i + 1] != 0x3F, let close = closingParenthesis(p, from: i), !isQuantifier(close + 1) else { break scan }
                i += 1
                continue
            case 0x29:  // `)` of a group entered above
                i += 1
                continue
            default:
                guard isPlainLiteral(c) else { break scan }
                token = c
                next = i + 1
            }
            if isQuantifier(next) { break }  // optional or repeated: the literal ends before it
            literal.append(token)
            i = next
        }
        return literal.count >= 2 ? String(decoding: literal, as: UTF8.self) : nil
    }

    /// Characters ICU reads as themselves outside a class (no `x` flag is ever set here).
    private static func isPlainLiteral(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x20, 0x21, 0x22, 0x23, 0x25, 0x26, 0x27, 0x2C, 0x2D, 0x2F, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x40, 0x5F, 0x7E: return true
        default: return false
        }
    }

    /// Punctuation a backslash makes literal.
    private static func isEscapedPunctuation(_ c: UInt8) -> Bool {
        switch c {
        case 0x2E, 0x2F, 0x2D, 0x28, 0x29, 0x3F, 0x5B, 0x5D, 0x7B, 0x7D, 0x2B, 0x2A, 0x7C, 0x5C, 0x23, 0x26, 0x3D, 0x3A, 0x5E, 0x24, 0x40, 0x2C, 0x3B, 0x22, 0x27:
            return true
        default:
            return false
        }
    }

    /// The index of the `)` closing the group opened at `open`, or nil when something inside
    /// (`\Q`, `\p`, a class opening with `]`) makes that uncertain.
    static func closingParenthesis(_ p: [UInt8], from open: Int) -> Int? {
        var depth = 0
        var k = open
        while k < p.count {
            switch p[k] {
            case 0x5C:
                if k + 1 < p.count && (p[k + 1] == 0x51 || p[k + 1] == 0x70 || p[k + 1] == 0x50) { return nil }  // \Q, \p, \P
                k += 2
                continue
            case 0x5B:
                // A class, possibly nested (ICU set operations): parentheses in it are characters.
                var classDepth = 0
                while k < p.count {
                    let c = p[k]
                    if c == 0x5C {
                        if k + 1 < p.count && (p[k + 1] == 0x51 || p[k + 1] == 0x70 || p[k + 1] == 0x50) { return nil }
                        k += 2
                        continue
                    }
                    if c == 0x5B {
                        classDepth += 1
                        let after = k + 1 < p.count && p[k + 1] == 0x5E ? k + 2 : k + 1
                        if after < p.count && p[after] == 0x5D { return nil }
                    } else if c == 0x5D {
                        classDepth -= 1
                        if classDepth == 0 { break }
                    }
                    k += 1
                }
                if k >= p.count { return nil }
            case 0x28:
                depth += 1
            case 0x29:
                depth -= 1
                if depth == 0 { return k }
            default:
                break
            }
            k += 1
        }
        return nil
    }
}

/// Reads `vendors/*.yaml` into a catalog, strictly: unknown fields and clashing hosts are errors.
public enum CatalogLoader {
    static let vendorKeys = ["id", "name", "company", "category", "website", "hosts", "patterns", "signatures", "tag_ids", "tag_types"]
    static let idPattern = try! NSRegularExpression(pattern: "^[a-z0-9]+(-[a-z0-9]+)*$")

    /// Whether `id` matches `idPattern`. Ids are nearly always plain lowercase words joined by
    /// hyphens, which a byte check accepts; anything else is left to the regex (whose `$` also
    /// matches before a final line break, for one).
    static func isValidID(_ id: String) -> Bool {
        var afterHyphen = true
        var plain = !id.isEmpty
        for b in id.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): afterHyphen = false
            case UInt8(ascii: "-") where !afterHyphen: afterHyphen = true
            default: plain = false
            }
            if !plain { break }
        }
        if plain && !afterHyphen { return true }
        return idPattern.firstMatch(in: id, range: NSRange(location: 0, length: (id as NSString).length)) != nil
    }

    /// Loads every `.yaml`/`.yml` file of `directory`, in name order; throws the first problem.
    public static func load(directory: String) throws -> Catalog {
        var errors: [SourceError] = []
        let catalog = try load(directory: directory, errors: &errors)
        if let first = errors.first { throw first }
        return catalog
    }

    /// Loads what it can, collecting every problem (for `rules check`); throws only when the folder is missing.
    public static func load(directory: String, errors: inout [SourceError]) throws -> Catalog {
        var catalog = Catalog()
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw SourceError(file: directory, line: nil, "vendor catalog folder not found")
        }
        let files = try fm.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        for f in files {
            let path = (directory as NSString).appendingPathComponent(f)
            load(file: path, into: &catalog, errors: &errors)
        }
        return catalog
    }

    public static func load(file path: String, into catalog: inout Catalog) throws {
        var errors: [SourceError] = []
        load(file: path, into: &catalog, errors: &errors)
        if let first = errors.first { throw first }
    }

    public static func load(file path: String, into catalog: inout Catalog, errors: inout [SourceError]) {
        load(data: FileManager.default.contents(atPath: path), path: path, into: &catalog, errors: &errors)
    }

    /// Loads a catalog file's bytes (nil: it could not be read).
    static func load(data: Data?, path: String, into catalog: inout Catalog, errors: inout [SourceError]) {
        guard let data else {
            errors.append(SourceError(file: path, line: nil, "cannot read this file"))
            return
        }
        guard let text = String(data: data, encoding: .utf8) else {
            errors.append(SourceError(file: path, line: nil, "not UTF-8 text"))
            return
        }
        load(text: text, path: path, into: &catalog, errors: &errors)
    }

    /// Loads one catalog file's YAML `text`; `path` names it in errors and lookups.
    public static func load(text: String, path: String, into catalog: inout Catalog, errors: inout [SourceError]) {
        guard let root = collecting(&errors, path: path, line: nil, { try YAMLMap.compose(file: path, text: text) }) else { return }
        load(root: root, path: path, into: &catalog, errors: &errors)
    }

    /// `body`'s value, or nil with its error kept (a `SourceError` as it is, anything else
    /// located at `path` and `line`): a catalog reports every bad file and entry, not the first.
    private static func collecting<T>(_ errors: inout [SourceError], path: String, line: Int?, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let e as SourceError {
            errors.append(e)
        } catch {
            errors.append(SourceError(file: path, line: line, "\(error)"))
        }
        return nil
    }

    /// Loads one catalog file's node tree (nil: an empty document).
    static func load(root node: YAMLNode?, path: String, into catalog: inout Catalog, errors: inout [SourceError]) {
        guard let node else { return }
        let vendors = collecting(&errors, path: path, line: nil) { () throws -> [YAMLNode] in
            let root = try YAMLMap(file: path, node: node, what: "a vendor catalog file")
            try root.checkKeys(["vendors"], in: "a vendor catalog file")
            guard let list = root.node("vendors") else { return [] }
            guard case .sequence(let s, _) = list else {
                throw SourceError(file: path, line: list.line, "'vendors' must be a list of vendor entries")
            }
            return s
        }
        for item in vendors ?? [] {
            _ = collecting(&errors, path: path, line: item.line) { try loadEntry(item, path: path, into: &catalog) }
        }
    }

    /// `tag_types: [{gtm: __hjtc, loads: [URL, …]}, {segment: Hotjar, loads: […]}, {gtag: AW-, loads: […]}]`.
    static func tagTypes(_ m: YAMLMap, path: String, vendor id: String) throws -> [TagTypeRule] {
        guard let node = m.node("tag_types") else { return [] }
        guard case .sequence(let seq, _) = node else {
            throw SourceError(file: path, line: node.line, "'tag_types' of '\(id)' must be a list such as [{gtm: __hjtc, loads: [https://…]}]")
        }
        var rules: [TagTypeRule] = []
        for item in seq {
            let e = try YAMLMap(file: path, node: item, what: "a tag type of '\(id)'")
            let managers = TagTypeRule.Manager.allCases.map(\.rawValue)
            try e.checkKeys(managers + ["loads"], in: "a tag type of '\(id)'")
            let named = managers.filter { e.node($0) != nil }
            guard named.count == 1, let manager = TagTypeRule.Manager(rawValue: named[0]),
                  let type = try e.string(named[0]), !type.isEmpty else {
                throw SourceError(file: path, line: e.line,
                                  "a tag type of '\(id)' names exactly one of \(managers.joined(separator: ", ")) with the type, e.g. {gtm: __hjtc, loads: [https://…]}")
            }
            let loads = try e.strings("loads")
            for u in loads where !(u.hasPrefix("https://") || u.hasPrefix("http://")) {
                throw SourceError(file: path, line: e.lineOf("loads"), "'\(u)' in the tag type '\(type)' of '\(id)' must be an absolute http(s) URL")
            }
            if loads.isEmpty {
                throw SourceError(file: path, line: e.line, "the tag type '\(type)' of '\(id)' needs 'loads': the URLs such a tag loads")
            }
            rules.append(TagTypeRule(manager: manager, type: type, loads: loads))
        }
        return rules
    }

    static func loadEntry(_ item: YAMLNode, path: String, into catalog: inout Catalog) throws {
            let m = try YAMLMap(file: path, node: item, what: "a vendor entry")
            try m.checkKeys(vendorKeys, in: "a vendor entry")
            let id = try m.requiredString("id", in: "a vendor entry")
            let what = "vendor '\(id)'"
            if !isValidID(id) {
                throw SourceError(file: path, line: m.lineOf("id"),
                                  "vendor id '\(id)' must be lowercase words joined by hyphens, e.g. google-tag-manager")
            }
            let category = try m.requiredString("category", in: what)
            if !Catalog.categories.contains(category) {
                throw SourceError(file: path, line: m.lineOf("category"),
                                  "unknown category '\(category)' for '\(id)'; use one of: \(Catalog.categories.joined(separator: ", "))")
            }
            let hosts = try m.strings("hosts")
            let patterns = try m.strings("patterns")
            if hosts.isEmpty && patterns.isEmpty {
                throw SourceError(file: path, line: m.line, "\(what) has neither hosts nor patterns; add the hosts it serves from")
            }
            // Bytes, not Foundation's `contains` (a search through NSString per host and character).
            for h in hosts where h.isEmpty || h.utf8.contains(where: { $0 == 0x2F || $0 == 0x20 || $0 == 0x2A }) {
                throw SourceError(file: path, line: m.lineOf("hosts"),
                                  "host '\(h)' of '\(id)' must be a bare host name such as cdn.example.com (use patterns for paths)")
            }
            let vendor = Vendor(
                id: id, name: try m.requiredString("name", in: what), company: try m.requiredString("company", in: what),
                category: category, website: try m.string("website"), hosts: hosts, patterns: patterns,
                signatures: try m.strings("signatures"), tagIDPatterns: try m.strings("tag_ids"),
                tagTypes: try tagTypes(m, path: path, vendor: id), file: path, line: m.line)
            try catalog.add(vendor)
    }
}
