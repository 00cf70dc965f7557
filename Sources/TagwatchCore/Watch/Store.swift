import Foundation

/// What one cycle observed on one page, as the store records it.
public struct PageObservation: Sendable {
    /// The page's identity: the configured (or sitemap-listed) URL.
    public var page: String
    public var target: String
    public var labels: [String]
    public var report: PageReport
    public var findings: [Finding]
    /// Whether its scripts and headers are recorded (integrity: all pages, or those with its labels).
    public var integrity = true
    /// Whether it carries an integrity label (payment pages): changes there are high, headers watched.
    public var integrityLabelled = false
    /// Scripts whose vendor's changes are expected by design (recorded, not alerted).
    public var expectedChanges: Set<String> = []

    public init(page: String, target: String, labels: [String], report: PageReport, findings: [Finding]) {
        self.page = page
        self.target = target
        self.labels = labels
        self.report = report
        self.findings = findings
    }
}

/// The daemon's memory in SQLite (WAL): scans, pages, resources with first and last seen,
/// and alerts with their events. Each cycle is written in one transaction, so a process
/// killed at any moment leaves every finished scan whole.
public final class Store {
    static let schemaVersion = 4
    let db: Database

    public init(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        db = try Database(path: path)
        try db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        try migrate()
    }

    /// Schema migrations by `PRAGMA user_version`: each step runs once, in order.
    private func migrate() throws {
        let version = try db.query("PRAGMA user_version").first?.first?.int ?? 0
        if version > Self.schemaVersion {
            throw Database.Error(description: "\(db.path) was written by a newer tagwatch (schema \(version)); upgrade tagwatch")
        }
        let steps: [String] = [
            """
            CREATE TABLE scans(id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT NOT NULL,
                               pages INTEGER NOT NULL, failed INTEGER NOT NULL, resources INTEGER NOT NULL);
            CREATE TABLE pages(url TEXT PRIMARY KEY, target TEXT NOT NULL, labels TEXT NOT NULL, first_seen TEXT NOT NULL,
                               last_scan INTEGER, last_status INTEGER, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE resources(page TEXT NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL, host TEXT NOT NULL,
                               party TEXT NOT NULL, vendor_id TEXT, vendor_name TEXT, company TEXT, category TEXT,
                               tag_ids TEXT NOT NULL, integrity TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                               last_scan INTEGER NOT NULL, PRIMARY KEY(page, url, kind));
            CREATE TABLE alerts(id TEXT PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL, page TEXT NOT NULL,
                               subject TEXT NOT NULL, vendor_id TEXT, vendor_name TEXT, company TEXT, category TEXT,
                               resource_url TEXT, message TEXT NOT NULL, first_seen TEXT NOT NULL, state TEXT NOT NULL,
                               raised_at TEXT NOT NULL, resolved_at TEXT);
            CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES alerts(id),
                               event TEXT NOT NULL, at TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX alerts_state ON alerts(state);
            CREATE INDEX events_undelivered ON events(delivered) WHERE delivered = 0;
            """,
            // 2: where a resource came from when a script or container named it (issue "Follow the tags").
            """
            ALTER TABLE resources ADD COLUMN via TEXT;
            ALTER TABLE resources ADD COLUMN tag_type TEXT;
            ALTER TABLE resources ADD COLUMN tag_id TEXT;
            ALTER TABLE resources ADD COLUMN tag_consent TEXT;
            ALTER TABLE resources ADD COLUMN tag_container TEXT;
            """,
            // 3: script records and security headers (PCI DSS 6.4.3 and 11.6.1).
            """
            CREATE TABLE scripts(url TEXT PRIMARY KEY, sha384 TEXT, sha256 TEXT, size INTEGER, first_seen TEXT NOT NULL,
                                 last_changed TEXT, last_seen TEXT, last_verified TEXT, failures INTEGER NOT NULL DEFAULT 0,
                                 last_error TEXT, container_version TEXT, container_tags TEXT);
            CREATE TABLE page_scripts(page TEXT NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL, integrity TEXT, sri TEXT,
                                 via TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, last_scan INTEGER NOT NULL,
                                 PRIMARY KEY(page, url));
            CREATE TABLE page_headers(page TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, first_seen TEXT NOT NULL,
                                 last_changed TEXT NOT NULL, last_seen TEXT NOT NULL, PRIMARY KEY(page, name));
            """,
            // 4: the webhook's outbox (issue 13): one row per event to POST, kept until the receiver
            // took it; the cursor is the last event enqueued, so each event is enqueued once.
            """
            CREATE TABLE webhook_outbox(seq INTEGER PRIMARY KEY REFERENCES events(seq), attempts INTEGER NOT NULL DEFAULT 0,
                                        last_attempt TEXT, last_status INTEGER, last_error TEXT, delivered_at TEXT);
            CREATE INDEX webhook_outbox_pending ON webhook_outbox(seq) WHERE delivered_at IS NULL;
            CREATE TABLE webhook_cursor(id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
            """,
        ]
        for v in version..<steps.count {
            try db.transaction {
                try db.exec(steps[v])
                try db.exec("PRAGMA user_version = \(v + 1)")
            }
        }
    }

    /// Records one finished cycle and returns the alert events it caused.
    public func record(cycle observations: [PageObservation], started: String, finished: String,
                       unreachableAfter: Int) throws -> [AlertEvent] {
        try db.transaction {
            let failed = observations.filter { $0.report.error != nil }.count
            let resourceCount = observations.reduce(0) { $0 + $1.report.resources.count }
            try db.query("INSERT INTO scans(started, finished, pages, failed, resources) VALUES(?,?,?,?,?)",
                         [.text(started), .text(finished), .int(observations.count), .int(failed), .int(resourceCount)])
            let scanID = db.lastInsertRowID
            var current: [Finding] = []
            var covered = Set<String>()
            var scriptsSeen: [String: ScriptChange] = [:]
            for o in observations {
                let prior = try db.query("SELECT failures FROM pages WHERE url = ?", [.text(o.page)]).first?.first?.int
                let failures = o.report.error == nil ? 0 : (prior ?? 0) + 1
                try db.query("""
                    INSERT INTO pages(url, target, labels, first_seen, last_scan, last_status, last_error, failures)
                    VALUES(?,?,?,?,?,?,?,?)
                    ON CONFLICT(url) DO UPDATE SET target=excluded.target, labels=excluded.labels, last_scan=excluded.last_scan,
                        last_status=excluded.last_status, last_error=excluded.last_error, failures=excluded.failures
                    """, [.text(o.page), .text(o.target), .text(o.labels.joined(separator: ",")), .text(finished), .int(scanID),
                          o.report.status.map { .int($0) } ?? .null, .opt(o.report.error), .int(failures)])
                if o.report.error != nil {
                    // A page that could not be scanned says nothing about its other conditions; only about reachability.
                    if failures >= unreachableAfter {
                        current.append(contentsOf: o.findings.filter { $0.kind == .targetUnreachable })
                        covered.insert(o.page)
                        // Keep its other open alerts open.
                        for a in try openAlerts() where a.page == o.page && a.kind != .targetUnreachable {
                            current.append(Finding(kind: a.kind, severity: a.severity, page: a.page, vendor: a.vendor,
                                                   subject: a.subject, resourceURL: a.resourceURL, message: a.message))
                        }
                    }
                    continue
                }
                covered.insert(o.page)
                current.append(contentsOf: o.findings)
                current.append(contentsOf: try recordIntegrity(o, scanID: scanID, at: finished, unreachableAfter: unreachableAfter,
                                                               seenThisCycle: &scriptsSeen))
                for r in o.report.resources {
                    try db.query("""
                        INSERT INTO resources(page, url, kind, host, party, vendor_id, vendor_name, company, category, tag_ids,
                                              integrity, first_seen, last_seen, last_scan, via, tag_type, tag_id, tag_consent,
                                              tag_container)
                        VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                        ON CONFLICT(page, url, kind) DO UPDATE SET host=excluded.host, party=excluded.party,
                            vendor_id=excluded.vendor_id, vendor_name=excluded.vendor_name, company=excluded.company,
                            category=excluded.category, tag_ids=excluded.tag_ids, integrity=excluded.integrity,
                            last_seen=excluded.last_seen, last_scan=excluded.last_scan, via=excluded.via,
                            tag_type=excluded.tag_type, tag_id=excluded.tag_id, tag_consent=excluded.tag_consent,
                            tag_container=excluded.tag_container
                        """, [.text(o.page), .text(r.url), .text(r.kind.rawValue), .text(r.host), .text(r.party.rawValue),
                              .opt(r.vendor?.id), .opt(r.vendor?.name), .opt(r.vendor?.company), .opt(r.vendor?.category),
                              .text(r.tagIDs.joined(separator: " ")), .opt(r.integrity), .text(finished), .text(finished),
                              .int(scanID), .opt(r.via), .opt(r.tag?.type), .opt(r.tag?.id),
                              .opt(r.tag.map { $0.consent.joined(separator: " ") }), .opt(r.tag?.container)])
                }
            }
            let (raise, resolve) = Differ.diff(open: try openAlerts(), current: current, covered: covered)
            var events: [AlertEvent] = []
            for f in raise {
                var a = Alert(finding: f, at: finished)
                if let firstSeen = try db.query("SELECT first_seen FROM alerts WHERE id = ?", [.text(a.id)]).first?.first?.string {
                    a.firstSeen = firstSeen
                }
                try db.query("""
                    INSERT INTO alerts(id, kind, severity, page, subject, vendor_id, vendor_name, company, category,
                                       resource_url, message, first_seen, state, raised_at, resolved_at)
                    VALUES(?,?,?,?,?,?,?,?,?,?,?,?,'open',?,NULL)
                    ON CONFLICT(id) DO UPDATE SET severity=excluded.severity, message=excluded.message,
                        resource_url=excluded.resource_url, state='open', raised_at=excluded.raised_at, resolved_at=NULL
                    """, [.text(a.id), .text(a.kind.rawValue), .text(a.severity.rawValue), .text(a.page), .text(a.subject),
                          .opt(a.vendor?.id), .opt(a.vendor?.name), .opt(a.vendor?.company), .opt(a.vendor?.category),
                          .opt(a.resourceURL), .text(a.message), .text(a.firstSeen), .text(finished)])
                try db.query("INSERT INTO events(alert_id, event, at) VALUES(?, 'raised', ?)", [.text(a.id), .text(finished)])
                events.append(AlertEvent(seq: db.lastInsertRowID, event: .raised, at: finished, alert: a))
            }
            for var a in resolve {
                try db.query("UPDATE alerts SET state='resolved', resolved_at=? WHERE id=?", [.text(finished), .text(a.id)])
                try db.query("INSERT INTO events(alert_id, event, at) VALUES(?, 'resolved', ?)", [.text(a.id), .text(finished)])
                a.state = .resolved
                a.resolvedAt = finished
                events.append(AlertEvent(seq: db.lastInsertRowID, event: .resolved, at: finished, alert: a))
            }
            return events
        }
    }

    static let alertColumns = "id, kind, severity, page, subject, vendor_id, vendor_name, company, category, resource_url, message, first_seen, state, raised_at, resolved_at"

    static func alert(_ r: [Database.Value], offset o: Int = 0) -> Alert {
        let vendor = r[o + 5].string.map {
            VendorRef(id: $0, name: r[o + 6].string ?? $0, company: r[o + 7].string ?? "", category: r[o + 8].string ?? "")
        }
        return Alert(id: r[o].string!, kind: FindingKind(rawValue: r[o + 1].string!) ?? .unknownThirdParty,
                     severity: Severity(rawValue: r[o + 2].string!) ?? .medium, page: r[o + 3].string!, subject: r[o + 4].string!,
                     vendor: vendor, resourceURL: r[o + 9].string, message: r[o + 10].string!, firstSeen: r[o + 11].string!,
                     state: Alert.State(rawValue: r[o + 12].string!) ?? .open, raisedAt: r[o + 13].string!, resolvedAt: r[o + 14].string)
    }

    public func openAlerts() throws -> [Alert] {
        try db.query("SELECT \(Self.alertColumns) FROM alerts WHERE state='open' ORDER BY raised_at, id").map { Self.alert($0) }
    }

    public func alerts(openOnly: Bool) throws -> [Alert] {
        if openOnly { return try openAlerts() }
        return try db.query("SELECT \(Self.alertColumns) FROM alerts ORDER BY raised_at, id").map { Self.alert($0) }
    }

    /// Events not yet written to the log and feed (left over when a process died in between).
    public func undeliveredEvents() throws -> [AlertEvent] {
        try events(where: "e.delivered = 0", order: "ASC", limit: -1)
    }

    public func markDelivered(upTo seq: Int) throws {
        try db.query("UPDATE events SET delivered = 1 WHERE delivered = 0 AND seq <= ?", [.int(seq)])
    }

    /// The newest `limit` events, newest first, for the feed.
    public func recentEvents(limit: Int) throws -> [AlertEvent] {
        try events(where: "1", order: "DESC", limit: limit)
    }

    func events(where condition: String, order: String, limit: Int) throws -> [AlertEvent] {
        let cols = Self.alertColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        return try db.query("""
            SELECT e.seq, e.event, e.at, \(cols) FROM events e JOIN alerts a ON a.id = e.alert_id
            WHERE \(condition) ORDER BY e.seq \(order) LIMIT ?
            """, [.int(limit)]).map { r in
            var a = Self.alert(r, offset: 3)
            let ev = AlertEvent.Event(rawValue: r[1].string!) ?? .raised
            // The event shows the alert as it was at that event.
            a.state = ev == .raised ? .open : .resolved
            if ev == .raised { a.resolvedAt = nil; a.raisedAt = r[2].string! } else { a.resolvedAt = r[2].string! }
            return AlertEvent(seq: r[0].int!, event: ev, at: r[2].string!, alert: a)
        }
    }

    /// One row of the inventory: a resource seen on a page.
    public struct InventoryRow: Sendable {
        public var page, url, kind, host, party: String
        public var vendor: VendorRef?
        public var tagIDs: [String]
        public var integrity: String?
        public var firstSeen, lastSeen: String
        /// Whether the page's latest successful scan still saw it.
        public var current: Bool
        /// The script or container that named it, and the container tag it came from.
        public var via: String?
        public var tag: TagRef?
    }

    public func inventory() throws -> [InventoryRow] {
        try db.query("""
            SELECT r.page, r.url, r.kind, r.host, r.party, r.vendor_id, r.vendor_name, r.company, r.category, r.tag_ids,
                   r.integrity, r.first_seen, r.last_seen,
                   r.last_scan = (SELECT MAX(r2.last_scan) FROM resources r2 WHERE r2.page = r.page),
                   r.via, r.tag_type, r.tag_id, r.tag_consent, r.tag_container
            FROM resources r ORDER BY r.page, r.party DESC, r.host, r.url
            """).map { r in
            InventoryRow(page: r[0].string!, url: r[1].string!, kind: r[2].string!, host: r[3].string!, party: r[4].string!,
                         vendor: r[5].string.map { VendorRef(id: $0, name: r[6].string ?? $0, company: r[7].string ?? "", category: r[8].string ?? "") },
                         tagIDs: (r[9].string ?? "").split(separator: " ").map(String.init), integrity: r[10].string,
                         firstSeen: r[11].string!, lastSeen: r[12].string!, current: r[13].int == 1, via: r[14].string,
                         tag: r[15].string.map { TagRef(type: $0, id: r[16].string,
                                                        consent: (r[17].string ?? "").split(separator: " ").map(String.init),
                                                        container: r[18].string) })
        }
    }

    public struct ScanSummary: Sendable {
        public var id: Int
        public var started, finished: String
        public var pages, failed, resources: Int
    }

    public func lastScan() throws -> ScanSummary? {
        try db.query("SELECT id, started, finished, pages, failed, resources FROM scans ORDER BY id DESC LIMIT 1").first.map {
            ScanSummary(id: $0[0].int!, started: $0[1].string!, finished: $0[2].string!, pages: $0[3].int!, failed: $0[4].int!, resources: $0[5].int!)
        }
    }

    public func scanCount() throws -> Int {
        try db.query("SELECT COUNT(*) FROM scans").first?.first?.int ?? 0
    }
}
