/// The bytes and encoding the HTML parser is given, decided as a browser decides them
/// (WHATWG Encoding and HTML "determining the character encoding"): a byte order mark wins,
/// then the Content-Type charset, then a `<meta charset>` in the first 1024 bytes, where
/// UTF-16 and UTF-32 mean UTF-8 (a page cannot switch a browser to UTF-16 from inside).
/// NUL bytes become U+FFFD, as the HTML tokenizer makes them, so nothing after one is lost.
struct HTMLInput {
    var bytes: [UInt8]
    /// The encoding name for libxml2, or nil to let it read the bytes as they come.
    var encoding: String?
    /// What was changed on the way, for the page's warnings.
    var notes: [String] = []

    init(body: [UInt8], headerCharset: String?, isKnown: (String) -> Bool) {
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
        if bytes.contains(0) {
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
        if label == "x-user-defined" { return "windows-1252" }
        if label == "utf8" || label == "unicode-1-1-utf-8" { return "UTF-8" }
        guard isKnown(label) else {
            notes.append("unknown charset '\(label)' ignored")
            return nil
        }
        return label
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
    static func tokenizeLikeABrowser(_ b: [UInt8]) -> [UInt8] {
        let n = b.count
        // Nothing to do for bytes with no markup-significant `<` or `&`.
        guard b.contains(0x3C) || b.contains(0x26) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(n + n / 64)
        var i = 0
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
        /// The index of the first `>` at or after `from` (or n).
        func nextGT(_ from: Int) -> Int {
            var j = from
            while j < n && b[j] != 0x3E { j += 1 }
            return j
        }
        /// The index of `</name` (case-insensitive) at or after `from`, or n.
        func closing(_ name: [UInt8], from: Int) -> Int {
            var j = from
            while j + 1 < n {
                if b[j] == 0x3C && b[j + 1] == 0x2F && j + 2 + name.count <= n {
                    var ok = true
                    for k in 0..<name.count where lower(b[j + 2 + k]) != name[k] { ok = false; break }
                    if ok { return j }
                }
                j += 1
            }
            return n
        }
        func appendEntity(_ at: Int) -> Int? {
            // &name; where name is HTML5-only: emit numeric references instead.
            var j = at + 1
            while j < n && j - at <= 40 && ((b[j] | 0x20) >= 0x61 && (b[j] | 0x20) <= 0x7A || (b[j] >= 0x30 && b[j] <= 0x39)) { j += 1 }
            guard j < n, b[j] == 0x3B, j > at + 1 else { return nil }
            let name = String(decoding: b[(at + 1)..<j], as: UTF8.self)
            guard let cps = HTML5Entities.table[name] else { return nil }
            for cp in cps { out += Array("&#x\(String(cp, radix: 16));".utf8) }
            return j + 1
        }
        // (`<title>` is left out: inside `<svg>` it is an element whose children count.)
        let rawText: [[UInt8]] = ["script", "style", "xmp", "iframe", "noembed", "noframes", "textarea"].map { Array($0.utf8) }
        let escapeInside: Set<[UInt8]> = Set(["xmp", "iframe", "noembed", "noframes", "textarea"].map { Array($0.utf8) })

        while i < n {
            let c = b[i]
            if c == 0x26, let next = appendEntity(i) {
                i = next
                continue
            }
            guard c == 0x3C, i + 1 < n else {
                out.append(c)
                i += 1
                continue
            }
            let d = b[i + 1]
            if d == 0x21 {  // <!
                if startsWith(i, "<!-->") { out += Array("<!---->".utf8); i += 5; continue }
                if startsWith(i, "<!--->") { out += Array("<!---->".utf8); i += 6; continue }
                if startsWith(i, "<!--") {
                    // The comment ends at the first --> or --!>.
                    var j = i + 4
                    var end = n, endLen = 0, bang = false
                    while j + 2 < n {
                        if b[j] == 0x2D && b[j + 1] == 0x2D {
                            if b[j + 2] == 0x3E { end = j; endLen = 3; break }
                            if j + 3 < n && b[j + 2] == 0x21 && b[j + 3] == 0x3E { end = j; endLen = 4; bang = true; break }
                        }
                        j += 1
                    }
                    if end == n {
                        out += b[i..<n]
                        i = n
                    } else {
                        out += b[i..<end]
                        out += Array("-->".utf8)
                        i = end + endLen
                        _ = bang
                    }
                    continue
                }
                if startsWith(i, "<!doctype") || startsWith(i, "<![cdata[") {
                    out.append(c)
                    i += 1
                    continue
                }
                // A bogus comment: up to the first >.
                out += Array("<!---->".utf8)
                i = min(n, nextGT(i + 2) + 1)
                continue
            }
            if d == 0x3F || (d == 0x2F && i + 2 < n && !isAlpha(b[i + 2])) {  // <?…> and </ x>: bogus comments
                if d == 0x2F && i + 2 < n && b[i + 2] == 0x3E { i += 3; continue }  // </> is dropped
                out += Array("<!---->".utf8)
                i = min(n, nextGT(i + 2) + 1)
                continue
            }
            guard isAlpha(d) else {
                out.append(c)
                i += 1
                continue
            }
            // A start tag: copy it, turning a `/` between attributes into a space.
            var j = i + 1
            var name: [UInt8] = []
            while j < n && !isSpace(b[j]) && b[j] != 0x2F && b[j] != 0x3E { name.append(lower(b[j])); j += 1 }
            out += b[i..<j]
            enum S { case between, attrName, afterName, beforeValue, quoted(UInt8), unquoted }
            var s = S.between
            var selfClosing = false
            while j < n {
                let x = b[j]
                if x == 0x3E {
                    if case .quoted = s {} else { break }
                }
                switch s {
                case .between, .afterName:
                    if x == 0x2F {
                        if j + 1 < n && b[j + 1] == 0x3E { selfClosing = true; out.append(x) } else { out.append(0x20) }
                        s = .between
                    } else if isSpace(x) {
                        out.append(x)
                    } else if x == 0x3D, case .afterName = s {
                        out.append(x)
                        s = .beforeValue
                    } else {
                        out.append(x)
                        s = .attrName
                    }
                case .attrName:
                    if x == 0x3D { s = .beforeValue; out.append(x) } else if isSpace(x) { s = .afterName; out.append(x) } else if x == 0x2F {
                        if j + 1 < n && b[j + 1] == 0x3E { selfClosing = true; out.append(x) } else { out.append(0x20) }
                        s = .between
                    } else { out.append(x) }
                case .beforeValue:
                    if x == 0x22 || x == 0x27 { s = .quoted(x); out.append(x) } else if isSpace(x) { out.append(x) } else if x == 0x26, let next = appendEntity(j) {
                        s = .unquoted
                        j = next
                        continue
                    } else { s = .unquoted; out.append(x) }
                case .quoted(let q):
                    if x == q { s = .between; out.append(x) } else if x == 0x26, let next = appendEntity(j) {
                        j = next
                        continue
                    } else { out.append(x) }
                case .unquoted:
                    if isSpace(x) { s = .between; out.append(x) } else if x == 0x26, let next = appendEntity(j) {
                        j = next
                        continue
                    } else { out.append(x) }
                }
                j += 1
            }
            if j < n { out.append(0x3E); j += 1 }
            i = j
            // Raw text and RCDATA: copied up to their end tag; a `<` inside is text.
            if !selfClosing, rawText.contains(name) {
                let end = closing(name, from: i)
                if escapeInside.contains(name) {
                    for k in i..<end {
                        if b[k] == 0x3C { out += Array("&lt;".utf8) } else { out.append(b[k]) }
                    }
                } else {
                    out += b[i..<end]
                }
                i = end
            }
        }
        return out
    }
}
