import CIDNA
#if canImport(Glibc)
import Glibc
#endif

/// A URL parsed by the WHATWG URL Standard's basic URL parser, on bytes, for the schemes a
/// page loads resources from (http, https, ws, wss, ftp). A page decides what a browser
/// loads by the browser's rules, not RFC 3986's, so `https:\\ad.doubleclick.net./x.js`,
/// `https://ad.doubleclick%2Enet/x.js` and `http:ad.doubleclick.net/x.js` must all come out
/// as ad.doubleclick.net. Other schemes (file, data, javascript, mailto, blob, made-up ones)
/// are not parsed: `parse` returns nil for them, as for input a browser rejects.
///
/// Kept as ada-url keeps a URL: the serialized `href` and the offsets of its components, so a
/// URL is one string (none at all when the input was already in its serialized form, which
/// is then shared) and a component is materialised only when asked for. The parser writes
/// the serialization once, into a scratch buffer on the stack.
public struct WebURL: Sendable, Hashable {
    /// The URL serialized as a browser's `href`. Always ASCII (the parser percent-encodes every
    /// other byte and IDNA-encodes the host), so UTF-8 offsets are character offsets.
    public let href: String
    /// The offsets of the components in `href`'s bytes.
    let schemeEnd: UInt32      // the `:` after the scheme
    let usernameEnd: UInt32    // end of the username; == hostStart without credentials
    let hostStart: UInt32
    let hostEnd: UInt32
    let pathStart: UInt32
    let queryStart: UInt32     // the `?`, or `WebURL.absent`
    let fragmentStart: UInt32  // the `#`, or `WebURL.absent`
    let portValue: UInt32      // `WebURL.absent` when the URL has none (or the default)
    let schemeKind: SchemeKind

    static let absent = UInt32.max

    /// The schemes parsed; file, with its own host rules, and every non-special scheme are
    /// not loads tagwatch follows, so not parsed.
    enum SchemeKind: UInt8, Sendable {
        case http, https, ws, wss, ftp

        var name: String {
            switch self {
            case .http: return "http"
            case .https: return "https"
            case .ws: return "ws"
            case .wss: return "wss"
            case .ftp: return "ftp"
            }
        }

        var defaultPort: Int {
            switch self {
            case .http, .ws: return 80
            case .https, .wss: return 443
            case .ftp: return 21
            }
        }

        /// The scheme of lowercased-or-not bytes `b[from..<to]`, or nil.
        init?(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) {
            @inline(__always) func at(_ i: Int) -> UInt8 { lowerASCII(b[from + i]) }
            switch to - from {
            case 2 where at(0) == 0x77 && at(1) == 0x73: self = .ws
            case 3 where at(0) == 0x77 && at(1) == 0x73 && at(2) == 0x73: self = .wss
            case 3 where at(0) == 0x66 && at(1) == 0x74 && at(2) == 0x70: self = .ftp
            case 4 where at(0) == 0x68 && at(1) == 0x74 && at(2) == 0x74 && at(3) == 0x70: self = .http
            case 5 where at(0) == 0x68 && at(1) == 0x74 && at(2) == 0x74 && at(3) == 0x70 && at(4) == 0x73: self = .https
            default: return nil
            }
        }
    }

    /// Lowercased: http, https, ws, wss or ftp.
    public var scheme: String { schemeKind.name }
    public var username: String { slice(schemeEnd + 3, usernameEnd) }
    public var password: String {
        // Credentials are `username[:password]@`: a password sits between the `:` and the `@`.
        usernameEnd + 1 < hostStart ? slice(usernameEnd + 1, hostStart - 1) : ""
    }
    /// The serialized host: a lowercased ASCII domain (IDNA applied, trailing dot kept as the
    /// browser keeps it), a dotted IPv4 address, or a bracketed IPv6 address.
    public var host: String { slice(hostStart, hostEnd) }
    /// The port when it is not the scheme's default.
    public var port: Int? { portValue == WebURL.absent ? nil : Int(portValue) }
    /// The end of the path in `href`'s bytes.
    var pathEnd: UInt32 {
        queryStart != WebURL.absent ? queryStart : (fragmentStart != WebURL.absent ? fragmentStart : UInt32(href.utf8.count))
    }
    /// Without the leading `?`; nil when the URL has none.
    public var query: String? {
        guard queryStart != WebURL.absent else { return nil }
        return slice(queryStart + 1, fragmentStart != WebURL.absent ? fragmentStart : UInt32(href.utf8.count))
    }
    /// Without the leading `#`; nil when the URL has none.
    public var fragment: String? {
        fragmentStart == WebURL.absent ? nil : slice(fragmentStart + 1, UInt32(href.utf8.count))
    }
    /// The serialized path, always starting with `/`.
    public var path: String { pathStart < pathEnd ? slice(pathStart, pathEnd) : "/" }

    public static func == (a: WebURL, b: WebURL) -> Bool { a.href == b.href }
    public func hash(into hasher: inout Hasher) { hasher.combine(href) }

    /// The host as vendor rules and the public suffix list match it: no IPv6 brackets and no
    /// trailing dot (`ad.doubleclick.net.` is ad.doubleclick.net).
    public var hostForMatching: String {
        let r = hostForMatchingRange
        return slice(r.lowerBound, r.upperBound)
    }

    /// Where `hostForMatching` is in `href`'s bytes.
    var hostForMatchingRange: Range<UInt32> {
        withBytes { b in
            var s = Int(hostStart), e = Int(hostEnd)
            if e - s >= 2 && b[s] == 0x5B && b[e - 1] == 0x5D { return UInt32(s + 1)..<UInt32(e - 1) }
            while e - s > 1 && b[e - 1] == 0x2E { e -= 1 }
            if s > e { s = e }
            return UInt32(s)..<UInt32(e)
        }
    }

    public var isHTTP: Bool { schemeKind == .http || schemeKind == .https }

    /// Calls `body` with `href`'s bytes (native strings are contiguous: no copy).
    @inline(__always) func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = href.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = href
        return copy.withUTF8(body)
    }

    /// `href`'s bytes `from..<to` as a string.
    func slice(_ from: UInt32, _ to: UInt32) -> String {
        guard from < to else { return "" }
        return withBytes { String(decoding: UnsafeBufferPointer(rebasing: $0[Int(from)..<Int(to)]), as: UTF8.self) }
    }

    /// Parses `input` as a browser parses an absolute URL (`new URL(input)`).
    public init?(_ input: String) {
        guard let u = WebURL.parse(input, base: nil) else { return nil }
        self = u
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

    fileprivate init(href: String, _ p: Parser) {
        self.href = href
        schemeEnd = UInt32(p.schemeEnd)
        usernameEnd = UInt32(p.usernameEnd)
        hostStart = UInt32(p.hostStart)
        hostEnd = UInt32(p.hostEnd)
        pathStart = UInt32(p.pathStart)
        queryStart = p.queryStart < 0 ? WebURL.absent : UInt32(p.queryStart)
        fragmentStart = p.fragmentStart < 0 ? WebURL.absent : UInt32(p.fragmentStart)
        portValue = p.port < 0 ? WebURL.absent : UInt32(p.port)
        schemeKind = p.scheme
    }

    /// Parses `input` against `base` as a browser resolves an `href` or `src` (`new URL(input, base)`).
    public static func parse(_ input: String, base: WebURL?) -> WebURL? {
        var input = input
        input.makeContiguousUTF8()
        let original = input
        if let r = original.utf8.withContiguousStorageIfAvailable({ parse(bytes: $0, base: base, original: original) }) { return r }
        return Array(original.utf8).withUnsafeBufferPointer { parse(bytes: $0, base: base, original: nil) }
    }

    /// Parses `raw`. `original` is the string `raw` belongs to: a URL whose serialization is
    /// byte for byte its input shares that string instead of allocating another.
    static func parse(bytes raw: UnsafeBufferPointer<UInt8>, base: WebURL?, original: String?) -> WebURL? {
        // Leading and trailing C0 controls and spaces are stripped, tabs and newlines removed;
        // most input has none, and is parsed in place.
        var clean = !(raw.first.map { $0 <= 0x20 } ?? false) && !(raw.last.map { $0 <= 0x20 } ?? false)
        if clean { for c in raw where c == 0x09 || c == 0x0A || c == 0x0D { clean = false; break } }
        if clean { return parseClean(raw, base: base, original: original) }
        var start = 0, end = raw.count
        while start < end && raw[start] <= 0x20 { start += 1 }
        while end > start && raw[end - 1] <= 0x20 { end -= 1 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(end - start)
        for i in start..<end where raw[i] != 0x09 && raw[i] != 0x0A && raw[i] != 0x0D { bytes.append(raw[i]) }
        return bytes.withUnsafeBufferPointer { parseClean($0, base: base, original: nil) }
    }

    private static func parseClean(_ input: UnsafeBufferPointer<UInt8>, base: WebURL?, original: String?) -> WebURL? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 512) { scratch -> WebURL? in
            var parser = Parser(input: input, base: base, out: URLByteWriter(scratch))
            defer { parser.out.release() }
            guard parser.run() else { return nil }
            let out = parser.out.buffer
            let href: String
            // memcmp: the generic `elementsEqual` cost 1,500 instructions a URL (a fifth of a parse).
            if let original, out.count == input.count,
               out.isEmpty || memcmp(out.baseAddress!, input.baseAddress!, out.count) == 0 {
                href = original
            } else {
                href = String(decoding: out, as: UTF8.self)
            }
            return WebURL(href: href, parser)
        }
    }
}

// MARK: - The basic URL parser

@inline(__always) private func isASCIIAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
@inline(__always) private func isASCIIDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) private func lowerASCII(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
@inline(__always) private func isSlash(_ c: UInt8) -> Bool { c == 0x2F || c == 0x5C }
@inline(__always) private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}

/// The percent-encode sets of the URL Standard, as byte predicates.
fileprivate enum EncodeSet {
    case fragment, specialQuery, path, userinfo

    @inline(__always) func contains(_ c: UInt8) -> Bool {
        if c < 0x20 || c > 0x7E { return true }  // C0 control percent-encode set (and non-ASCII bytes)
        if isASCIIAlpha(c) || isASCIIDigit(c) { return false }
        switch self {
        case .fragment:
            return c == 0x20 || c == 0x22 || c == 0x3C || c == 0x3E || c == 0x60
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

@inline(__always) private func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x41 + v - 10 }

/// The parser's output: a byte buffer that starts in scratch memory on the stack and moves to
/// the heap only for a URL longer than the scratch space.
struct URLByteWriter {
    private var start: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int
    private var onHeap = false

    init(_ scratch: UnsafeMutableBufferPointer<UInt8>) {
        start = scratch.baseAddress!
        capacity = scratch.count
    }

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    @inline(__always) subscript(i: Int) -> UInt8 { start[i] }

    @inline(__always) mutating func append(_ b: UInt8) {
        if count == capacity { grow(count + 1) }
        start[count] = b
        count &+= 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(count + bytes.count) }
        (start + count).update(from: bytes.baseAddress!, count: bytes.count)
        count += bytes.count
    }

    mutating func append<S: Sequence>(contentsOf bytes: S) where S.Element == UInt8 {
        for b in bytes { append(b) }
    }

    @inline(__always) fileprivate mutating func appendEncoded(_ c: UInt8, _ set: EncodeSet) {
        if set.contains(c) {
            append(0x25)
            append(hexDigit(c >> 4))
            append(hexDigit(c & 0xF))
        } else {
            append(c)
        }
    }

    /// Decimal digits of `v`.
    mutating func appendDecimal(_ v: Int) {
        if v >= 10 { appendDecimal(v / 10) }
        append(UInt8(0x30 + v % 10))
    }

    @inline(__always) mutating func truncate(_ n: Int) { count = n }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(capacity * 2, needed)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: start, count: count)
        if onHeap { start.deallocate() }
        start = bigger
        capacity = newCapacity
        onHeap = true
    }

    /// Frees heap memory, if the buffer grew onto the heap.
    mutating func release() {
        if onHeap { start.deallocate() }
        onHeap = false
        capacity = 0
        count = 0
    }
}

/// The URL Standard's basic URL parser for special schemes, writing the serialization as it
/// goes (each state of the standard is a stretch of this code; the comments name them).
fileprivate struct Parser {
    let input: UnsafeBufferPointer<UInt8>
    let base: WebURL?
    var out: URLByteWriter
    var scheme = WebURL.SchemeKind.http
    var schemeEnd = 0, usernameEnd = 0, hostStart = 0, hostEnd = 0, pathStart = 0
    var queryStart = -1, fragmentStart = -1, port = -1

    init(input: UnsafeBufferPointer<UInt8>, base: WebURL?, out: URLByteWriter) {
        self.input = input
        self.base = base
        self.out = out
    }

    var n: Int { input.count }

    /// Scheme start and scheme states; no scheme: relative to the base.
    mutating func run() -> Bool {
        if n > 0 && isASCIIAlpha(input[0]) {
            var i = 1
            while i < n {
                let c = input[i]
                guard isASCIIAlpha(c) || isASCIIDigit(c) || c == 0x2B || c == 0x2D || c == 0x2E else { break }
                i += 1
            }
            if i < n && input[i] == 0x3A {
                guard let kind = WebURL.SchemeKind(input, 0, i) else { return false }
                // Special relative or authority: the base's scheme makes `https:x` relative to it.
                if let base, base.schemeKind == kind { return relative(from: i + 1, base: base) }
                scheme = kind
                out.append(contentsOf: kind.name.utf8)
                schemeEnd = out.count
                out.append(0x3A); out.append(0x2F); out.append(0x2F)
                // Special authority slashes, special authority ignore slashes.
                var p = i + 1
                while p < n && isSlash(input[p]) { p += 1 }
                return authority(from: p)
            }
        }
        guard let base else { return false }
        return relative(from: 0, base: base)
    }

    /// Relative and relative slash states.
    mutating func relative(from start: Int, base: WebURL) -> Bool {
        scheme = base.schemeKind
        let c: Int = start < n ? Int(input[start]) : -1
        if c == 0x2F || c == 0x5C {
            if start + 1 < n && isSlash(input[start + 1]) {
                base.withBytes { out.append(UnsafeBufferPointer(rebasing: $0[0...Int(base.schemeEnd)])) }
                schemeEnd = Int(base.schemeEnd)
                out.append(0x2F); out.append(0x2F)
                var p = start + 2
                while p < n && isSlash(input[p]) { p += 1 }
                return authority(from: p)
            }
            copyAuthority(of: base)
            return path(from: start + 1)
        }
        copyAuthority(of: base)
        let pathEnd = Int(base.pathEnd)
        base.withBytes { out.append(UnsafeBufferPointer(rebasing: $0[Int(base.pathStart)..<pathEnd])) }
        func copyBaseQuery() {
            guard base.queryStart != WebURL.absent else { return }
            queryStart = out.count
            let end = base.fragmentStart != WebURL.absent ? Int(base.fragmentStart) : base.href.utf8.count
            base.withBytes { out.append(UnsafeBufferPointer(rebasing: $0[Int(base.queryStart)..<end])) }
        }
        switch c {
        case -1:
            copyBaseQuery()
            return true
        case 0x3F:
            return query(from: start + 1)
        case 0x23:
            copyBaseQuery()
            return fragment(from: start + 1)
        default:
            shortenPath()
            return path(from: start)
        }
    }

    /// The base's scheme, credentials, host and port.
    mutating func copyAuthority(of base: WebURL) {
        base.withBytes { out.append(UnsafeBufferPointer(rebasing: $0[0..<Int(base.pathStart)])) }
        schemeEnd = Int(base.schemeEnd)
        usernameEnd = Int(base.usernameEnd)
        hostStart = Int(base.hostStart)
        hostEnd = Int(base.hostEnd)
        port = base.portValue == WebURL.absent ? -1 : Int(base.portValue)
        pathStart = out.count
    }

    /// Authority, host and port states; `out` holds `scheme://`.
    mutating func authority(from start: Int) -> Bool {
        // The authority ends at the first `/`, `\`, `?` or `#`; credentials end at its last `@`.
        var end = start
        var lastAt = -1
        while end < n {
            let c = input[end]
            if c == 0x2F || c == 0x5C || c == 0x3F || c == 0x23 { break }
            if c == 0x40 { lastAt = end }
            end += 1
        }
        var hostFrom = start
        let credentials = out.count
        if lastAt >= 0 {
            // Each `@` but the last is part of the credentials (percent-encoded); the first `:`
            // splits username from password.
            var colon = start
            while colon < lastAt && input[colon] != 0x3A { colon += 1 }
            for k in start..<colon { out.appendEncoded(input[k], .userinfo) }
            usernameEnd = out.count
            if colon + 1 < lastAt {
                out.append(0x3A)
                for k in (colon + 1)..<lastAt { out.appendEncoded(input[k], .userinfo) }
            }
            if out.count > credentials { out.append(0x40) }
            hostFrom = lastAt + 1
            if hostFrom == end { return false }
        } else {
            usernameEnd = out.count
        }
        // Host: up to the first `:` outside brackets.
        var colon = -1
        var insideBrackets = false
        var i = hostFrom
        while i < end {
            let c = input[i]
            if c == 0x3A && !insideBrackets { colon = i; break }
            if c == 0x5B { insideBrackets = true }
            if c == 0x5D { insideBrackets = false }
            i += 1
        }
        let hostTo = colon >= 0 ? colon : end
        if hostTo == hostFrom { return false }
        hostStart = out.count
        guard HostParser.write(UnsafeBufferPointer(rebasing: input[hostFrom..<hostTo]), to: &out) else { return false }
        hostEnd = out.count
        // Port: digits only, at most 65535; the scheme's default is omitted.
        if colon >= 0 && colon + 1 < end {
            var value = 0
            for k in (colon + 1)..<end {
                let d = input[k]
                guard isASCIIDigit(d) else { return false }
                value = value * 10 + Int(d - 0x30)
                if value > 65535 { return false }
            }
            if value != scheme.defaultPort {
                port = value
                out.append(0x3A)
                out.appendDecimal(value)
            }
        }
        // Path start.
        pathStart = out.count
        return path(from: end < n && isSlash(input[end]) ? end + 1 : end)
    }

    /// Removes the path's last segment.
    mutating func shortenPath() {
        var i = out.count
        while i > pathStart {
            i -= 1
            if out[i] == 0x2F { out.truncate(i); return }
        }
    }

    /// `.` or `%2e` (any case) at `i` of the output: its length, or 0.
    func dot(_ i: Int, _ end: Int) -> Int {
        if i < end && out[i] == 0x2E { return 1 }
        if i + 2 < end && out[i] == 0x25 && out[i + 1] == 0x32 && (out[i + 2] | 0x20) == 0x65 { return 3 }
        return 0
    }

    /// Path state: segments end at `/`, `\`, `?`, `#` or the end; `.` and `..` segments are resolved.
    mutating func path(from start: Int) -> Bool {
        var p = start
        while true {
            let segment = out.count
            out.append(0x2F)
            while p < n {
                let c = input[p]
                if c == 0x2F || c == 0x5C || c == 0x3F || c == 0x23 { break }
                out.appendEncoded(c, .path)
                p += 1
            }
            let c: Int = p < n ? Int(input[p]) : -1
            let slash = c == 0x2F || c == 0x5C
            let length = out.count - segment - 1
            if length >= 1 && length <= 6 {
                let end = out.count
                let first = dot(segment + 1, end)
                if first > 0 {
                    if first == length {
                        out.truncate(segment)
                        if !slash { out.append(0x2F) }
                    } else {
                        let second = dot(segment + 1 + first, end)
                        if second > 0 && first + second == length {
                            out.truncate(segment)
                            shortenPath()
                            if !slash { out.append(0x2F) }
                        }
                    }
                }
            }
            if slash { p += 1; continue }
            if c == 0x3F { return query(from: p + 1) }
            if c == 0x23 { return fragment(from: p + 1) }
            return true
        }
    }

    /// Query state (special-query percent-encode set: the page's encoding is UTF-8 here).
    mutating func query(from start: Int) -> Bool {
        queryStart = out.count
        out.append(0x3F)
        var p = start
        while p < n && input[p] != 0x23 {
            out.appendEncoded(input[p], .specialQuery)
            p += 1
        }
        if p < n { return fragment(from: p + 1) }
        return true
    }

    /// Fragment state.
    mutating func fragment(from start: Int) -> Bool {
        fragmentStart = out.count
        out.append(0x23)
        for p in start..<n { out.appendEncoded(input[p], .fragment) }
        return true
    }
}

// MARK: - Hosts

/// The host parser for special schemes: IPv6 in brackets, otherwise percent-decoded, run
/// through IDNA (UTS #46, as the standard says), checked for forbidden code points, and read
/// as IPv4 when it ends in a number. Returns the serialized host or nil for failure.
enum HostParser {
    /// Writes the serialized host of `input` to `out`; false for failure. Plain lowercase-able
    /// ASCII that does not end in a number (almost every host) is written in one pass.
    static func write(_ input: UnsafeBufferPointer<UInt8>, to out: inout URLByteWriter) -> Bool {
        let start = out.count
        var plain = true
        for c in input {
            if c >= 0x80 || c == 0x25 || isForbiddenDomainByte(c) { plain = false; break }
            out.append(lowerASCII(c))
        }
        if plain && !input.isEmpty {
            // Ends in a number only when the last label (ignoring one trailing dot) starts with a digit.
            var end = out.count
            if out[end - 1] == 0x2E { end -= 1 }
            var labelStart = end
            while labelStart > start && out[labelStart - 1] != 0x2E { labelStart -= 1 }
            if labelStart == end || !isASCIIDigit(out[labelStart]) { return true }
        }
        out.truncate(start)
        guard let host = parse(Array(input)) else { return false }
        out.append(contentsOf: host.utf8)
        return true
    }

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
        return String(decoding: ascii, as: UTF8.self)
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
