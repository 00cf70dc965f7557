import Foundation

/// Structured form of an alert event, shared by the JSON log and the feed's `_tagwatch` key.
public enum AlertJSON {
    public static func alert(_ a: Alert) -> JSONValue {
        .object([
            ("id", .string(a.id)),
            ("kind", .string(a.kind.rawValue)),
            ("severity", .string(a.severity.rawValue)),
            ("state", .string(a.state.rawValue)),
            ("page", .string(a.page)),
            ("page_count", .int(a.pageCount)),
            ("pages", .array(a.pages.map { .string($0) })),
            ("subject", .string(a.subject)),
            ("vendor", a.vendor.map(ScanOutput.vendor) ?? .null),
            ("resource_url", .str(a.resourceURL)),
            ("message", .string(a.message)),
            ("first_seen", .string(a.firstSeen)),
            ("raised_at", .string(a.raisedAt)),
            ("resolved_at", .str(a.resolvedAt)),
        ])
    }

    public static func event(_ e: AlertEvent) -> JSONValue {
        .object([("event", .string(e.event.rawValue)), ("seq", .int(e.seq)), ("time", .string(e.at)), ("alert", alert(e.alert))])
    }
}

/// The alert log: one line per event, appended. The file is opened for each batch, so a
/// logrotate that moves it is followed without a signal.
public struct AlertLog: Sendable {
    public var path: String
    public var format: Config.LogFormat

    public init(path: String, format: Config.LogFormat) {
        self.path = path
        self.format = format
    }

    public static func line(_ e: AlertEvent, format: Config.LogFormat) -> String {
        let a = e.alert
        switch format {
        case .json:
            var fields: [(String, JSONValue)] = [("time", .string(e.at)), ("level", .string(level(e))), ("event", .string(e.event.rawValue))]
            if case .object(let rest) = AlertJSON.alert(a) { fields += rest }
            return JSONValue.object(fields).serialized()
        case .logfmt:
            var pairs: [(String, String)] = [("time", e.at), ("level", level(e)), ("event", e.event.rawValue), ("kind", a.kind.rawValue),
                                             ("severity", a.severity.rawValue), ("id", a.id), ("page", a.page),
                                             ("pages", String(a.pageCount))]
            if let v = a.vendor {
                pairs += [("vendor", v.id), ("vendor_name", v.name), ("company", v.company), ("category", v.category)]
            } else {
                pairs.append(("subject", a.subject))
            }
            if let u = a.resourceURL { pairs.append(("resource", u)) }
            pairs.append(("msg", a.message))
            return pairs.map { "\($0.0)=\(logfmtValue($0.1))" }.joined(separator: " ")
        }
    }

    static func level(_ e: AlertEvent) -> String {
        if e.event == .resolved { return "info" }
        switch e.alert.severity {
        case .critical, .high: return "error"
        case .medium: return "warn"
        case .low, .info: return "info"
        }
    }

    /// A logfmt value: quoted when it has a space, `=`, a quote, a backslash or any control
    /// character; inside quotes every line terminator (LF, CR, VT, FF, NEL, U+2028, U+2029) and
    /// other control character is escaped, so page data can never start a line of its own.
    static func logfmtValue(_ s: String) -> String {
        func isControl(_ v: UInt32) -> Bool { v < 0x20 || (v >= 0x7F && v <= 0x9F) || v == 0x2028 || v == 0x2029 }
        let needsQuotes = s.isEmpty || s.unicodeScalars.contains {
            $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || isControl($0.value)
        }
        guard needsQuotes else { return s }
        // The same escapes as a JSON string (JSONValue's), quotes included.
        var out: [UInt8] = []
        JSONValue.escape(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// "No space left on device (errno 28)".
    static func osError(_ e: Int32) -> String { "\(String(cString: strerror(e))) (errno \(e))" }

    public func append(_ events: [AlertEvent]) throws {
        guard !events.isEmpty else { return }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let text = events.map { Self.line($0, format: format) + "\n" }.joined()
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileSourceError("cannot open alert log \(path): \(Self.osError(errno))") }
        defer { close(fd) }
        // A batch is written whole or not at all: a write that fails half-way (disk full) is cut
        // back, so the retry does not leave half a line before the whole one.
        var st = stat()
        let before = fstat(fd, &st) == 0 ? st.st_size : -1
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if before >= 0 { _ = ftruncate(fd, before) }
                throw FileSourceError("cannot write alert log \(path): \(Self.osError(e))")
            }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// The JSON Feed 1.1 of alert events, newest first, replaced atomically (temporary file + rename).
public struct AlertFeed: Sendable {
    public var path: String
    public var title: String
    public var homeURL: String?
    /// File mode for the feed (`alerts.feed_public: true`: 0644, readable by anyone); nil: the umask's.
    public var mode: Int?

    public init(path: String, title: String, homeURL: String?) {
        self.path = path
        self.title = title
        self.homeURL = homeURL
    }

    public func document(_ events: [AlertEvent], via: (Alert) -> [String] = { _ in [] }) -> JSONValue {
        var top: [(String, JSONValue)] = [
            ("version", .string("https://jsonfeed.org/version/1.1")),
            ("title", .string(title)),
        ]
        if let homeURL { top.append(("home_page_url", .string(homeURL))) }
        top.append(("description", .string("Third-party scripts, tags and frames raised and resolved by tagwatch.")))
        top.append(("items", .array(events.map { item($0, via: via($0.alert)) })))
        return .object(top)
    }

    func item(_ e: AlertEvent, via: [String]) -> JSONValue {
        let a = e.alert
        let who = a.vendor.map { "\($0.name) (\($0.company))" } ?? a.subject
        let verb = e.event == .raised ? "" : (e.event == .updated ? "Spreading: " : "Resolved: ")
        let place = a.pageCount > 1 ? "\(Alert.thousands(a.pageCount)) pages" : a.page
        let title = "\(verb)\(FeedWords.kind(a.kind)): \(who) on \(place)"
        let content = AlertContent(event: e, via: via)
        var fields: [(String, JSONValue)] = [
            // Stable: the alert's id and the event's sequence number, the same in every rewrite of the feed.
            ("id", .string("\(a.id)/\(e.seq)")),
            ("title", .string(title)),
            ("content_html", .string(content.html)),
            ("content_text", .string(content.text)),
            ("date_published", .string(e.at)),
        ]
        if Config.isHTTPURL(a.page) { fields.append(("external_url", .string(a.page))) }
        fields.append(("tags", .array([.string(a.kind.rawValue), .string(a.severity.rawValue), .string(e.event.rawValue)])))
        fields.append(("_tagwatch", AlertJSON.event(e)))
        return .object(fields)
    }

    /// `store`: where to learn how each vendor got onto the pages (`via`).
    public func write(_ events: [AlertEvent], store: Store? = nil) throws {
        let text = document(events, via: { a in (try? store?.via(of: a)) ?? [] }).serialized(pretty: true) + "\n"
        let mode = mode.map { mode_t($0) } ?? AtomicFile.readableMode
        // Every cycle rewrites the feed, most often with nothing new: a file that already holds
        // these very bytes with this mode is left as it is, rather than written, synced and
        // renamed over itself at the end of every steady-state cycle (its modification time then
        // still says when it last changed).
        if Self.file(path, holds: text, mode: mode) { return }
        try AtomicFile.write(text, to: path, what: "feed", mode: mode)
    }

    /// Whether `path` is a regular file (not a link) with exactly `text` and permission bits `mode`.
    static func file(_ path: String, holds text: String, mode: mode_t) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_mode & 0o7777 == mode,
              st.st_size == text.utf8.count, let data = FileManager.default.contents(atPath: path) else { return false }
        return data.elementsEqual(text.utf8)
    }
}

enum FeedWords {
    static func kind(_ k: FindingKind) -> String {
        switch k {
        case .unapprovedVendor: return "Unapproved vendor"
        case .unknownThirdParty: return "Unknown third party"
        case .deniedVendor: return "Denied vendor"
        case .outOfScope: return "Vendor outside its approved pages"
        case .approvalExpired: return "Approval expired"
        case .requiredVendorMissing: return "Required vendor missing"
        case .insecureResource: return "Insecure (http) resource"
        case .targetUnreachable: return "Page unreachable"
        case .sriMismatch: return "Integrity pin does not match"
        case .sriMissing: return "Script without integrity pin"
        case .scriptChanged: return "Script content changed"
        case .scriptUnavailable: return "Script unavailable"
        case .headerChanged: return "Security header changed"
        case .cspWeak: return "Weak Content-Security-Policy"
        case .cspBlocks: return "Blocked by the Content-Security-Policy"
        case .cspAllowsDenied: return "Policy allows a denied vendor"
        }
    }
}
