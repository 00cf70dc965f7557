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
                                             ("severity", a.severity.rawValue), ("id", a.id), ("page", a.page)]
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

    static func logfmtValue(_ s: String) -> String {
        let needsQuotes = s.isEmpty || s.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.isNewline }
        guard needsQuotes else { return s }
        var out = "\""
        for ch in s {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out + "\""
    }

    public func append(_ events: [AlertEvent]) throws {
        guard !events.isEmpty else { return }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let text = events.map { Self.line($0, format: format) + "\n" }.joined()
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileSourceError("cannot open alert log \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSourceError("cannot write alert log \(path): \(String(cString: strerror(errno)))")
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

    public func document(_ events: [AlertEvent]) -> JSONValue {
        var top: [(String, JSONValue)] = [
            ("version", .string("https://jsonfeed.org/version/1.1")),
            ("title", .string(title)),
        ]
        if let homeURL { top.append(("home_page_url", .string(homeURL))) }
        top.append(("description", .string("Third-party scripts, tags and frames raised and resolved by tagwatch.")))
        top.append(("items", .array(events.map(item))))
        return .object(top)
    }

    func item(_ e: AlertEvent) -> JSONValue {
        let a = e.alert
        let who = a.vendor.map { "\($0.name) (\($0.company))" } ?? a.subject
        let verb = e.event == .raised ? "" : "Resolved: "
        let title = "\(verb)\(FeedWords.kind(a.kind)): \(who) on \(a.page)"
        var text = e.event == .raised ? a.message : "No longer true: \(a.message)"
        text += " [severity \(a.severity.rawValue), alert \(a.id)]"
        var fields: [(String, JSONValue)] = [
            ("id", .string("\(a.id)/\(e.seq)")),
            ("title", .string(title)),
            ("content_text", .string(text)),
            ("date_published", .string(e.at)),
        ]
        if Config.isHTTPURL(a.page) { fields.append(("external_url", .string(a.page))) }
        fields.append(("tags", .array([.string(a.kind.rawValue), .string(a.severity.rawValue), .string(e.event.rawValue)])))
        fields.append(("_tagwatch", AlertJSON.event(e)))
        return .object(fields)
    }

    public func write(_ events: [AlertEvent]) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = path + ".tmp-\(getpid())"
        let data = Data((document(events).serialized(pretty: true) + "\n").utf8)
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw FileSourceError("cannot write feed \(tmp)")
        }
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        if let mode, chmod(tmp, mode_t(mode)) != 0 {
            let msg = String(cString: strerror(errno))
            unlink(tmp)
            throw FileSourceError("cannot set the mode of feed \(tmp): \(msg)")
        }
        guard rename(tmp, path) == 0 else {
            let msg = String(cString: strerror(errno))
            unlink(tmp)
            throw FileSourceError("cannot replace feed \(path): \(msg)")
        }
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
