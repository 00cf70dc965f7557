import Foundation

/// A condition worth a person's attention, tracked from when it is raised until it is resolved.
/// Grouped by default: one alert per (kind, subject) across the pages it holds on.
public struct Alert: Sendable, Equatable {
    /// `merged`: replaced by an alert of another grouping (after `alerts.group_by` changed, or an upgrade).
    public enum State: String, Sendable { case open, resolved, merged }
    /// Stable: derived from the condition (kind and subject, plus the page for per-page alerts), so it survives restarts.
    public var id: String
    public var kind: FindingKind
    public var severity: Severity
    /// The first of its pages (the page, for a per-page alert).
    public var page: String
    public var subject: String
    public var vendor: VendorRef?
    public var resourceURL: String?
    public var message: String
    public var firstSeen: String
    public var state: State
    public var raisedAt: String
    public var resolvedAt: String?
    /// How many pages it holds on, and the first of them (at most `Alert.sampleSize`, sorted); the state has them all.
    public var pageCount: Int = 1
    public var pages: [String] = []
    /// The message with its pages left as `Finding.placeholder`.
    public var template: String = ""
    public var grouping: AlertGrouping = .page
    public var mergedInto: String?

    public static let sampleSize = 10

    public static func id(forKey key: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        let hex = String(h, radix: 16)
        return "tw-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(finding f: Finding, at time: String) {
        self.init(finding: f, pages: [f.page], grouping: .page, at: time)
    }

    /// An alert for `finding`'s condition holding on `pages` (all of them).
    public init(finding f: Finding, pages all: [String], grouping: AlertGrouping, at time: String) {
        let sorted = all.sorted()
        id = Alert.id(forKey: f.alertKey(grouping))
        kind = f.kind
        severity = f.severity
        page = sorted.first ?? f.page
        subject = f.subject
        vendor = f.vendor
        resourceURL = f.resourceURL
        template = f.template
        self.grouping = f.isPageScope ? .page : grouping
        pageCount = sorted.count
        pages = Array(sorted.prefix(Alert.sampleSize))
        message = Alert.say(f.template, pages: pages, count: pageCount)
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
        self.pages = [page]
        self.template = message
    }

    /// Says where: the page itself, or "1,000 pages (a, b, c and 997 more)".
    public static func place(pages sample: [String], count: Int) -> String {
        guard count > 1 else { return sample.first ?? "no page" }
        let shown = sample.prefix(3)
        let more = count - shown.count
        return "\(thousands(count)) pages (\(shown.joined(separator: ", "))\(more > 0 ? " and \(more) more" : ""))"
    }

    /// 3093 -> "3,093".
    public static func thousands(_ n: Int) -> String {
        var digits = Array(String(n))
        var i = digits.count - 3
        while i > 0 && digits[i - 1] != "-" { digits.insert(",", at: i); i -= 3 }
        return String(digits)
    }

    /// The message for these pages; a template that does not name its page (a finding written
    /// without one) gets where it holds appended when that is more than one page.
    static func say(_ template: String, pages: [String], count: Int) -> String {
        guard template.contains(Finding.placeholder) else {
            return count > 1 ? template + " Seen on \(place(pages: pages, count: count))." : template
        }
        return template.replacingOccurrences(of: Finding.placeholder, with: place(pages: pages, count: count))
    }

    /// Sets the pages it holds on (all of them) and rewrites its message to match.
    public mutating func hold(on all: [String]) {
        let sorted = all.sorted()
        pageCount = sorted.count
        pages = Array(sorted.prefix(Alert.sampleSize))
        page = sorted.first ?? page
        message = Alert.say(template, pages: pages, count: pageCount)
    }
}

/// One line of the alert log and one item of the feed: an alert raised, updated (its spread
/// grew past the threshold) or resolved.
public struct AlertEvent: Sendable, Equatable {
    public enum Event: String, Sendable { case raised, updated, resolved }
    public var seq: Int
    public var event: Event
    public var at: String
    public var alert: Alert
}

/// What changed between the open alerts and this cycle's findings.
public struct AlertDiff: Sendable {
    /// A new alert: the finding that stands for it (with the group's worst severity) and all its pages.
    public struct Raise: Sendable {
        public var finding: Finding
        /// Its pages by ordinal, turned into sorted URLs only when asked: a cycle's new alerts
        /// on 100,000 pages each are not all spelled out at once.
        let ordinals: Set<Int32>
        let pageOf: [String]
        /// All its pages, sorted.
        public var pages: [String] { ordinals.map { pageOf[Int($0)] }.sorted() }
    }
    /// An open alert whose pages changed (pages joined or left), still holding on some.
    public struct Change: Sendable {
        public var alert: Alert
        public var pages: [String]
    }
    public var raise: [Raise] = []
    public var change: [Change] = []
    public var resolve: [Alert] = []
}

/// Holds this cycle's findings against the open alerts: what starts, what spreads or shrinks, what ends.
public enum Differ {
    /// This cycle's findings folded into the alerts they make, as they arrive: a cycle written in
    /// batches keeps one entry per alert and a 4-byte page ordinal per (alert, page), not every
    /// finding (a set of URLs per alert was 25 MB at 100,000 pages; heaptrack).
    public struct Groups {
        public let grouping: AlertGrouping
        var order: [String] = []
        var groups: [String: (finding: Finding, pages: Set<Int32>)] = [:]
        /// Every page interned, by ordinal, and each page's ordinal.
        private(set) var pageOf: [String] = []
        private(set) var ordinals: [String: Int32] = [:]

        public init(grouping: AlertGrouping) { self.grouping = grouping }

        /// The page's ordinal, given one on first sight.
        @discardableResult
        mutating func intern(_ page: String) -> Int32 {
            if let n = ordinals[page] { return n }
            let n = Int32(pageOf.count)
            pageOf.append(page)
            ordinals[page] = n
            return n
        }

        /// The cycle's own copy of `page` when it has seen it (so a URL read back from the state
        /// is not held twice), else `page`.
        func shared(_ page: String) -> String {
            ordinals[page].map { pageOf[Int($0)] } ?? page
        }

        /// Adds one finding. The group is changed in place: a copy taken out and put back made
        /// every finding copy its alert's page set, quadratic on a 100,000-page site.
        public mutating func add(_ f: Finding) {
            let id = Alert.id(forKey: f.alertKey(grouping))
            let page = intern(f.page)
            if groups[id] != nil {
                groups[id]!.pages.insert(page)
                if f.severity > groups[id]!.finding.severity { groups[id]!.finding.severity = f.severity }
            } else {
                order.append(id)
                groups[id] = (f, [page])
            }
        }

        public mutating func add(contentsOf findings: some Sequence<Finding>) {
            for f in findings { add(f) }
        }
    }

    /// `open`: each open alert with all the pages it holds on. `covered(kind, page)`: whether this
    /// cycle observed that condition on that page (scanned it, or counted it failed); a page not
    /// covered keeps its place in its alerts.
    public static func diff(open: [(alert: Alert, pages: [String])], current: [Finding], grouping: AlertGrouping,
                            covered: (FindingKind, String) -> Bool) -> AlertDiff {
        var groups = Groups(grouping: grouping)
        groups.add(contentsOf: current)
        return diff(open: open, groups: groups, covered: covered)
    }

    /// The same, with the findings already folded into `groups`.
    public static func diff(open: [(alert: Alert, pages: [String])], groups folded: Groups,
                            covered: (FindingKind, String) -> Bool) -> AlertDiff {
        var groups = folded.groups
        var diff = AlertDiff()
        for (alert, pages) in open {
            var kept = pages.filter { !covered(alert.kind, $0) }
            if let g = groups.removeValue(forKey: alert.id) {
                let keptSet = Set(kept)
                kept += g.pages.lazy.map { folded.pageOf[Int($0)] }.filter { !keptSet.contains($0) }
            }
            if kept.isEmpty {
                diff.resolve.append(alert)
            } else if kept.count != pages.count || Set(kept) != Set(pages) {
                diff.change.append(AlertDiff.Change(alert: alert, pages: kept.sorted()))
            }
        }
        for id in folded.order {
            guard let g = groups[id] else { continue }
            diff.raise.append(AlertDiff.Raise(finding: g.finding, ordinals: g.pages, pageOf: folded.pageOf))
        }
        return diff
    }
}

/// ISO 8601 UTC timestamps with seconds, as every output uses.
public enum Timestamp {
    public static func now() -> String { string(Date()) }
    public static func string(_ d: Date) -> String {
        // From 1970 to 9999, gmtime's proleptic Gregorian UTC fields are the Gregorian calendar's:
        // no Calendar and TimeZone to build (and ICU's zone data to load) for every timestamp.
        if let fields = utcFields(d) {
            var s = ""
            s.reserveCapacity(20)
            func two(_ n: Int32) {
                s.unicodeScalars.append(Unicode.Scalar(UInt8(48 + n / 10)))
                s.unicodeScalars.append(Unicode.Scalar(UInt8(48 + n % 10)))
            }
            let year = fields.tm_year + 1900
            two(year / 100)
            two(year % 100)
            s += "-"
            two(fields.tm_mon + 1)
            s += "-"
            two(fields.tm_mday)
            s += "T"
            two(fields.tm_hour)
            s += ":"
            two(fields.tm_min)
            s += ":"
            two(fields.tm_sec)
            s += "Z"
            return s
        }
        return calendarString(d)
    }

    /// `d`'s UTC fields from gmtime, for 1970-9999 (where they are the Gregorian calendar's), else nil.
    static func utcFields(_ d: Date) -> tm? {
        let t = d.timeIntervalSince1970
        guard t >= 0, t < 253_402_300_800 else { return nil }
        var seconds = time_t(t.rounded(.down))
        var fields = tm()
        return gmtime_r(&seconds, &fields) != nil ? fields : nil
    }

    /// The Gregorian calendar's reading of `d` in UTC (the fast path above covers 1970-9999).
    static func calendarString(_ d: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }
}
