import Foundation

/// Resolves references found in markup the way a browser would, for http(s) loads only.
enum URLResolver {
    /// The absolute http(s) URL `reference` points to from `base`, or nil for other schemes
    /// (data:, javascript:, mailto:, about:) and for references that do not parse.
    static func resolve(_ reference: String, against base: String) -> String? {
        // Fast paths (the Foundation calls below bridge to NSString): a reference that starts and
        // ends with printable ASCII has nothing to trim; one without a tab, CR or LF byte has no
        // such Character; one without a space byte has no space.
        let bytes = reference.utf8
        var ref = Self.hasPrintableASCIIEnds(bytes) ? reference : reference.trimmingCharacters(in: .whitespacesAndNewlines)
        if ref.isEmpty || ref.hasPrefix("#") { return nil }
        // Browsers drop tabs and newlines inside URLs and accept spaces.
        var hasControl = false
        var hasSpace = false
        for b in ref.utf8 {
            if b == 0x09 || b == 0x0A || b == 0x0D { hasControl = true }
            if b == 0x20 { hasSpace = true }
        }
        if hasControl, ref.contains(where: { $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
            ref.removeAll(where: { $0 == "\n" || $0 == "\t" || $0 == "\r" })
        }
        if hasSpace, ref.contains(" ") { ref = ref.replacingOccurrences(of: " ", with: "%20") }
        if ref.hasPrefix("\\\\") || ref.hasPrefix("\\/") { ref = "//" + ref.dropFirst(2) }
        // A scheme-relative URL from a file (a saved container) takes https, as the live page would.
        if ref.hasPrefix("//") && base.lowercased().hasPrefix("file:") { ref = "https:" + ref }
        // Fast path: already absolute.
        let lower = ref.prefix(8).lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            guard let u = URL(string: ref), u.host != nil else { return nil }
            return u.absoluteString
        }
        if let colon = ref.firstIndex(of: ":"), !ref[..<colon].contains("/"), !ref[..<colon].contains("?") {
            return nil  // another scheme
        }
        guard let baseURL = URL(string: base), let u = URL(string: ref, relativeTo: baseURL)?.absoluteURL,
              let scheme = u.scheme?.lowercased() else {
            return nil
        }
        // A saved page with no URL of its own resolves its relative references to files beside it
        // (so the scripts it loads can be read from disk); they have no host, so are not reported.
        if scheme == "file" && base.lowercased().hasPrefix("file:") { return u.absoluteString }
        guard scheme == "http" || scheme == "https", u.host != nil else { return nil }
        return u.absoluteString
    }

    /// Whether the first and last bytes are printable ASCII other than space, so that
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` would return the string unchanged.
    private static func hasPrintableASCIIEnds(_ bytes: String.UTF8View) -> Bool {
        guard let first = bytes.first, let last = bytes.last else { return false }
        return first > 0x20 && first < 0x7F && last > 0x20 && last < 0x7F
    }

    /// Host (lowercased, without userinfo, port or IPv6 brackets) and path of an absolute
    /// http(s) URL as `resolve` returns them, split byte by byte: this runs for every resource.
    static func hostAndPath(_ url: String) -> (host: String, path: String)? {
        var utf8 = url.utf8[...]
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        utf8 = utf8[utf8.index(after: colon)...]
        guard utf8.starts(with: "//".utf8) else { return nil }
        utf8 = utf8.dropFirst(2)
        let authorityEnd = utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        var authority = utf8[..<authorityEnd]
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[authority.index(after: at)...] }
        var host: Substring.UTF8View.SubSequence
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else if let portColon = authority.lastIndex(of: UInt8(ascii: ":")) {
            host = authority[..<portColon]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        var hostBytes = Array(host)
        for i in hostBytes.indices where hostBytes[i] >= UInt8(ascii: "A") && hostBytes[i] <= UInt8(ascii: "Z") { hostBytes[i] |= 0x20 }
        let rest = utf8[authorityEnd...]
        let pathEnd = rest.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        let path = rest[..<pathEnd]
        return (String(decoding: hostBytes, as: UTF8.self), path.isEmpty ? "/" : String(decoding: path, as: UTF8.self))
    }

    /// The lowercased host of an absolute URL.
    static func host(of url: String) -> String? {
        guard let h = URL(string: url)?.host(percentEncoded: false), !h.isEmpty else { return nil }
        return h.lowercased()
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
        let bytes = Array(text.utf8)
        let n = bytes.count
        var i = 0
        while i + 2 < n {
            // Look for "//" after "http:", "https:" or an opening quote.
            if bytes[i] == UInt8(ascii: "/") && bytes[i + 1] == UInt8(ascii: "/") {
                var start = -1
                if i >= 6, bytes[i - 1] == UInt8(ascii: ":"), matchesScheme(bytes, end: i - 1) {
                    start = i - (bytes[i - 2] == UInt8(ascii: "s") || bytes[i - 2] == UInt8(ascii: "S") ? 6 : 5)
                } else if i >= 1, isQuote(bytes[i - 1]) {
                    start = i
                }
                if start >= 0 {
                    var j = i + 2
                    while j < n, isURLByte(bytes[j]) { j += 1 }
                    let candidate = String(decoding: bytes[start..<j], as: UTF8.self)
                    if looksLikeHostURL(candidate), seen.insert(candidate).inserted {
                        found.append(candidate)
                    }
                    i = j
                    continue
                }
            }
            i += 1
        }
        return found
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
    private static func looksLikeHostURL(_ s: String) -> Bool {
        // Candidates are ASCII (isURLByte), so the first "//" is found byte by byte.
        let u = s.utf8
        guard let at = u.indices.first(where: { i in
            u[i] == UInt8(ascii: "/") && u.index(after: i) != u.endIndex && u[u.index(after: i)] == UInt8(ascii: "/")
        }) else { return false }
        let rest = s[u.index(at, offsetBy: 2)...]
        let hostPart = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != ":" }
        guard let dot = hostPart.lastIndex(of: "."), hostPart.first != "." else { return false }
        let tld = hostPart[hostPart.index(after: dot)...]
        return tld.count >= 2 && tld.allSatisfy { $0.isLetter }
    }
}
