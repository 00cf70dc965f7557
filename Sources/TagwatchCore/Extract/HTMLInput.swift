import CCharset
#if canImport(Glibc)
import Glibc
#endif

/// The bytes and encoding the HTML parser is given, decided as a browser decides them
/// (WHATWG Encoding and HTML "determining the character encoding"): a byte order mark wins,
/// then the Content-Type charset, then a `<meta charset>` in the first 1024 bytes, where
/// UTF-16 and UTF-32 mean UTF-8 (a page cannot switch a browser to UTF-16 from inside).
/// NUL bytes become U+FFFD, as the HTML tokenizer makes them, so nothing after one is lost.
/// Other encodings are decoded to UTF-8 here, through ICU, with a substitute for every bad byte
/// sequence as a browser's decoder does: libxml2's own conversion stops the document at the first
/// one, so one invalid Shift_JIS byte hid every script after it.
struct HTMLInput {
    var bytes: [UInt8]
    /// The encoding name for libxml2, or nil to let it read the bytes as they come.
    var encoding: String?
    /// What was changed on the way, for the page's warnings.
    var notes: [String] = []

    /// `validUTF8`: `HTMLInput.isValidUTF8(body)`, when the caller knows it already.
    init(body: [UInt8], headerCharset: String?, isKnown: (String) -> Bool, validUTF8: Bool? = nil) {
        bytes = body
        encoding = nil
        if body.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes = Array(body.dropFirst(3))
            encoding = "UTF-8"
        } else if body.starts(with: [0xFE, 0xFF]) || body.starts(with: [0xFF, 0xFE]) {
            bytes = HTMLInput.utf16ToUTF8(body.dropFirst(2), bigEndian: body[0] == 0xFE)
            encoding = "UTF-8"
        } else if let label = headerCharset.map(HTMLInput.normalise), !label.isEmpty, let chosen = choose(label, fromMeta: false, isKnown: isKnown) {
            encoding = chosen
        } else if let label = HTMLInput.metaCharset(body).map(HTMLInput.normalise), let chosen = choose(label, fromMeta: true, isKnown: isKnown) {
            encoding = chosen
        }
        if let chosen = encoding, chosen != "UTF-8" {
            // ICU's UTF-8 to UTF-8 conversion only changes invalid sequences (each becomes
            // U+FFFD): valid UTF-8 (nearly every page, which says `<meta charset="utf-8">`)
            // comes out as it went in, so it is not copied through ICU (1.2 M instructions a page).
            // `bytes` is still `body` here (only a byte order mark changes it, and that chose UTF-8).
            if HTMLInput.isUTF8Label(chosen) && (validUTF8 ?? HTMLInput.isValidUTF8(bytes)) {
                encoding = "UTF-8"
            } else if let decoded = HTMLInput.decodeToUTF8(bytes, from: chosen) {
                bytes = decoded
                encoding = "UTF-8"
            }
        }
        if HTMLInput.containsNUL(bytes) {
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            for b in bytes {
                if b == 0 { out += [0xEF, 0xBF, 0xBD] } else { out.append(b) }
            }
            bytes = out
            if encoding == nil { encoding = "UTF-8" }
        }
        bytes = HTMLInput.tokenizeLikeABrowser(bytes)
    }

    /// The encoding to use for a label, or nil to ignore it (with a note saying so).
    private mutating func choose(_ label: String, fromMeta: Bool, isKnown: (String) -> Bool) -> String? {
        let isUTF16 = label.hasPrefix("utf-16") || label == "utf16" || label == "unicodefffe" || label == "unicodefeff"
            || label == "ucs-2" || label == "iso-10646-ucs-2" || label == "csunicode"
        let isUTF32 = label.hasPrefix("utf-32") || label == "utf32" || label == "ucs-4"
        if fromMeta && (isUTF16 || isUTF32) {
            notes.append("<meta charset=\(label)> read as UTF-8, as browsers do")
            return "UTF-8"
        }
        if isUTF16 {
            // From HTTP: decode it here, so the parser sees UTF-8 (and NULs mean NULs).
            bytes = HTMLInput.utf16ToUTF8(bytes[...], bigEndian: label == "utf-16be")
            return "UTF-8"
        }
        if isUTF32 {
            notes.append("charset \(label) is not a web encoding; ignored")
            return nil
        }
        // The Encoding Standard reads these labels as windows-1252 (0x80-0x9F are not C1 controls).
        if label == "x-user-defined" || HTMLInput.windows1252Labels.contains(label) { return "windows-1252" }
        if label == "utf8" || label == "unicode-1-1-utf-8" { return "UTF-8" }
        guard isKnown(label) else {
            notes.append("unknown charset '\(label)' ignored")
            return nil
        }
        return label
    }

    static let windows1252Labels: Set<String> = [
        "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100",
        "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252",
    ]

    /// `bytes` in `charset` as UTF-8, or nil when ICU has no decoder of that name (libxml2 then decodes).
    static func decodeToUTF8(_ bytes: [UInt8], from charset: String) -> [UInt8]? {
        guard !bytes.isEmpty else { return [] }
        var length = 0
        let out: UnsafeMutablePointer<CChar>? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                ccharset_to_utf8(charset, $0, buf.count, &length)
            }
        }
        guard let out else { return nil }
        defer { ccharset_free(out) }
        return out.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// Whether ICU's converter for `label` is UTF-8 (labels `choose` passes on as they came).
    static func isUTF8Label(_ label: String) -> Bool {
        label.utf8.count == 5 && label.lowercased() == "utf-8"
    }

    /// Whether `bytes` is well-formed UTF-8 (Unicode's Table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF), the input ICU's UTF-8 decoder passes through as it is.
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            let n = b.count
            guard let base = b.baseAddress else { return true }
            var i = 0
            let raw = UnsafeRawPointer(base)
            while i < n {
                // ASCII 32 and 8 bytes at a time: most of a page.
                if i + 32 <= n, (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                    & 0x8080_8080_8080_8080 == 0 {
                    i += 32
                    continue
                }
                if i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
                let c = b[i]
                if c < 0x80 { i += 1; continue }
                @inline(__always) func cont(_ k: Int) -> Bool { k < n && b[k] & 0xC0 == 0x80 }
                switch c {
                case 0xC2...0xDF:
                    guard cont(i + 1) else { return false }
                    i += 2
                case 0xE0...0xEF:
                    guard i + 1 < n else { return false }
                    let d = b[i + 1]
                    let lo: UInt8 = c == 0xE0 ? 0xA0 : 0x80, hi: UInt8 = c == 0xED ? 0x9F : 0xBF
                    guard d >= lo && d <= hi, cont(i + 2) else { return false }
                    i += 3
                case 0xF0...0xF4:
                    guard i + 1 < n else { return false }
                    let d = b[i + 1]
                    let lo: UInt8 = c == 0xF0 ? 0x90 : 0x80, hi: UInt8 = c == 0xF4 ? 0x8F : 0xBF
                    guard d >= lo && d <= hi, cont(i + 2), cont(i + 3) else { return false }
                    i += 4
                default:
                    return false
                }
            }
            return true
        }
    }

    /// `bytes.contains(0)` through memchr (vectorised: the page is read at memory speed).
    static func containsNUL(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress, !b.isEmpty else { return false }
            return memchr(base, 0, b.count) != nil
        }
    }

    static func normalise(_ label: String) -> String {
        var s = Substring(label)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" || f == "\u{0C}" || f == "\"" || f == "'" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" || l == "\u{0C}" || l == "\"" || l == "'" { s = s.dropLast() }
        return s.lowercased()
    }

    static func utf16ToUTF8(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> [UInt8] {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2 + 1)
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
            units.append(bigEndian ? (a << 8 | b) : (b << 8 | a))
            i += 2
        }
        if i < bytes.endIndex { units.append(0xFFFD) }
        return Array(String(decoding: units, as: UTF16.self).utf8)
    }

    /// The charset a `<meta>` in the first 1024 bytes declares (`charset=` or the
    /// `content="text/html; charset=…"` of http-equiv), as the prescan finds it.
    static func metaCharset(_ body: [UInt8]) -> String? {
        let head = Array(body.prefix(1024))
        var i = 0
        func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
        while i + 5 < head.count {
            // "<meta" followed by a space or slash.
            if head[i] == 0x3C, lower(head[i + 1]) == 0x6D, lower(head[i + 2]) == 0x65, lower(head[i + 3]) == 0x74,
               lower(head[i + 4]) == 0x61, i + 5 < head.count, [0x20, 0x09, 0x0A, 0x0C, 0x0D, 0x2F].contains(head[i + 5]) {
                var end = i + 5
                while end < head.count && head[end] != 0x3E { end += 1 }
                let tag = String(decoding: head[(i + 5)..<end].map(lower), as: UTF8.self)
                if let r = tag.range(of: "charset") {
                    var rest = tag[r.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
                    if rest.first == "=" {
                        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\"" || $0 == "'" }
                        let name = rest.prefix { !($0 == " " || $0 == "\"" || $0 == "'" || $0 == ";" || $0 == "/" || $0 == "\t" || $0 == "\n" || $0 == "\r") }
                        if !name.isEmpty { return String(name) }
                    }
                }
                i = end
                continue
            }
            i += 1
        }
        return nil
    }

    // MARK: - Where libxml2's HTML 4 tokenizer and a browser's differ

    /// Rewrites the few constructs where libxml2 (an HTML 4 parser) would hide what an HTML5
    /// tokenizer sees, so the tree libxml2 builds holds the same elements a browser's does:
    /// - comments: `<!-->` and `<!--->` are empty comments, `--!>` ends one;
    /// - `<?…>`, `<!x…>` and `</ x>` are bogus comments ending at the first `>`;
    /// - a `/` between attributes (`<script/src=…>`) separates them;
    /// - HTML5 named character references libxml2 does not know (`&period;`) become numeric ones;
    /// - inside `<textarea>` (RCDATA) and `<iframe>`, `<xmp>`, `<noembed>`,
    ///   `<noframes>` (raw text) a `<` is text, so no element hides or is invented there;
    ///   `<script>` and `<style>` contents are left as they are.
    static func tokenizeLikeABrowser(_ source: [UInt8]) -> [UInt8] {
        // Read through a buffer pointer: the array's bounds checks and accesses through the
        // nested functions' context were most of this pass's cost (bench/issue12/sax.md).
        source.withUnsafeBufferPointer { tokenize($0, source: source) }
    }

    private static func tokenize(_ b: UnsafeBufferPointer<UInt8>, source: [UInt8]) -> [UInt8] {
        let n = b.count
        // Bytes are copied lazily: `out` gets the stretch since `flushed` only when a rewrite is
        // needed, so a page with nothing to rewrite costs one scan and no copy.
        var w = Rewriter(source: source)
        func replace(_ from: Int, _ to: Int, with bytes: [UInt8]) { w.replace(from, to, with: bytes) }
        @inline(__always) func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
        @inline(__always) func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
        @inline(__always) func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D }
        func startsWith(_ at: Int, _ s: StaticString) -> Bool {
            let len = s.utf8CodeUnitCount
            guard at + len <= n else { return false }
            let p = s.utf8Start
            for k in 0..<len where lower(b[at + k]) != p[k] { return false }
            return true
        }
        func nextGT(_ from: Int) -> Int {
            var j = from
            while j < n && b[j] != 0x3E { j += 1 }
            return j
        }
        /// The index of the next `c` at or after `from`, or `n` (memchr: raw text and the text
        /// between tags are most of a page's bytes).
        func next(_ c: UInt8, from: Int) -> Int {
            guard from < n, let base = b.baseAddress, let p = memchr(base + from, Int32(c), n - from) else { return n }
            return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
        func closing(_ name: [UInt8], from: Int) -> Int {
            var j = from
            while j + 1 < n {
                j = next(0x3C, from: j)
                guard j + 1 < n else { break }
                if b[j + 1] == 0x2F && j + 2 + name.count <= n {
                    var ok = true
                    for k in 0..<name.count where lower(b[j + 2 + k]) != name[k] { ok = false; break }
                    if ok { return j }
                }
                j += 1
            }
            return n
        }
        /// At `&name;` with an HTML5-only name: replaced by numeric references; returns the index after it.
        func entity(_ at: Int) -> Int? {
            var j = at + 1
            while j < n && j - at <= 40 && (isAlpha(b[j]) || (b[j] >= 0x30 && b[j] <= 0x39)) { j += 1 }
            guard j < n, b[j] == 0x3B, j > at + 1 else { return nil }
            guard let cps = HTML5Entities.table[String(decoding: b[(at + 1)..<j], as: UTF8.self)] else { return nil }
            var rep: [UInt8] = []
            for cp in cps { rep += Array("&#x\(String(cp, radix: 16));".utf8) }
            replace(at, j + 1, with: rep)
            return j + 1
        }
        let emptyComment = Array("<!---->".utf8)
        // (`<title>` is left out: inside `<svg>` it is an element whose children count.)
        let rawText: [[UInt8]] = ["script", "style", "xmp", "iframe", "noembed", "noframes", "textarea"].map { Array($0.utf8) }
        let escapeInside: Set<[UInt8]> = Set(["xmp", "iframe", "noembed", "noframes", "textarea"].map { Array($0.utf8) })

        // The next `<` and `&` at or after i, found again only once i has passed them: every
        // other byte outside a tag is skipped without being looked at.
        var nextLT = -1, nextAmp = -1
        var i = 0
        while i < n {
            if nextLT < i { nextLT = next(0x3C, from: i) }
            if nextAmp < i { nextAmp = next(0x26, from: i) }
            i = min(nextLT, nextAmp)
            guard i < n else { break }
            let c = b[i]
            if c == 0x26 {
                i = entity(i) ?? (i + 1)
                continue
            }
            guard c == 0x3C, i + 1 < n else { i += 1; continue }
            let d = b[i + 1]
            if d == 0x21 {  // <!
                if startsWith(i, "<!-->") { replace(i, i + 5, with: emptyComment); i += 5; continue }
                if startsWith(i, "<!--->") { replace(i, i + 6, with: emptyComment); i += 6; continue }
                if startsWith(i, "<!--") {
                    // The comment ends at the first --> or --!>.
                    var j = i + 4
                    while j + 2 < n {
                        if b[j] == 0x2D && b[j + 1] == 0x2D {
                            if b[j + 2] == 0x3E { break }
                            if j + 3 < n && b[j + 2] == 0x21 && b[j + 3] == 0x3E {
                                replace(j, j + 4, with: Array("-->".utf8))
                                break
                            }
                        }
                        j += 1
                    }
                    i = j + 2 < n ? j + 3 : n
                    continue
                }
                if startsWith(i, "<!doctype") || startsWith(i, "<![cdata[") { i += 2; continue }
                let end = min(n, nextGT(i + 2) + 1)
                replace(i, end, with: emptyComment)  // a bogus comment, up to the first >
                i = end
                continue
            }
            if d == 0x3F || (d == 0x2F && i + 2 < n && !isAlpha(b[i + 2])) {  // <?…> and </ x>: bogus comments
                if d == 0x2F && b[i + 2] == 0x3E { replace(i, i + 3, with: []); i += 3; continue }  // </> is dropped
                let end = min(n, nextGT(i + 2) + 1)
                replace(i, end, with: emptyComment)
                i = end
                continue
            }
            guard isAlpha(d) else { i += 1; continue }
            // A start tag: a `/` between attributes becomes a space.
            var j = i + 1
            while j < n && !isSpace(b[j]) && b[j] != 0x2F && b[j] != 0x3E { j += 1 }
            // The raw text element this tag opens, if any; compared in place (no array per tag).
            let rawName = rawText.first { r in
                r.count == j - i - 1 && r.indices.allSatisfy { lower(b[i + 1 + $0]) == r[$0] }
            }
            enum S { case between, attrName, afterName, beforeValue, quoted(UInt8), unquoted }
            var st = S.between
            var selfClosing = false
            while j < n {
                let x = b[j]
                if x == 0x3E {
                    if case .quoted = st {} else { break }
                }
                switch st {
                case .between, .afterName, .attrName:
                    if x == 0x2F {
                        if j + 1 < n && b[j + 1] == 0x3E { selfClosing = true } else { replace(j, j + 1, with: [0x20]) }
                        st = .between
                    } else if x == 0x3D, case .between = st {
                        st = .attrName  // "=" starting a name, as HTML5 reads it
                    } else if x == 0x3D {
                        st = .beforeValue
                    } else if isSpace(x) {
                        if case .attrName = st { st = .afterName }
                    } else if case .afterName = st {
                        st = .attrName
                    } else {
                        st = .attrName
                    }
                case .beforeValue:
                    if x == 0x22 || x == 0x27 {
                        st = .quoted(x)
                    } else if !isSpace(x) {
                        st = .unquoted
                        if x == 0x26, let next = entity(j) { j = next; continue }
                    }
                case .quoted(let q):
                    if x == q { st = .between } else if x == 0x26, let next = entity(j) { j = next; continue } else if x != 0x26 {
                        // Inside the value only its quote and `&` mean anything (SVG path data,
                        // long URLs): read on to the next of either.
                        j += 1
                        while j < n && b[j] != q && b[j] != 0x26 { j += 1 }
                        continue
                    }
                case .unquoted:
                    if isSpace(x) { st = .between } else if x == 0x26, let next = entity(j) { j = next; continue }
                }
                j += 1
            }
            i = min(n, j + 1)
            // Raw text and RCDATA: left to their end tag; a `<` inside some of them is text.
            if !selfClosing, let name = rawName {
                let end = closing(name, from: i)
                if escapeInside.contains(name) {
                    var k = i
                    while k < end {
                        if b[k] == 0x3C { replace(k, k + 1, with: Array("&lt;".utf8)) }
                        k += 1
                    }
                }
                i = end
            }
        }
        return w.finish()
    }

    /// The output of `tokenizeLikeABrowser`: the source with some ranges replaced, in order.
    private struct Rewriter {
        let source: [UInt8]
        var out: [UInt8] = []
        var flushed = 0
        var rewritten = false

        init(source: [UInt8]) { self.source = source }

        mutating func replace(_ from: Int, _ to: Int, with bytes: [UInt8]) {
            if !rewritten { out.reserveCapacity(source.count + 256); rewritten = true }
            out.append(contentsOf: source[flushed..<from])
            out.append(contentsOf: bytes)
            flushed = to
        }

        mutating func finish() -> [UInt8] {
            guard rewritten else { return source }
            out.append(contentsOf: source[flushed...])
            return out
        }
    }
}
