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
}
