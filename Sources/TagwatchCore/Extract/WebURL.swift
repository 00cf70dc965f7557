import CIDNA

/// A URL parsed by the WHATWG URL Standard's basic URL parser, on bytes, for the schemes a
/// page loads resources from (http, https, ws, wss, ftp). A page decides what a browser
/// loads by the browser's rules, not RFC 3986's, so `https:\\ad.doubleclick.net./x.js`,
/// `https://ad.doubleclick%2Enet/x.js` and `http:ad.doubleclick.net/x.js` must all come out
/// as ad.doubleclick.net. Other schemes (file, data, javascript, mailto, blob, made-up ones)
/// are not parsed: `parse` returns nil for them, as for input a browser rejects.
public struct WebURL: Sendable, Hashable {
    /// One reference for all parts, so copying a URL (a page's base, per reference) is one retain.
    final class Storage: Sendable {
        let scheme: String
        let username: String
        let password: String
        let host: String
        let port: Int?
        let pathBytes: [UInt8]
        let query: String?
        let fragment: String?
        let href: String

        init(scheme: String, username: String, password: String, host: String, port: Int?, pathBytes: [UInt8],
             query: String?, fragment: String?, href: String) {
            self.scheme = scheme
            self.username = username
            self.password = password
            self.host = host
            self.port = port
            self.pathBytes = pathBytes
            self.query = query
            self.fragment = fragment
            self.href = href
        }
    }

    let storage: Storage

    /// Lowercased: http, https, ws, wss or ftp.
    public var scheme: String { storage.scheme }
    public var username: String { storage.username }
    public var password: String { storage.password }
    /// The serialized host: a lowercased ASCII domain (IDNA applied, trailing dot kept as the
    /// browser keeps it), a dotted IPv4 address, or a bracketed IPv6 address.
    public var host: String { storage.host }
    /// The port when it is not the scheme's default.
    public var port: Int? { storage.port }
    /// Without the leading `?`; nil when the URL has none.
    public var query: String? { storage.query }
    /// Without the leading `#`; nil when the URL has none.
    public var fragment: String? { storage.fragment }
    /// The URL serialized as a browser's `href`.
    public var href: String { storage.href }
    /// The serialized path, always starting with `/`.
    public var path: String { storage.pathBytes.isEmpty ? "/" : String(decoding: storage.pathBytes, as: UTF8.self) }

    public static func == (a: WebURL, b: WebURL) -> Bool { a.storage.href == b.storage.href }
    public func hash(into hasher: inout Hasher) { hasher.combine(storage.href) }

    /// The host as vendor rules and the public suffix list match it: no IPv6 brackets and no
    /// trailing dot (`ad.doubleclick.net.` is ad.doubleclick.net).
    public var hostForMatching: String {
        var h = Substring(host)
        if h.first == "[" && h.last == "]" { return String(h.dropFirst().dropLast()) }
        while h.count > 1 && h.last == "." { h = h.dropLast() }
        return String(h)
    }

    public var isHTTP: Bool { scheme == "http" || scheme == "https" }

    /// Parses `input` as a browser parses an absolute URL (`new URL(input)`).
    public init?(_ input: String) {
        guard let u = WebURL.parse(input, base: nil) else { return nil }
        self = u
    }

    /// Parses `input` against `base` as a browser resolves an `href` or `src` (`new URL(input, base)`).
    public static func parse(_ input: String, base: WebURL?) -> WebURL? {
        var input = input
        return input.withUTF8 { raw in
            // Leading and trailing C0 controls and spaces are stripped, tabs and newlines removed;
            // most input has none, and is parsed in place.
            var clean = !(raw.first.map { $0 <= 0x20 } ?? false) && !(raw.last.map { $0 <= 0x20 } ?? false)
            if clean { for c in raw where c == 0x09 || c == 0x0A || c == 0x0D { clean = false; break } }
            if clean { return Parser(input: raw, base: base).run() }
            var start = 0, end = raw.count
            while start < end && raw[start] <= 0x20 { start += 1 }
            while end > start && raw[end - 1] <= 0x20 { end -= 1 }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(end - start)
            for i in start..<end where raw[i] != 0x09 && raw[i] != 0x0A && raw[i] != 0x0D { bytes.append(raw[i]) }
            return bytes.withUnsafeBufferPointer { Parser(input: $0, base: base).run() }
        }
    }

    /// Resolves `reference` against this URL.
    public func resolve(_ reference: String) -> WebURL? { WebURL.parse(reference, base: self) }

    static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "http", "ws": return 80
        case "https", "wss": return 443
        case "ftp": return 21
        default: return nil
        }
    }

    /// Builds a URL from the parser's parts, serializing `href` once.
    fileprivate init(scheme: String, username: [UInt8], password: [UInt8], host: String, port: Int?, pathBytes: [UInt8],
                     query: [UInt8]?, fragment: [UInt8]?) {
        var out: [UInt8] = []
        out.reserveCapacity(scheme.utf8.count + host.utf8.count + pathBytes.count + (query?.count ?? 0) + (fragment?.count ?? 0) + 16)
        out += scheme.utf8
        out += [0x3A, 0x2F, 0x2F]
        if !username.isEmpty || !password.isEmpty {
            out += username
            if !password.isEmpty { out.append(0x3A); out += password }
            out.append(0x40)
        }
        out += host.utf8
        if let port { out.append(0x3A); out += String(port).utf8 }
        if pathBytes.isEmpty { out.append(0x2F) } else { out += pathBytes }
        if let query { out.append(0x3F); out += query }
        if let fragment { out.append(0x23); out += fragment }
        storage = Storage(scheme: scheme, username: String(decoding: username, as: UTF8.self),
                          password: String(decoding: password, as: UTF8.self), host: host, port: port, pathBytes: pathBytes,
                          query: query.map { String(decoding: $0, as: UTF8.self) },
                          fragment: fragment.map { String(decoding: $0, as: UTF8.self) }, href: String(decoding: out, as: UTF8.self))
    }
}

// MARK: - The basic URL parser

/// The schemes parsed (lowercased bytes to name); file, with its own host rules, and every
/// non-special scheme are not loads tagwatch follows, so not parsed.
private func supportedScheme(_ b: [UInt8]) -> String? {
    switch b {
    case [0x68, 0x74, 0x74, 0x70]: return "http"
    case [0x68, 0x74, 0x74, 0x70, 0x73]: return "https"
    case [0x77, 0x73]: return "ws"
    case [0x77, 0x73, 0x73]: return "wss"
    case [0x66, 0x74, 0x70]: return "ftp"
    default: return nil
    }
}

private enum State {
    case schemeStart, scheme, noScheme, specialRelativeOrAuthority, relative, relativeSlash
    case specialAuthoritySlashes, specialAuthorityIgnoreSlashes, authority, host, port, pathStart, path
    case query, fragment
}

@inline(__always) private func isASCIIAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
@inline(__always) private func isASCIIDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) private func lowerASCII(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
@inline(__always) private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}

/// The percent-encode sets of the URL Standard, as byte predicates.
private enum EncodeSet {
    case fragment, query, specialQuery, path, userinfo

    @inline(__always) func contains(_ c: UInt8) -> Bool {
        if c < 0x20 || c > 0x7E { return true }  // C0 control percent-encode set (and non-ASCII bytes)
        switch self {
        case .fragment:
            return c == 0x20 || c == 0x22 || c == 0x3C || c == 0x3E || c == 0x60
        case .query:
            return c == 0x20 || c == 0x22 || c == 0x23 || c == 0x3C || c == 0x3E
        case .specialQuery:
            return c == 0x20 || c == 0x22 || c == 0x23 || c == 0x3C || c == 0x3E || c == 0x27
        case .path:
            return c == 0x20 || c == 0x22 || c == 0x23 || c == 0x3C || c == 0x3E || c == 0x3F
                || c == 0x5E || c == 0x60 || c == 0x7B || c == 0x7D
        case .userinfo:
            return EncodeSet.path.contains(c) || c == 0x2F || c == 0x3A || c == 0x3B || c == 0x3D
                || c == 0x40 || (c >= 0x5B && c <= 0x5D) || c == 0x7C
        }
    }
}

private let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

@inline(__always) private func appendEncoded(_ c: UInt8, _ set: EncodeSet, to out: inout [UInt8]) {
    if set.contains(c) {
        out.append(0x25)
        out.append(hexDigits[Int(c >> 4)])
        out.append(hexDigits[Int(c & 0xF)])
    } else {
        out.append(c)
    }
}

private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private struct Parser {
    let input: UnsafeBufferPointer<UInt8>
    let base: WebURL?

    func run() -> WebURL? {
        var scheme = ""
        var username: [UInt8] = [], password: [UInt8] = []
        var host = ""
        var port: Int?
        var pathBytes: [UInt8] = []
        pathBytes.reserveCapacity(input.count + 16)
        func shortenPath() {
            if let slash = pathBytes.lastIndex(of: 0x2F) { pathBytes.removeSubrange(slash...) }
        }
        func copyAuthority(from base: WebURL) {
            let b = base.storage
            username = Array(b.username.utf8)
            password = Array(b.password.utf8)
            host = b.host
            port = b.port
        }
        var state = State.schemeStart
        var buffer: [UInt8] = []
        buffer.reserveCapacity(input.count + 8)
        var atSignSeen = false, insideBrackets = false, passwordTokenSeen = false
        var query: [UInt8] = []
        var fragment: [UInt8] = []
        var hasQuery = false, hasFragment = false
        var pointer = 0
        let n = input.count
        let eof: Int = -1

        func remainingStartsWithSlash(_ p: Int) -> Bool { p + 1 < n && input[p + 1] == 0x2F }
        /// `.` or `%2e` (any case) starting at `i`: its length, or 0.
        func dot(_ b: [UInt8], _ i: Int) -> Int {
            if i < b.count && b[i] == 0x2E { return 1 }
            if i + 2 < b.count && b[i] == 0x25 && b[i + 1] == 0x32 && (b[i + 2] | 0x20) == 0x65 { return 3 }
            return 0
        }
        func isDoubleDot(_ b: [UInt8]) -> Bool {
            guard b.count >= 2 && b.count <= 6 else { return false }
            let first = dot(b, 0)
            guard first > 0 else { return false }
            let second = dot(b, first)
            return second > 0 && first + second == b.count
        }
        func isSingleDot(_ b: [UInt8]) -> Bool {
            (b.count == 1 || b.count == 3) && dot(b, 0) == b.count
        }

        while true {
            let c: Int = pointer < n ? Int(input[pointer]) : eof
            let ch = UInt8(truncatingIfNeeded: c)
            switch state {
            case .schemeStart:
                if c != eof && isASCIIAlpha(ch) {
                    buffer.append(lowerASCII(ch))
                    state = .scheme
                } else {
                    state = .noScheme
                    pointer -= 1
                }
            case .scheme:
                if c != eof && (isASCIIAlpha(ch) || isASCIIDigit(ch) || ch == 0x2B || ch == 0x2D || ch == 0x2E) {
                    buffer.append(lowerASCII(ch))
                } else if c == 0x3A {
                    guard let name = supportedScheme(buffer) else { return nil }
                    scheme = name
                    buffer.removeAll()
                    if let base, base.scheme == scheme {
                        state = .specialRelativeOrAuthority
                    } else {
                        state = .specialAuthoritySlashes
                    }
                } else {
                    buffer.removeAll()
                    state = .noScheme
                    pointer = -1
                }
            case .noScheme:
                guard let base else { return nil }
                scheme = base.scheme
                state = .relative
                pointer -= 1
            case .specialRelativeOrAuthority:
                if c == 0x2F && remainingStartsWithSlash(pointer) {
                    state = .specialAuthorityIgnoreSlashes
                    pointer += 1
                } else {
                    state = .relative
                    pointer -= 1
                }
            case .relative:
                guard let base else { return nil }
                scheme = base.scheme
                if c == 0x2F || c == 0x5C {
                    state = .relativeSlash
                } else {
                    copyAuthority(from: base)
                    pathBytes.append(contentsOf: base.storage.pathBytes)
                    if let q = base.query { query = Array(q.utf8); hasQuery = true }
                    if c == 0x3F {
                        query = []; hasQuery = true
                        state = .query
                    } else if c == 0x23 {
                        fragment = []; hasFragment = true
                        state = .fragment
                    } else if c != eof {
                        query = []; hasQuery = false
                        shortenPath()
                        state = .path
                        pointer -= 1
                    }
                }
            case .relativeSlash:
                if c == 0x2F || c == 0x5C {
                    state = .specialAuthorityIgnoreSlashes
                } else {
                    if let base { copyAuthority(from: base) }
                    state = .path
                    pointer -= 1
                }
            case .specialAuthoritySlashes:
                if c == 0x2F && remainingStartsWithSlash(pointer) {
                    pointer += 1
                } else {
                    pointer -= 1
                }
                state = .specialAuthorityIgnoreSlashes
            case .specialAuthorityIgnoreSlashes:
                if c != 0x2F && c != 0x5C {
                    state = .authority
                    pointer -= 1
                }
            case .authority:
                if c == 0x40 {
                    if atSignSeen { buffer.insert(contentsOf: [0x25, 0x34, 0x30], at: 0) }
                    atSignSeen = true
                    for b in buffer {
                        if b == 0x3A && !passwordTokenSeen { passwordTokenSeen = true; continue }
                        if passwordTokenSeen { appendEncoded(b, .userinfo, to: &password) } else { appendEncoded(b, .userinfo, to: &username) }
                    }
                    buffer.removeAll()
                } else if c == eof || c == 0x2F || c == 0x3F || c == 0x23 || c == 0x5C {
                    if atSignSeen && buffer.isEmpty { return nil }
                    pointer -= buffer.count + 1
                    buffer.removeAll()
                    state = .host
                } else {
                    buffer.append(ch)
                }
            case .host:
                if c == 0x3A && !insideBrackets {
                    if buffer.isEmpty { return nil }
                    guard let h = HostParser.parse(buffer) else { return nil }
                    host = h
                    buffer.removeAll()
                    state = .port
                } else if c == eof || c == 0x2F || c == 0x3F || c == 0x23 || c == 0x5C {
                    pointer -= 1
                    if buffer.isEmpty { return nil }
                    guard let h = HostParser.parse(buffer) else { return nil }
                    host = h
                    buffer.removeAll()
                    state = .pathStart
                } else {
                    if ch == 0x5B { insideBrackets = true }
                    if ch == 0x5D { insideBrackets = false }
                    buffer.append(ch)
                }
            case .port:
                if c != eof && isASCIIDigit(ch) {
                    buffer.append(ch)
                } else if c == eof || c == 0x2F || c == 0x3F || c == 0x23 || c == 0x5C {
                    if !buffer.isEmpty {
                        var value = 0
                        for d in buffer {
                            value = value * 10 + Int(d - 0x30)
                            if value > 65535 { return nil }
                        }
                        port = value == WebURL.defaultPort(scheme) ? nil : value
                        buffer.removeAll()
                    }
                    state = .pathStart
                    pointer -= 1
                } else {
                    return nil
                }
            case .pathStart:
                state = .path
                if c != 0x2F && c != 0x5C { pointer -= 1 }
            case .path:
                if c == eof || c == 0x2F || c == 0x5C || c == 0x3F || c == 0x23 {
                    let slash = c == 0x2F || c == 0x5C
                    if isDoubleDot(buffer) {
                        shortenPath()
                        if !slash { pathBytes.append(0x2F) }
                    } else if isSingleDot(buffer) {
                        if !slash { pathBytes.append(0x2F) }
                    } else {
                        pathBytes.append(0x2F)
                        pathBytes += buffer
                    }
                    buffer.removeAll()
                    if c == 0x3F {
                        query = []; hasQuery = true
                        state = .query
                    } else if c == 0x23 {
                        fragment = []; hasFragment = true
                        state = .fragment
                    }
                } else {
                    appendEncoded(ch, .path, to: &buffer)
                }
            case .query:
                if c == 0x23 || c == eof {
                    for b in buffer { appendEncoded(b, .specialQuery, to: &query) }
                    buffer.removeAll()
                    if c == 0x23 {
                        fragment = []; hasFragment = true
                        state = .fragment
                    }
                } else {
                    buffer.append(ch)
                }
            case .fragment:
                if c != eof { appendEncoded(ch, .fragment, to: &fragment) }
            }
            // The standard's loop: stop once a run has looked at EOF and left the pointer there.
            if pointer >= n { break }
            pointer += 1
        }
        return WebURL(scheme: scheme, username: username, password: password, host: host, port: port, pathBytes: pathBytes,
                      query: hasQuery ? query : nil, fragment: hasFragment ? fragment : nil)
    }
}

// MARK: - Hosts

/// The host parser for special schemes: IPv6 in brackets, otherwise percent-decoded, run
/// through IDNA (UTS #46, as the standard says), checked for forbidden code points, and read
/// as IPv4 when it ends in a number. Returns the serialized host or nil for failure.
enum HostParser {
    static func parse(_ input: [UInt8]) -> String? {
        // Fast path: plain ASCII, no percent sign, not ending in a number: lowercase and check.
        var plain = true
        for c in input where c >= 0x80 || c == 0x25 || isForbiddenDomainByte(c) { plain = false; break }
        if plain && !input.isEmpty {
            let lowered = input.map(lowerASCII)
            if !endsInANumber(lowered) { return String(decoding: lowered, as: UTF8.self) }
        }
        if input.first == 0x5B {
            guard input.last == 0x5D, input.count >= 2 else { return nil }
            guard let pieces = parseIPv6(input[1..<(input.count - 1)]) else { return nil }
            return "[" + serializeIPv6(pieces) + "]"
        }
        let decoded = percentDecode(input)
        guard let ascii = domainToASCII(decoded) else { return nil }
        if ascii.contains(where: isForbiddenDomainByte) { return nil }
        if endsInANumber(ascii) {
            guard let v4 = parseIPv4(ascii) else { return nil }
            return serializeIPv4(v4)
        }
        return string(ascii)
    }

    static func percentDecode(_ input: [UInt8]) -> [UInt8] {
        guard input.contains(0x25) else { return input }
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == 0x25, i + 2 < input.count, let h = hexValue(input[i + 1]), let l = hexValue(input[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    static func isForbiddenDomainByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x00...0x20, 0x23, 0x25, 0x2F, 0x3A, 0x3C, 0x3E, 0x3F, 0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x7C, 0x7F:
            return true
        default:
            return false
        }
    }

    /// UTS #46 ToASCII (CheckHyphens false, CheckBidi and CheckJoiners true, no STD3 rules,
    /// non-transitional) through ICU, as browsers do. ASCII input is only lowercased.
    static func domainToASCII(_ domain: [UInt8]) -> [UInt8]? {
        var ascii = true
        for c in domain where c >= 0x80 { ascii = false; break }
        if ascii {
            // ASCII labels, `xn--` ones included, pass through lowercased: UTS #46 since
            // Unicode 15.1 no longer fails a domain on a bad punycode label, and ICU 72's
            // older rules would drop hosts a browser loads.
            let lowered = domain.map(lowerASCII)
            return lowered.isEmpty ? nil : lowered
        }
        // After percent-decoding the bytes may not be UTF-8: the standard decodes them to
        // U+FFFD, which IDNA rejects.
        guard !domain.contains(0), String(validating: domain, as: UTF8.self) != nil else { return nil }
        let cap = domain.count * 4 + 64
        var out = [UInt8](repeating: 0, count: cap)
        let n = domain.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                inp.withMemoryRebound(to: CChar.self) { i in
                    o.withMemoryRebound(to: CChar.self) { oc in
                        cidna_domain_to_ascii(i.baseAddress, i.count, oc.baseAddress, oc.count)
                    }
                }
            }
        }
        guard n > 0 else { return nil }
        return Array(out[..<n])
    }

    static func endsInANumber(_ host: [UInt8]) -> Bool {
        // The last label, ignoring one trailing dot.
        var end = host.count
        if end > 0 && host[end - 1] == 0x2E {
            if end == 1 { return false }
            end -= 1
        }
        var start = end
        while start > 0 && host[start - 1] != 0x2E { start -= 1 }
        guard start < end else { return false }
        let last = host[start..<end]
        if last.allSatisfy(isASCIIDigit) { return true }
        // Cheap reject before the full number parse: a number label starts with a digit.
        guard isASCIIDigit(last[last.startIndex]) else { return false }
        return parseIPv4Number(last) != nil
    }

    /// An IPv4 number in decimal, octal (leading 0) or hex (0x); saturates above 2^32.
    static func parseIPv4Number(_ part: ArraySlice<UInt8>) -> UInt64? {
        var s = part
        if s.isEmpty { return nil }
        var radix: UInt64 = 10
        if s.count >= 2, s[s.startIndex] == 0x30, s[s.startIndex + 1] | 0x20 == 0x78 {
            s = s.dropFirst(2)
            radix = 16
        } else if s.count >= 2, s[s.startIndex] == 0x30 {
            s = s.dropFirst()
            radix = 8
        }
        if s.isEmpty { return 0 }
        var value: UInt64 = 0
        for c in s {
            let d: UInt64
            switch radix {
            case 16: guard let h = hexValue(c) else { return nil }; d = UInt64(h)
            case 8: guard c >= 0x30 && c <= 0x37 else { return nil }; d = UInt64(c - 0x30)
            default: guard isASCIIDigit(c) else { return nil }; d = UInt64(c - 0x30)
            }
            value = min(value * radix + d, 1 << 40)
        }
        return value
    }

    static func parseIPv4(_ host: [UInt8]) -> UInt32? {
        var parts = host.split(separator: 0x2E, omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true, parts.count > 1 { parts.removeLast() }
        guard parts.count <= 4 else { return nil }
        var numbers: [UInt64] = []
        for p in parts {
            guard let v = parseIPv4Number(p) else { return nil }
            numbers.append(v)
        }
        for v in numbers.dropLast() where v > 255 { return nil }
        let last = numbers[numbers.count - 1]
        if last >= UInt64(1) << (8 * UInt64(5 - numbers.count)) { return nil }
        var ipv4 = last
        for (i, v) in numbers.dropLast().enumerated() {
            ipv4 += v << (8 * UInt64(3 - i))
        }
        return UInt32(ipv4)
    }

    static func serializeIPv4(_ a: UInt32) -> String {
        "\(a >> 24).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF)"
    }

    static func parseIPv6(_ input: ArraySlice<UInt8>) -> [UInt16]? {
        let s = Array(input)
        var address = [UInt16](repeating: 0, count: 8)
        var pieceIndex = 0
        var compress: Int?
        var p = 0
        let n = s.count
        if p < n && s[p] == 0x3A {
            guard p + 1 < n && s[p + 1] == 0x3A else { return nil }
            p += 2
            pieceIndex += 1
            compress = pieceIndex
        }
        while p < n {
            if pieceIndex == 8 { return nil }
            if s[p] == 0x3A {
                if compress != nil { return nil }
                p += 1
                pieceIndex += 1
                compress = pieceIndex
                continue
            }
            var value: UInt16 = 0
            var length = 0
            while length < 4, p < n, let h = hexValue(s[p]) {
                value = value << 4 | UInt16(h)
                p += 1
                length += 1
            }
            if p < n && s[p] == 0x2E {
                if length == 0 { return nil }
                p -= length
                if pieceIndex > 6 { return nil }
                var numbersSeen = 0
                while p < n {
                    var ipv4Piece: Int?
                    if numbersSeen > 0 {
                        if s[p] == 0x2E && numbersSeen < 4 { p += 1 } else { return nil }
                    }
                    guard p < n, isASCIIDigit(s[p]) else { return nil }
                    while p < n, isASCIIDigit(s[p]) {
                        let number = Int(s[p] - 0x30)
                        if let v = ipv4Piece {
                            if v == 0 { return nil }
                            ipv4Piece = v * 10 + number
                        } else {
                            ipv4Piece = number
                        }
                        if ipv4Piece! > 255 { return nil }
                        p += 1
                    }
                    address[pieceIndex] = address[pieceIndex] * 0x100 + UInt16(ipv4Piece!)
                    numbersSeen += 1
                    if numbersSeen == 2 || numbersSeen == 4 { pieceIndex += 1 }
                }
                if numbersSeen != 4 { return nil }
                break
            } else if p < n && s[p] == 0x3A {
                p += 1
                if p >= n { return nil }
            } else if p < n {
                return nil
            }
            address[pieceIndex] = value
            pieceIndex += 1
        }
        if let c = compress {
            var swaps = pieceIndex - c
            pieceIndex = 7
            while pieceIndex != 0 && swaps > 0 {
                address.swapAt(pieceIndex, c + swaps - 1)
                pieceIndex -= 1
                swaps -= 1
            }
        } else if pieceIndex != 8 {
            return nil
        }
        return address
    }

    static func serializeIPv6(_ a: [UInt16]) -> String {
        // The first longest run of two or more zero pieces is compressed.
        var bestStart = -1, bestLen = 1
        var i = 0
        while i < 8 {
            if a[i] == 0 {
                var j = i
                while j < 8 && a[j] == 0 { j += 1 }
                if j - i > bestLen { bestStart = i; bestLen = j - i }
                i = j
            } else {
                i += 1
            }
        }
        var out = ""
        var ignore0 = false
        for k in 0..<8 {
            if ignore0 && a[k] == 0 { continue }
            ignore0 = false
            if k == bestStart {
                out += k == 0 ? "::" : ":"
                ignore0 = true
                continue
            }
            out += String(a[k], radix: 16)
            if k != 7 { out += ":" }
        }
        return out
    }
}
