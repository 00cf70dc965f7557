import Foundation

/// A condition worth a person's attention, tracked from when it is raised until it is resolved.
public struct Alert: Sendable, Equatable {
    public enum State: String, Sendable { case open, resolved }
    /// Stable: derived from the condition (kind, page, vendor or host), so it survives restarts.
    public var id: String
    public var kind: FindingKind
    public var severity: Severity
    public var page: String
    public var subject: String
    public var vendor: VendorRef?
    public var resourceURL: String?
    public var message: String
    public var firstSeen: String
    public var state: State
    public var raisedAt: String
    public var resolvedAt: String?

    public static func id(forKey key: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        let hex = String(h, radix: 16)
        return "tw-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(finding f: Finding, at time: String) {
        id = Alert.id(forKey: f.key)
        kind = f.kind
        severity = f.severity
        page = f.page
        subject = f.subject
        vendor = f.vendor
        resourceURL = f.resourceURL
        message = f.message
        firstSeen = time
        state = .open
        raisedAt = time
        resolvedAt = nil
    }

    public init(id: String, kind: FindingKind, severity: Severity, page: String, subject: String, vendor: VendorRef?,
                resourceURL: String?, message: String, firstSeen: String, state: State, raisedAt: String, resolvedAt: String?) {
        self.id = id
        self.kind = kind
        self.severity = severity
        self.page = page
        self.subject = subject
        self.vendor = vendor
        self.resourceURL = resourceURL
        self.message = message
        self.firstSeen = firstSeen
        self.state = state
        self.raisedAt = raisedAt
        self.resolvedAt = resolvedAt
    }
}

/// One line of the alert log and one item of the feed: an alert raised or resolved.
public struct AlertEvent: Sendable, Equatable {
    public enum Event: String, Sendable { case raised, resolved }
    public var seq: Int
    public var event: Event
    public var at: String
    public var alert: Alert
}

/// Holds this cycle's findings against the open alerts: what starts, what ends.
public enum Differ {
    /// `covered`: pages whose condition this cycle observed (scanned, or failed and counted);
    /// open alerts of other pages are left alone.
    public static func diff(open: [Alert], current: [Finding], covered: Set<String>) -> (raise: [Finding], resolve: [Alert]) {
        let openIDs = Set(open.map(\.id))
        var raise: [Finding] = []
        var currentIDs = Set<String>()
        for f in current {
            let id = Alert.id(forKey: f.key)
            guard currentIDs.insert(id).inserted else { continue }
            if !openIDs.contains(id) { raise.append(f) }
        }
        let resolve = open.filter { covered.contains($0.page) && !currentIDs.contains($0.id) }
        return (raise, resolve)
    }
}

/// ISO 8601 UTC timestamps with seconds, as every output uses.
public enum Timestamp {
    public static func now() -> String { string(Date()) }
    public static func string(_ d: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}
