import Foundation

/// Resolves references found in markup the way a browser would (the WHATWG URL Standard,
/// through `WebURL`), for http(s) loads only.
enum URLResolver {
    /// The absolute http(s) URL `reference` points to from `base`, or nil for other schemes
    /// (data:, javascript:, mailto:, about:), fragment-only references and references that
    /// do not parse.
    static func resolve(_ reference: String, against base: String) -> String? {
        if let b = WebURL(base) { return resolve(reference, against: b) }
        if base.utf8.count >= 5, base.prefix(5).lowercased() == "file:" { return resolveAgainstFile(reference, base: base) }
        return resolve(reference, against: nil as WebURL?)
    }

    /// A reference in a saved page with no URL of its own: a scheme-relative URL takes https, as
    /// the live page would; a relative one names a file beside the page (so the scripts it loads
    /// can be read from disk; having no host, they are not reported); absolute ones parse as usual.
    static func resolveAgainstFile(_ reference: String, base: String) -> String? {
        var ref = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        ref.removeAll(where: { $0 == "\n" || $0 == "\t" || $0 == "\r" })
        guard let first = ref.first, first != "#" else { return nil }
        let head = ref.prefix(2)
        if head == "//" || head == "\\\\" || head == "\\/" || head == "/\\" {
            return resolve("https:" + ref, against: nil as WebURL?)
        }
        if let colon = ref.firstIndex(of: ":"), !ref[..<colon].contains("/"), !ref[..<colon].contains("?") {
            return resolve(ref, against: nil as WebURL?)  // absolute: http(s) or nothing
        }
        ref = ref.replacingOccurrences(of: " ", with: "%20")
        guard let b = URL(string: base), let u = URL(string: ref, relativeTo: b)?.absoluteURL,
              u.scheme?.lowercased() == "file" else { return nil }
        return u.absoluteString
    }

    /// As `resolve(_:against:)` with the base already parsed (the extractor parses it once per page).
    static func resolve(_ reference: String, against base: WebURL?) -> String? {
        resolveURL(reference, against: base)?.href
    }

    static func resolveURL(_ reference: String, against base: WebURL?) -> WebURL? {
        // A reference that is only a fragment (after the whitespace a browser strips) loads nothing.
        var firstByte: UInt8?
        for b in reference.utf8 where b > 0x20 { firstByte = b; break }
        guard let firstByte, firstByte != UInt8(ascii: "#") else { return nil }
        guard let u = WebURL.parse(reference, base: base), u.isHTTP else { return nil }
        return u
    }

    /// Host (lowercased, IDNA applied, without userinfo, port, IPv6 brackets or trailing dot)
    /// and path of an absolute http(s) URL.
    static func hostAndPath(_ url: String) -> (host: String, path: String)? {
        guard let u = WebURL(url), u.isHTTP else { return nil }
        let host = u.hostForMatching
        guard !host.isEmpty else { return nil }
        return (host, u.path)
    }

    /// The host of an absolute http(s) URL as `hostAndPath` gives it.
    static func host(of url: String) -> String? {
        hostAndPath(url)?.host
    }
}

/// Finds the URLs an inline script loads: absolute or scheme-relative URLs inside string literals.
enum InlineURLScanner {
    /// The URLs inline code loads: literal URLs, and the whole URLs its loader snippets build
    /// (`SnippetEvaluator`), which replace the cut-off literal they start with.
    static func loadedURLs(in text: String) -> [String] {
        let literal = urls(in: text)
        let built = SnippetEvaluator.urls(in: text)
        guard !built.isEmpty else { return literal }
        var out: [String] = []
        for u in literal where !built.contains(where: { $0.count > u.count && $0.hasPrefix(u) }) { out.append(u) }
        for b in built where !out.contains(b) { out.append(b) }
        return out
    }

    static func urls(in text: String) -> [String] {
        var found: [String] = []
        var seen = Set<String>()
        let bytes = unescapingSlashes(Array(text.utf8))
        let n = bytes.count
        var i = 0
        while i + 2 < n {
            // Look for "//" after "http:", "https:" or an opening quote; memchr finds each "/".
            i = bytes.withUnsafeBufferPointer { b in
                memchr(b.baseAddress! + i, 0x2F, n - i).map { b.baseAddress!.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? n
            }
            guard i + 2 < n else { break }
            if bytes[i + 1] == UInt8(ascii: "/") {
                var start = -1
                if i >= 6, bytes[i - 1] == UInt8(ascii: ":"), matchesScheme(bytes, end: i - 1) {
                    start = i - (bytes[i - 2] == UInt8(ascii: "s") || bytes[i - 2] == UInt8(ascii: "S") ? 6 : 5)
                } else if i >= 1, isQuote(bytes[i - 1]) {
                    start = i
                }
                if start >= 0 {
                    var j = i + 2
                    while j < n, isURLByte(bytes[j]) { j += 1 }
                    // Checked on the bytes first: most `//` in code are not URLs, and no string is made for them.
                    if looksLikeHostURL(bytes[start..<j]) {
                        let candidate = String(decoding: bytes[start..<j], as: UTF8.self)
                        if seen.insert(candidate).inserted { found.append(candidate) }
                    }
                    i = j
                    continue
                }
            }
            i += 1
        }
        return found
    }

    /// JavaScript string escapes of `/` and `:` (`\/`, `\x2f`, `\u002f`, `\x3a`, `\u003a`), as
    /// JSON-encoded config and minifiers write them: `"https:\/\/ad.doubleclick.net\/x.js"` is the
    /// URL the browser loads, so it is read as one.
    static func unescapingSlashes(_ b: [UInt8]) -> [UInt8] {
        guard b.withUnsafeBufferPointer({ !$0.isEmpty && memchr($0.baseAddress!, 0x5C, $0.count) != nil }) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        func lowerAt(_ k: Int) -> UInt8 { k < b.count ? (b[k] >= 0x41 && b[k] <= 0x5A ? b[k] | 0x20 : b[k]) : 0 }
        while i < b.count {
            if b[i] == 0x5C, i + 1 < b.count {
                let next = b[i + 1]
                if next == 0x2F { out.append(0x2F); i += 2; continue }
                if next == 0x78 || next == 0x58, lowerAt(i + 2) == 0x32 || lowerAt(i + 2) == 0x33 {  // \x2f, \x3a
                    let hex = [lowerAt(i + 2), lowerAt(i + 3)]
                    if hex == [0x32, 0x66] { out.append(0x2F); i += 4; continue }
                    if hex == [0x33, 0x61] { out.append(0x3A); i += 4; continue }
                }
                if next == 0x75, lowerAt(i + 2) == 0x30, lowerAt(i + 3) == 0x30 {  // \u002f, \u003a
                    let hex = [lowerAt(i + 4), lowerAt(i + 5)]
                    if hex == [0x32, 0x66] { out.append(0x2F); i += 6; continue }
                    if hex == [0x33, 0x61] { out.append(0x3A); i += 6; continue }
                }
            }
            out.append(b[i])
            i += 1
        }
        return out
    }

    private static func matchesScheme(_ b: [UInt8], end: Int) -> Bool {
        // b[end] == ':'; check "http" or "https" before it.
        func lower(_ x: UInt8) -> UInt8 { x | 0x20 }
        if end >= 5, lower(b[end - 5]) == UInt8(ascii: "h"), lower(b[end - 4]) == UInt8(ascii: "t"),
           lower(b[end - 3]) == UInt8(ascii: "t"), lower(b[end - 2]) == UInt8(ascii: "p"),
           lower(b[end - 1]) == UInt8(ascii: "s") { return true }
        if end >= 4, lower(b[end - 4]) == UInt8(ascii: "h"), lower(b[end - 3]) == UInt8(ascii: "t"),
           lower(b[end - 2]) == UInt8(ascii: "t"), lower(b[end - 1]) == UInt8(ascii: "p") { return true }
        return false
    }

    private static func isQuote(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "`")
    }

    private static func isURLByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"),
             UInt8(ascii: "?"), UInt8(ascii: "="), UInt8(ascii: "&"), UInt8(ascii: "%"), UInt8(ascii: ":"),
             UInt8(ascii: "#"), UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: ","),
             UInt8(ascii: ";"), UInt8(ascii: "*"):
            return true
        default:
            return false
        }
    }

    /// A host with a dot and a letter-only last label, so `//comments` and `//x` are skipped.
    /// Candidates are ASCII (`isURLByte`), so bytes are characters.
    static func looksLikeHostURL(_ s: ArraySlice<UInt8>) -> Bool {
        var i = s.startIndex
        while i + 1 < s.endIndex && !(s[i] == 0x2F && s[i + 1] == 0x2F) { i += 1 }
        guard i + 1 < s.endIndex else { return false }
        let hostStart = i + 2
        var hostEnd = hostStart
        while hostEnd < s.endIndex {
            let c = s[hostEnd]
            if c == 0x2F || c == 0x3F || c == 0x23 || c == 0x3A { break }
            hostEnd += 1
        }
        guard hostStart < hostEnd, s[hostStart] != 0x2E else { return false }
        var dot = hostEnd - 1
        while dot >= hostStart && s[dot] != 0x2E { dot -= 1 }
        guard dot >= hostStart else { return false }
        let tld = s[(dot + 1)..<hostEnd]
        return tld.count >= 2 && tld.allSatisfy { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
    }
}
