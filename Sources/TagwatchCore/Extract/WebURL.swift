import CIDNA

/// A URL parsed by the WHATWG URL Standard's basic URL parser, on bytes, for the schemes a
/// page loads resources from (http, https, ws, wss, ftp). A page decides what a browser
/// loads by the browser's rules, not RFC 3986's, so `https:\\ad.doubleclick.net./x.js`,
/// `https://ad.doubleclick%2Enet/x.js` and `http:ad.doubleclick.net/x.js` must all come out
/// as ad.doubleclick.net. Other schemes (file, data, javascript, mailto, blob, made-up ones)
/// are not parsed: `parse` returns nil for them, as for input a browser rejects.
public struct WebURL: Sendable, Hashable {
    /// Lowercased: http, https, ws, wss or ftp.
    public internal(set) var scheme: String
    public internal(set) var username: String = ""
    public internal(set) var password: String = ""
    /// The serialized host: a lowercased ASCII domain (IDNA applied, trailing dot kept as the
    /// browser keeps it), a dotted IPv4 address, or a bracketed IPv6 address.
    public internal(set) var host: String = ""
    /// The port when it is not the scheme's default.
    public internal(set) var port: Int?
    var pathSegments: [String] = []
    /// Without the leading `?`; nil when the URL has none.
    public internal(set) var query: String?
    /// Without the leading `#`; nil when the URL has none.
    public internal(set) var fragment: String?

    /// The serialized path, always starting with `/`.
    public var path: String { "/" + pathSegments.joined(separator: "/") }

    /// The host as vendor rules and the public suffix list match it: no IPv6 brackets and no
    /// trailing dot (`ad.doubleclick.net.` is ad.doubleclick.net).
    public var hostForMatching: String {
        var h = Substring(host)
        if h.first == "[" && h.last == "]" { return String(h.dropFirst().dropLast()) }
        while h.count > 1 && h.last == "." { h = h.dropLast() }
        return String(h)
    }

    public var isHTTP: Bool { scheme == "http" || scheme == "https" }

    /// The URL serialized as a browser's `href`.
    public var href: String {
        var s = scheme + "://"
        if !username.isEmpty || !password.isEmpty {
            s += username
            if !password.isEmpty { s += ":" + password }
            s += "@"
        }
        s += host
        if let port { s += ":" + String(port) }
        s += path
        if let query { s += "?" + query }
        if let fragment { s += "#" + fragment }
        return s
    }

    /// Parses `input` as a browser parses an absolute URL (`new URL(input)`).
    public init?(_ input: String) {
        guard let u = WebURL.parse(input, base: nil) else { return nil }
        self = u
    }

    /// Parses `input` against `base` as a browser resolves an `href` or `src` (`new URL(input, base)`).
    public static func parse(_ input: String, base: WebURL?) -> WebURL? {
        var input = input
        return input.withUTF8 { Parser(bytes: $0, base: base).run() }
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

    fileprivate init(scheme: String) { self.scheme = scheme }

    fileprivate mutating func shortenPath() {
        if !pathSegments.isEmpty { pathSegments.removeLast() }
    }

    fileprivate mutating func copyAuthority(from base: WebURL) {
        username = base.username
        password = base.password
        host = base.host
        port = base.port
    }
}

// MARK: - The basic URL parser

private let supportedSchemes: Set<String> = ["http", "https", "ws", "wss", "ftp"]
/// Special schemes this parser does not follow (file has its own host rules); a reference in
/// one of them is not a resource a page loads over the network here.
private let otherSpecialSchemes: Set<String> = ["file"]

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
    let input: [UInt8]
    let base: WebURL?

    init(bytes: UnsafeBufferPointer<UInt8>, base: WebURL?) {
        // Strip leading and trailing C0 controls and spaces; remove every tab and newline.
        var start = 0
        var end = bytes.count
        while start < end && bytes[start] <= 0x20 { start += 1 }
        while end > start && bytes[end - 1] <= 0x20 { end -= 1 }
        var clean: [UInt8] = []
        clean.reserveCapacity(end - start)
        for i in start..<end {
            let c = bytes[i]
            if c != 0x09 && c != 0x0A && c != 0x0D { clean.append(c) }
        }
        self.input = clean
        self.base = base
    }

    func run() -> WebURL? {
        var url = WebURL(scheme: "")
        var state = State.schemeStart
        var buffer: [UInt8] = []
        var atSignSeen = false, insideBrackets = false, passwordTokenSeen = false
        var query: [UInt8] = []
        var fragment: [UInt8] = []
        var hasQuery = false, hasFragment = false
        var pointer = 0
        let n = input.count
        let eof: Int = -1

        func remainingStartsWithSlash(_ p: Int) -> Bool { p + 1 < n && input[p + 1] == 0x2F }
        func isDoubleDot(_ b: [UInt8]) -> Bool {
            switch b.count {
            case 2: return b[0] == 0x2E && b[1] == 0x2E
            case 4:
                let l = b.map(lowerASCII)
                return l == Array(".%2e".utf8) || l == Array("%2e.".utf8)
            case 6: return b.map(lowerASCII) == Array("%2e%2e".utf8)
            default: return false
            }
        }
        func isSingleDot(_ b: [UInt8]) -> Bool {
            (b.count == 1 && b[0] == 0x2E) || (b.count == 3 && b.map(lowerASCII) == Array("%2e".utf8))
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
                    let scheme = string(buffer)
                    guard supportedSchemes.contains(scheme) else { return nil }
                    url.scheme = scheme
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
                url.scheme = base.scheme
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
                url.scheme = base.scheme
                if c == 0x2F || c == 0x5C {
                    state = .relativeSlash
                } else {
                    url.copyAuthority(from: base)
                    url.pathSegments = base.pathSegments
                    if let q = base.query { query = Array(q.utf8); hasQuery = true }
                    if c == 0x3F {
                        query = []; hasQuery = true
                        state = .query
                    } else if c == 0x23 {
                        fragment = []; hasFragment = true
                        state = .fragment
                    } else if c != eof {
                        query = []; hasQuery = false
                        url.shortenPath()
                        state = .path
                        pointer -= 1
                    }
                }
            case .relativeSlash:
                if c == 0x2F || c == 0x5C {
                    state = .specialAuthorityIgnoreSlashes
                } else {
                    if let base { url.copyAuthority(from: base) }
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
                    var user: [UInt8] = Array(url.username.utf8), pass: [UInt8] = Array(url.password.utf8)
                    for b in buffer {
                        if b == 0x3A && !passwordTokenSeen { passwordTokenSeen = true; continue }
                        if passwordTokenSeen { appendEncoded(b, .userinfo, to: &pass) } else { appendEncoded(b, .userinfo, to: &user) }
                    }
                    url.username = string(user)
                    url.password = string(pass)
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
                    url.host = h
                    buffer.removeAll()
                    state = .port
                } else if c == eof || c == 0x2F || c == 0x3F || c == 0x23 || c == 0x5C {
                    pointer -= 1
                    if buffer.isEmpty { return nil }
                    guard let h = HostParser.parse(buffer) else { return nil }
                    url.host = h
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
                        var port = 0
                        for d in buffer {
                            port = port * 10 + Int(d - 0x30)
                            if port > 65535 { return nil }
                        }
                        url.port = port == WebURL.defaultPort(url.scheme) ? nil : port
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
                        url.shortenPath()
                        if !slash { url.pathSegments.append("") }
                    } else if isSingleDot(buffer) {
                        if !slash { url.pathSegments.append("") }
                    } else {
                        url.pathSegments.append(string(buffer))
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
        url.query = hasQuery ? string(query) : nil
        url.fragment = hasFragment ? string(fragment) : nil
        return url
    }
}

// MARK: - Hosts

/// The host parser for special schemes: IPv6 in brackets, otherwise percent-decoded, run
/// through IDNA (UTS #46, as the standard says), checked for forbidden code points, and read
/// as IPv4 when it ends in a number. Returns the serialized host or nil for failure.
enum HostParser {
    static func parse(_ input: [UInt8]) -> String? {
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
        var parts = host.split(separator: 0x2E, omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true {
            if parts.count == 1 { return false }
            parts.removeLast()
        }
        guard let last = parts.last, !last.isEmpty else { return false }
        if last.allSatisfy(isASCIIDigit) { return true }
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
