import Foundation
import Synchronization

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
    static let schemaVersion = 9
    /// The page size of a state created now (`PRAGMA page_size`; an existing state keeps its own).
    static let pageSize = 16384
    let db: Database
    /// How findings become alerts (`alerts.group_by`); the state remembers each alert's own.
    public var grouping: AlertGrouping
    /// `AnalysisFingerprint` of this cycle's catalog, first-party domains and binary: stored page
    /// observations and script analyses are written with it and reused only under the same one.
    public var fingerprint = ""

    public init(path: String, grouping: AlertGrouping = .vendor) throws {
        self.grouping = grouping
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        db = try Database(path: path)
        // A new state is made of 16 KiB pages (SQLite's default is 4 KiB; this says nothing to a
        // state that exists, which keeps its size). A first cycle writes ~27 MB for 1,000 pages,
        // twice (the WAL, then the checkpoint's copy), one system call per page; a page's stored
        // report (~10 KB) fits in one page instead of a chain of three. A first cycle's commit and
        // checkpoint cost a third less CPU, a steady-state cycle's the same (round4-first.md).
        try db.exec("PRAGMA page_size=\(Self.pageSize)")
        try db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        try migrate()
        // Per-sink delivery progress, so a sink that failed gets each event exactly once when it
        // works again while the others are not written twice. Outside the numbered migrations:
        // it only adds a table, which older versions ignore.
        try db.exec("CREATE TABLE IF NOT EXISTS sink_progress(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
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
            // 4: alerts grouped across pages (issue 11). Each existing alert keeps its id and is a per-page
            // alert holding on its one page; a cycle with `group_by: vendor` merges the open ones into
            // their (kind, subject) alert. Events remember the message and pages as they were then.
            """
            ALTER TABLE alerts ADD COLUMN page_count INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE alerts ADD COLUMN template TEXT;
            ALTER TABLE alerts ADD COLUMN grouping TEXT NOT NULL DEFAULT 'page';
            ALTER TABLE alerts ADD COLUMN merged_into TEXT;
            UPDATE alerts SET template = replace(message, page, char(1) || 'pages' || char(1));
            CREATE TABLE alert_pages(alert_id TEXT NOT NULL REFERENCES alerts(id), page TEXT NOT NULL,
                                     first_seen TEXT NOT NULL, PRIMARY KEY(alert_id, page)) WITHOUT ROWID;
            INSERT INTO alert_pages(alert_id, page, first_seen) SELECT id, page, first_seen FROM alerts;
            ALTER TABLE events ADD COLUMN message TEXT;
            ALTER TABLE events ADD COLUMN page_count INTEGER;
            ALTER TABLE events ADD COLUMN pages TEXT;
            ALTER TABLE scans ADD COLUMN open_alerts INTEGER;
            CREATE TABLE scan_vendors(scan_id INTEGER NOT NULL REFERENCES scans(id), vendor_id TEXT NOT NULL,
                                      pages INTEGER NOT NULL, PRIMARY KEY(scan_id, vendor_id)) WITHOUT ROWID;
            """,
            // 5: the webhook's outbox (issue 13): one row per event to POST, kept until the receiver
            // took it; the cursor is the last event enqueued, so each event is enqueued once.
            """
            CREATE TABLE webhook_outbox(seq INTEGER PRIMARY KEY REFERENCES events(seq), attempts INTEGER NOT NULL DEFAULT 0,
                                        last_attempt TEXT, last_status INTEGER, last_error TEXT, delivered_at TEXT);
            CREATE INDEX webhook_outbox_pending ON webhook_outbox(seq) WHERE delivered_at IS NULL;
            CREATE TABLE webhook_cursor(id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
            """,
            // 6: unchanged pages nearly free (issue 12): each page's validators, body hash and last
            // observation (a JSON PageReport without findings), reused when the server answers 304
            // or sends the same bytes.
            """
            CREATE TABLE page_cache(page TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, body_sha256 TEXT NOT NULL,
                                    report BLOB NOT NULL);
            """,
            // 7: followed scripts fetched conditionally (issue 12): each script's validators, body hash
            // and analysis (`ScriptAnalysis.encoded`), reused on a 304 or the same bytes. Both caches
            // carry the fingerprint of the catalog, first-party domains and binary they were computed
            // with; page_cache rows from step 6 have none, so each such page is scanned whole once more
            // (their resources' vendors came from a catalog nobody recorded) and stored again.
            // The feed asks, for each item, which scripts loaded its vendor or host (`via(of:)`): without
            // an index that was a scan of all resources per item, most of the steady-state profile once
            // the rest was cheap; partial, so only resources a script or container named are indexed.
            """
            CREATE TABLE script_cache(url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, body_sha256 TEXT NOT NULL,
                                      analysis BLOB NOT NULL, fingerprint TEXT NOT NULL);
            ALTER TABLE page_cache ADD COLUMN fingerprint TEXT;
            CREATE INDEX resources_vendor_via ON resources(vendor_id, via) WHERE via IS NOT NULL AND via != '';
            CREATE INDEX resources_host_via ON resources(host, via) WHERE via IS NOT NULL AND via != '';
            """,
            // 8: an unchanged page seen again in one row (issue 12). Marking its ~38 resource rows seen
            // (rewriting each row whole) was a fifth of a steady-state cycle. Now `resources_seen` and
            // `resources_scan` say when a later cycle found the page unchanged: its current resources
            // (those of its latest `last_scan`) were seen then. They are written into the rows when the
            // page next changes, and `resources` is read through `StoreQueries.seenSQL`.
            """
            ALTER TABLE pages ADD COLUMN resources_seen TEXT;
            ALTER TABLE pages ADD COLUMN resources_scan INTEGER;
            """,
            // 9: the same for an unchanged page's script rows (issue 12): upserting its ~9
            // page_scripts rows was a quarter of the collecting thread in a steady-state cycle.
            // `scripts_digest` is the digest of the page_scripts rows the page's last write of them
            // upserted (`Store.pageScriptsDigest`; NULL: not known). When an unchanged page would
            // upsert rows of the same digest, `scripts_seen` and `scripts_scan` say when instead:
            // its current rows (those of its latest `last_scan`) were seen then. They are written
            // into the rows before the rows are written again. Rows of states from step 8 have
            // neither (NULL), so they read as before and are written once more, with a digest.
            """
            ALTER TABLE pages ADD COLUMN scripts_digest BLOB;
            ALTER TABLE pages ADD COLUMN scripts_seen TEXT;
            ALTER TABLE pages ADD COLUMN scripts_scan INTEGER;
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
    /// `scriptCache`: followed scripts fetched whole this cycle whose bytes or validators changed.
    public func record(cycle observations: [PageObservation], started: String, finished: String,
                       unreachableAfter: Int, scriptCache: [ScriptCacheEntry] = []) throws -> [AlertEvent] {
        let recorder = CycleRecorder(store: self, started: started, unreachableAfter: unreachableAfter)
        try recorder.add(observations, at: finished)
        return try recorder.finish(finished: finished, scriptCache: scriptCache)
    }

    /// Writes a batch of a cycle's pages (in the transaction `recorder` holds) and folds what
    /// the alerts need into it.
    func write(_ observations: [PageObservation], into c: CycleRecorder, scanID: Int, at time: String) throws {
        for o in observations { try write(o, storedForm: Self.storedForm(o), into: c, scanID: scanID, at: time) }
    }

    /// Writes one page of a cycle (in the transaction `recorder` holds) and folds what the alerts
    /// need into it. `storedForm`: its `storedForm(_:)`, which a cycle encodes as the page's
    /// report comes in. Pages are written in the order they are listed, one at a time, so a
    /// cycle writes each page while the next ones are still being scanned.
    func write(_ o: PageObservation, storedForm: String?, into c: CycleRecorder, scanID: Int, at time: String) throws {
        // What the state held for the page (a page listed twice sees its first row, as the table has it).
        var prior: Int?
        var seenSinceWritten = false
        var scriptRows = PageScriptsState()
        try db.forEach("SELECT failures, resources_scan IS NOT NULL, scripts_digest, scripts_seen, scripts_scan FROM pages WHERE url = ?",
                       [.text(o.page)]) { r in
            prior = r[0].int
            seenSinceWritten = r[1].int == 1
            scriptRows = PageScriptsState(digest: r[2].bytes, seen: r[3].string, scan: r[4].int)
        }
        let failures = o.report.error == nil ? 0 : (prior ?? 0) + 1
        c.pages += 1
        c.resources += o.report.resources.count
        // An unchanged page the state holds is written below in one statement with its sightings.
        let seenAgain = o.report.unchanged && o.report.error == nil && prior != nil
        if !seenAgain {
            try db.query("""
                INSERT INTO pages(url, target, labels, first_seen, last_scan, last_status, last_error, failures)
                VALUES(?,?,?,?,?,?,?,?)
                ON CONFLICT(url) DO UPDATE SET target=excluded.target, labels=excluded.labels, last_scan=excluded.last_scan,
                    last_status=excluded.last_status, last_error=excluded.last_error, failures=excluded.failures
                """, [.text(o.page), .text(o.target), .text(o.labels.joined(separator: ",")), .text(time), .int(scanID),
                      o.report.status.map { .int($0) } ?? .null, .opt(o.report.error), .int(failures)])
        }
        if o.report.error != nil {
            c.failed += 1
            // A page that could not be scanned says nothing about its other conditions; only about reachability.
            if failures >= c.unreachableAfter {
                c.groups.add(contentsOf: o.findings.filter { $0.kind == .targetUnreachable })
                c.judgedUnreachable.insert(o.page)
            }
            return
        }
        // A page listed twice counts once per vendor, with its first observation's vendors.
        if c.scanned.insert(c.groups.intern(o.page)).inserted {
            var vendors = Set<String>()
            for r in o.report.resources {
                if let v = r.vendor, r.party == .third, vendors.insert(v.id).inserted { c.vendorPages[v.id, default: 0] += 1 }
            }
        }
        c.groups.add(contentsOf: o.findings)
        if o.report.unchanged {
            // Nothing was parsed, and following found what the last scan found: the
            // resources are only seen again; scripts and headers are recorded as always
            // (their failures count, and their findings are this cycle's), but the page's
            // script rows are only seen again when they would be written as they are.
            var rows = PageScriptRows.write(materialize: nil)
            var scripts = scriptRows
            if o.integrity && !o.report.scripts.isEmpty {
                let digest = Self.pageScriptsDigest(o.report.scripts)
                if digest == scriptRows.digest {
                    rows = .seenAgain
                    scripts.seen = time
                    scripts.scan = scanID
                } else {
                    rows = .write(materialize: scriptRows.sighting)
                    scripts = PageScriptsState(digest: digest)
                }
            }
            let sightings: [Database.Value] = [.text(time), .int(scanID), scripts.digest.map { .blob($0) } ?? .null, .opt(scripts.seen),
                                               scripts.scan.map { .int($0) } ?? .null, .text(o.page)]
            if seenAgain {
                // What the upsert above writes for a page the state holds, and the sightings.
                try db.query("""
                    UPDATE pages SET target = ?, labels = ?, last_scan = ?, last_status = ?, last_error = NULL, failures = 0,
                        resources_seen = ?, resources_scan = ?, scripts_digest = ?, scripts_seen = ?, scripts_scan = ?
                    WHERE url = ?
                    """, [.text(o.target), .text(o.labels.joined(separator: ",")), .int(scanID),
                          o.report.status.map { .int($0) } ?? .null] + sightings)
            } else {
                try db.query("""
                    UPDATE pages SET resources_seen = ?, resources_scan = ?, scripts_digest = ?, scripts_seen = ?, scripts_scan = ?
                    WHERE url = ?
                    """, sightings)
            }
            if let v = o.report.validators {
                // Only when they changed: rewriting the row rebuilds it whole, stored report included.
                try db.query("""
                    UPDATE page_cache SET etag = ?1, last_modified = ?2
                    WHERE page = ?3 AND (etag IS NOT ?1 OR last_modified IS NOT ?2)
                    """, [.opt(v.etag), .opt(v.lastModified), .text(o.page)])
            }
            c.groups.add(contentsOf: try recordIntegrity(o, scanID: scanID, at: time, unreachableAfter: c.unreachableAfter,
                                                         seenThisCycle: &c.scriptsSeen, rows: rows))
            return
        }
        // The page changed: the rows of its current resources take the time a later cycle found it
        // unchanged (resources it no longer has keep it as their last sighting), then are upserted.
        if seenSinceWritten {
            try db.query("""
                UPDATE resources SET last_seen = p.resources_seen, last_scan = p.resources_scan
                FROM pages p WHERE p.url = ?1 AND resources.page = ?1
                  AND resources.last_scan = (SELECT MAX(last_scan) FROM resources WHERE page = ?1)
                """, [.text(o.page)])
            try db.query("UPDATE pages SET resources_seen = NULL, resources_scan = NULL WHERE url = ?", [.text(o.page)])
        }
        if let json = storedForm { try storeObservation(o.report, page: o.page, json: json) }
        // Its script rows are written as always; when `pages` holds a sighting or digest of them,
        // they take the sighting first, and the digest becomes that of the rows written now.
        var rows = PageScriptRows.write(materialize: nil)
        if o.integrity && !o.report.scripts.isEmpty && (scriptRows.digest != nil || scriptRows.scan != nil) {
            rows = .write(materialize: scriptRows.sighting)
            try db.query("UPDATE pages SET scripts_digest = ?, scripts_seen = NULL, scripts_scan = NULL WHERE url = ?",
                         [.blob(Self.pageScriptsDigest(o.report.scripts)), .text(o.page)])
        }
        c.groups.add(contentsOf: try recordIntegrity(o, scanID: scanID, at: time, unreachableAfter: c.unreachableAfter,
                                                     seenThisCycle: &c.scriptsSeen, rows: rows))
        // Up to `resourcesPerStatement` rows per statement (a page has ~40 on the shared bench
        // site): SQLite's work per statement (opening the table's and indexes' cursors, ending the
        // statement) was a fifth of a row's cost. Rows are inserted in order, each as a statement
        // of its own would be (a row repeating an earlier one of the same statement updates it).
        // Statements of 1, 2, 4 … 32 rows only: six prepared statements, not one per count.
        // Bound field by field through the array's storage: no copy of each resource, no `[Value]`.
        let page = o.page
        try o.report.resources.withUnsafeBufferPointer { rs in
            var first = 0
            while first < rs.count {
                let left = min(rs.count - first, Self.resourcesPerStatement)
                let shift = Int.bitWidth - 1 - left.leadingZeroBitCount
                let rows = first..<(first + (1 << shift))
                try db.run(Self.resourceUpserts[shift]) { b in
                    for i in rows {
                        b.text(page)
                        b.text(rs[i].url)
                        b.text(rs[i].kind.rawValue)
                        b.text(rs[i].host)
                        b.text(rs[i].party.rawValue)
                        if let v = rs[i].vendor {
                            b.text(v.id)
                            b.text(v.name)
                            b.text(v.company)
                            b.text(v.category)
                        } else {
                            b.null(); b.null(); b.null(); b.null()
                        }
                        b.text(Self.spaced(rs[i].tagIDs))
                        b.optText(rs[i].integrity)
                        b.text(time)
                        b.text(time)
                        b.int(scanID)
                        b.optText(rs[i].via)
                        if let t = rs[i].tag {
                            b.text(t.type)
                            b.optText(t.id)
                            b.text(Self.spaced(t.consent))
                            b.optText(t.container)
                        } else {
                            b.null(); b.null(); b.null(); b.null()
                        }
                    }
                }
                first = rows.upperBound
            }
        }
    }

    /// Resource rows written by one statement at most (a power of two).
    static let resourcesPerStatement = 32

    /// The upsert of 2^i resource rows at index i, up to `resourcesPerStatement`; 19 parameters a row.
    static let resourceUpserts: [String] = (0...resourcesPerStatement.trailingZeroBitCount).map { shift in
        let rows = 1 << shift
        return """
        INSERT INTO resources(page, url, kind, host, party, vendor_id, vendor_name, company, category, tag_ids,
                              integrity, first_seen, last_seen, last_scan, via, tag_type, tag_id, tag_consent,
                              tag_container)
        VALUES \(repeatElement("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", count: rows).joined(separator: ","))
        ON CONFLICT(page, url, kind) DO UPDATE SET host=excluded.host, party=excluded.party,
            vendor_id=excluded.vendor_id, vendor_name=excluded.vendor_name, company=excluded.company,
            category=excluded.category, tag_ids=excluded.tag_ids, integrity=excluded.integrity,
            last_seen=excluded.last_seen, last_scan=excluded.last_scan, via=excluded.via,
            tag_type=excluded.tag_type, tag_id=excluded.tag_id, tag_consent=excluded.tag_consent,
            tag_container=excluded.tag_container
        """
    }

    /// `words.joined(separator: " ")`, without building a new string for none or one.
    static func spaced(_ words: [String]) -> String {
        switch words.count {
        case 0: return ""
        case 1: return words[0]
        default: return words.joined(separator: " ")
        }
    }

    /// Ends a cycle written in batches: the scan's totals and vendors, then this cycle's alerts
    /// against the open ones. Pages read back from the state are the cycle's own strings when
    /// it observed them, so an alert on 100,000 pages holds no second copy of each URL.
    func finish(_ c: CycleRecorder, scanID: Int, finished: String, scriptCache: [ScriptCacheEntry]) throws -> [AlertEvent] {
        for e in scriptCache {
            try db.query("""
                INSERT INTO script_cache(url, etag, last_modified, body_sha256, analysis, fingerprint) VALUES(?,?,?,?,?,?)
                ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified,
                    body_sha256=excluded.body_sha256, analysis=excluded.analysis, fingerprint=excluded.fingerprint
                """, [.text(e.url), .opt(e.stored.etag), .opt(e.stored.lastModified), .text(e.stored.bodySHA256),
                      .blob(e.stored.analysis), .text(fingerprint)])
        }
        try db.query("UPDATE scans SET finished = ?, pages = ?, failed = ?, resources = ? WHERE id = ?",
                     [.text(finished), .int(c.pages), .int(c.failed), .int(c.resources), .int(scanID)])
        for (vendor, pages) in c.vendorPages {
            try db.query("INSERT INTO scan_vendors(scan_id, vendor_id, pages) VALUES(?,?,?)",
                         [.int(scanID), .text(vendor), .int(pages)])
        }
        var events = try regroup(at: finished)
        let scanned = c.scanned, judgedUnreachable = c.judgedUnreachable, groups = c.groups
        let diff = Differ.diff(open: try openAlertsWithPages(interning: groups), groups: groups) { kind, page in
            return groups.ordinals[page].map { scanned.contains($0) } == true
                || (kind == .targetUnreachable && judgedUnreachable.contains(page))
        }
        let grouping = groups.grouping
        for r in diff.raise {
            let pages = r.pages
            var a = Alert(finding: r.finding, pages: pages, grouping: grouping, at: finished)
            if let firstSeen = try db.query("SELECT first_seen FROM alerts WHERE id = ?", [.text(a.id)]).first?.first?.string {
                a.firstSeen = firstSeen
            }
            try upsertOpen(a, at: finished)
            try db.query("DELETE FROM alert_pages WHERE alert_id = ?", [.text(a.id)])
            try addPages(pages, to: a.id, at: finished)
            events.append(try event(.raised, a, at: finished))
        }
        for ch in diff.change {
            var a = ch.alert
            let before = Set(try pages(of: a.id))
            a.hold(on: ch.pages)
            try db.query("UPDATE alerts SET page = ?, page_count = ?, message = ? WHERE id = ?",
                         [.text(a.page), .int(a.pageCount), .text(a.message), .text(a.id)])
            let now = Set(ch.pages)
            for gone in before.subtracting(now) {
                try db.query("DELETE FROM alert_pages WHERE alert_id = ? AND page = ?", [.text(a.id), .text(gone)])
            }
            try addPages(ch.pages.filter { !before.contains($0) }, to: a.id, at: finished)
            // The feed hears of a spread only when it has doubled since it last said how far it reached.
            let told = try db.query("""
                SELECT page_count FROM events WHERE alert_id = ? AND event IN ('raised', 'updated') ORDER BY seq DESC LIMIT 1
                """, [.text(a.id)]).first?.first?.int ?? 1
            if a.pageCount >= 2 * told { events.append(try event(.updated, a, at: finished)) }
        }
        for var a in diff.resolve {
            try db.query("UPDATE alerts SET state='resolved', resolved_at=? WHERE id=?", [.text(finished), .text(a.id)])
            a.state = .resolved
            a.resolvedAt = finished
            events.append(try event(.resolved, a, at: finished))
        }
        let open = try db.query("SELECT COUNT(*) FROM alerts WHERE state = 'open'").first?.first?.int ?? 0
        try db.query("UPDATE scans SET open_alerts = ? WHERE id = ?", [.int(open), .int(scanID)])
        return events
    }

    /// A JSON array of strings, for `json_each(?)`: one bound parameter for a batch of keys.
    static func jsonArray(_ values: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), as: UTF8.self)
    }

    private func upsertOpen(_ a: Alert, at time: String) throws {
        try db.query("""
            INSERT INTO alerts(id, kind, severity, page, subject, vendor_id, vendor_name, company, category,
                               resource_url, message, first_seen, state, raised_at, resolved_at, page_count, template, grouping,
                               merged_into)
            VALUES(?,?,?,?,?,?,?,?,?,?,?,?,'open',?,NULL,?,?,?,NULL)
            ON CONFLICT(id) DO UPDATE SET severity=excluded.severity, message=excluded.message, page=excluded.page,
                resource_url=excluded.resource_url, state='open', raised_at=excluded.raised_at, resolved_at=NULL,
                page_count=excluded.page_count, template=excluded.template, grouping=excluded.grouping, merged_into=NULL,
                vendor_id=excluded.vendor_id, vendor_name=excluded.vendor_name, company=excluded.company, category=excluded.category
            """, [.text(a.id), .text(a.kind.rawValue), .text(a.severity.rawValue), .text(a.page), .text(a.subject),
                  .opt(a.vendor?.id), .opt(a.vendor?.name), .opt(a.vendor?.company), .opt(a.vendor?.category),
                  .opt(a.resourceURL), .text(a.message), .text(a.firstSeen), .text(time), .int(a.pageCount), .text(a.template),
                  .text(a.grouping.rawValue)])
    }

    private func addPages(_ pages: [String], to id: String, at time: String) throws {
        for p in pages {
            try db.query("INSERT OR IGNORE INTO alert_pages(alert_id, page, first_seen) VALUES(?,?,?)", [.text(id), .text(p), .text(time)])
        }
    }

    /// Writes an event with the alert's message and pages as they are now, and returns it.
    private func event(_ kind: AlertEvent.Event, _ a: Alert, at time: String) throws -> AlertEvent {
        try db.query("INSERT INTO events(alert_id, event, at, message, page_count, pages) VALUES(?,?,?,?,?,?)",
                     [.text(a.id), .text(kind.rawValue), .text(time), .text(a.message), .int(a.pageCount),
                      .text(a.pages.joined(separator: "\n"))])
        return AlertEvent(seq: db.lastInsertRowID, event: kind, at: time, alert: a)
    }

    /// Open alerts of another grouping than today's (state from before alerts were grouped, or
    /// `group_by` changed) are merged into the alerts today's grouping makes of them, keeping
    /// every page: nothing open is lost, and each new alert is raised once.
    private func regroup(at time: String) throws -> [AlertEvent] {
        var labelsOf: [String: [String]] = [:]
        for r in try db.query("SELECT url, labels FROM pages WHERE labels != ''") {
            labelsOf[r[0].string!] = r[1].string!.split(separator: ",").map(String.init)
        }
        // Which open alerts are foreign is told without their pages (when no page carries a label,
        // from the alert alone); only those alerts' pages are read: reading every open alert's
        // pages here held 1.3 million URLs in the steady state of a 100,000-page site.
        var foreign: [(alert: Alert, pages: [String])] = []
        for a in try openAlerts() {
            let labelled = labelsOf.isEmpty ? false : !(try db.query("""
                SELECT 1 FROM alert_pages ap JOIN pages p ON p.url = ap.page WHERE ap.alert_id = ? AND p.labels != '' LIMIT 1
                """, [.text(a.id)]).isEmpty)
            guard a.grouping != (Finding.isPageScope(a.kind, labelled: labelled) ? .page : grouping) else { continue }
            var alert = a
            let all = try pages(of: a.id)
            let pages = all.isEmpty ? [a.page] : all
            alert.pages = Array(pages.prefix(Alert.sampleSize))
            foreign.append((alert, pages))
        }
        guard !foreign.isEmpty else { return [] }
        var order: [String] = []
        var targets: [String: (alert: Alert, pages: Set<String>, firstSeen: String)] = [:]
        for (old, pages) in foreign {
            for p in pages {
                var f = Finding(kind: old.kind, severity: old.severity, page: p, vendor: old.vendor, subject: old.subject,
                                resourceURL: old.resourceURL, message: old.message, template: old.template)
                f.pageLabels = labelsOf[p] ?? []
                let id = Alert.id(forKey: f.alertKey(grouping))
                if var t = targets[id] {
                    t.pages.insert(p)
                    if old.severity > t.alert.severity { t.alert.severity = old.severity }
                    t.firstSeen = min(t.firstSeen, old.firstSeen)
                    targets[id] = t
                } else {
                    order.append(id)
                    targets[id] = (Alert(finding: f, pages: [p], grouping: grouping, at: time), [p], old.firstSeen)
                }
            }
            var f = Finding(kind: old.kind, severity: old.severity, page: old.page, vendor: old.vendor, subject: old.subject,
                            resourceURL: nil, message: "")
            f.pageLabels = labelsOf[old.page] ?? []
            try db.query("UPDATE alerts SET state = 'merged', merged_into = ? WHERE id = ?",
                         [.text(Alert.id(forKey: f.alertKey(grouping))), .text(old.id)])
        }
        var events: [AlertEvent] = []
        let open = Dictionary(try openAlertsWithPages().map { ($0.alert.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in order {
            guard var t = targets[id] else { continue }
            if let (existing, pages) = open[id] {
                var a = existing
                a.hold(on: Array(t.pages.union(pages)))
                try db.query("UPDATE alerts SET page = ?, page_count = ?, message = ? WHERE id = ?",
                             [.text(a.page), .int(a.pageCount), .text(a.message), .text(a.id)])
                try addPages(Array(t.pages), to: id, at: time)
                continue
            }
            t.alert.hold(on: Array(t.pages))
            t.alert.firstSeen = t.firstSeen
            try upsertOpen(t.alert, at: time)
            try db.query("DELETE FROM alert_pages WHERE alert_id = ?", [.text(id)])
            try addPages(Array(t.pages), to: id, at: time)
            events.append(try event(.raised, t.alert, at: time))
        }
        return events
    }

    /// Keeps a page's validators and observation for the next cycle's conditional GET.
    private func storeObservation(_ report: PageReport, page: String, json: String) throws {
        guard let v = report.validators else { return }
        try db.query("""
            INSERT INTO page_cache(page, etag, last_modified, body_sha256, report, fingerprint) VALUES(?,?,?,?,?,?)
            ON CONFLICT(page) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified,
                body_sha256=excluded.body_sha256, report=excluded.report, fingerprint=excluded.fingerprint
            """, [.text(page), .opt(v.etag), .opt(v.lastModified), .text(v.bodySHA256), .text(json), .text(fingerprint)])
    }

    /// The stored form of a freshly scanned page's report (`StoredReportWriter`), nil when the
    /// page keeps none (no validators, unchanged, or failed).
    static func storedForm(_ o: PageObservation) -> String? {
        guard o.report.validators != nil && !o.report.unchanged && o.report.error == nil else { return nil }
        return StoredReportWriter.encode(o.report)
    }

    /// The validators of every page with an observation stored under this `fingerprint`, by page
    /// (of `pages` only, when given: a cycle asks batch by batch).
    public func pageValidators(pages: [String]? = nil) throws -> [String: PageValidators] {
        var out: [String: PageValidators] = [:]
        let row: ([Database.Value]) -> Void = { r in
            out[r[0].string!] = PageValidators(etag: r[1].string, lastModified: r[2].string, bodySHA256: r[3].string!)
        }
        if let pages {
            try db.forEach("""
                SELECT page, etag, last_modified, body_sha256 FROM page_cache
                WHERE fingerprint = ? AND page IN (SELECT value FROM json_each(?))
                """, [.text(fingerprint), .text(Self.jsonArray(pages))], row)
        } else {
            try db.forEach("SELECT page, etag, last_modified, body_sha256 FROM page_cache WHERE fingerprint = ?", [.text(fingerprint)], row)
        }
        return out
    }

    /// The last stored observation of each page asked for (what an unchanged page is taken to
    /// hold), read in one query, under this cycle's fingerprint only, and left encoded: the
    /// scanning thread that finds the page unchanged decodes it (`StoredObservation`). A copy that
    /// cannot be read then makes the page scanned whole, and the new observation replaces it.
    public func storedObservations(pages: [String]) throws -> [String: StoredObservation] {
        guard !pages.isEmpty else { return [:] }
        let wanted = Set(pages)
        var out: [String: StoredObservation] = [:]
        // Only the pages asked for: reading every stored report held them all (1.5 GB at 100,000 pages).
        try db.forEach("SELECT page, report FROM page_cache WHERE fingerprint = ? AND page IN (SELECT value FROM json_each(?))",
                       [.text(fingerprint), .text(Self.jsonArray(pages))]) { r in
            if let page = r[0].string, wanted.contains(page), let json = r[1].bytes { out[page] = StoredObservation(storedForm: json) }
        }
        return out
    }

    /// Every page an alert holds on (or last held on, once resolved), sorted.
    public func pages(of id: String) throws -> [String] {
        try db.query("SELECT page FROM alert_pages WHERE alert_id = ? ORDER BY page", [.text(id)]).compactMap { $0.first?.string }
    }

    /// An alert's pages with when each joined it.
    public func pagesWithFirstSeen(of id: String) throws -> [(page: String, firstSeen: String)] {
        try db.query("SELECT page, first_seen FROM alert_pages WHERE alert_id = ? ORDER BY page", [.text(id)]).map {
            ($0[0].string!, $0[1].string!)
        }
    }

    /// The scripts or containers that loaded an alert's vendor (or unknown host) on its pages, most used first.
    public func via(of a: Alert) throws -> [String] {
        guard a.kind != .targetUnreachable else { return [] }
        let (column, value) = a.vendor.map { ("vendor_id", $0.id) } ?? ("host", a.subject)
        return try db.query("""
            SELECT via FROM resources WHERE \(column) = ? AND via IS NOT NULL AND via != '' GROUP BY via ORDER BY COUNT(*) DESC, via LIMIT 5
            """, [.text(value)]).compactMap { $0.first?.string }
    }

    func openAlertsWithPages(interning known: Differ.Groups? = nil) throws -> [(alert: Alert, pages: [String])] {
        var byID: [String: [String]] = [:]
        // Rows are read one at a time, and a page the caller already holds is kept as its string
        // (one allocation per URL for the whole cycle, not one per alert and page).
        try db.forEach("""
            SELECT p.alert_id, p.page FROM alert_pages p JOIN alerts a ON a.id = p.alert_id WHERE a.state = 'open' ORDER BY p.page
            """) { r in
            guard let id = r[0].string, let page = r[1].string else { return }
            let shared = known?.shared(page) ?? page
            byID[id, default: []].append(shared)
        }
        return try openAlerts().map { a in
            var a = a
            let pages = byID[a.id] ?? [a.page]
            a.pages = Array(pages.prefix(Alert.sampleSize))
            return (a, pages)
        }
    }

    static let alertColumns = "id, kind, severity, page, subject, vendor_id, vendor_name, company, category, resource_url, message, first_seen, state, raised_at, resolved_at, page_count, template, grouping, merged_into"

    static func alert(_ r: [Database.Value], offset o: Int = 0) -> Alert {
        let vendor = r[o + 5].string.map {
            VendorRef(id: $0, name: r[o + 6].string ?? $0, company: r[o + 7].string ?? "", category: r[o + 8].string ?? "")
        }
        var a = Alert(id: r[o].string!, kind: FindingKind(rawValue: r[o + 1].string!) ?? .unknownThirdParty,
                     severity: Severity(rawValue: r[o + 2].string!) ?? .medium, page: r[o + 3].string!, subject: r[o + 4].string!,
                     vendor: vendor, resourceURL: r[o + 9].string, message: r[o + 10].string!, firstSeen: r[o + 11].string!,
                     state: Alert.State(rawValue: r[o + 12].string!) ?? .open, raisedAt: r[o + 13].string!, resolvedAt: r[o + 14].string)
        a.pageCount = r[o + 15].int ?? 1
        a.template = r[o + 16].string ?? a.message
        a.grouping = AlertGrouping(rawValue: r[o + 17].string ?? "page") ?? .page
        a.mergedInto = r[o + 18].string
        return a
    }

    public func openAlerts() throws -> [Alert] {
        try db.query("SELECT \(Self.alertColumns) FROM alerts WHERE state='open' ORDER BY raised_at, id").map { Self.alert($0) }
    }

    /// Alerts with a sample of their pages; merged ones (replaced by a grouped alert) only when asked for.
    public func alerts(openOnly: Bool, includeMerged: Bool = false) throws -> [Alert] {
        let condition = openOnly ? "state = 'open'" : (includeMerged ? "1" : "state != 'merged'")
        return try db.query("SELECT \(Self.alertColumns) FROM alerts WHERE \(condition) ORDER BY raised_at, id").map {
            var a = Self.alert($0)
            a.pages = try db.query("SELECT page FROM alert_pages WHERE alert_id = ? ORDER BY page LIMIT ?",
                                   [.text(a.id), .int(Alert.sampleSize)]).compactMap { $0.first?.string }
            if a.pages.isEmpty { a.pages = [a.page] }
            return a
        }
    }

    /// One alert by id (or a unique prefix of it), nil when there is none.
    public func alert(id: String) throws -> Alert? {
        let rows = try db.query("SELECT \(Self.alertColumns) FROM alerts WHERE id = ? OR id LIKE ? ESCAPE '\\' LIMIT 2",
                                [.text(id), .text(id.replacingOccurrences(of: "\\", with: "\\\\")
                                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%")])
        if let exact = rows.first(where: { $0.first?.string == id }) { return Self.alert(exact) }
        guard rows.count == 1 else { return nil }
        return Self.alert(rows[0])
    }

    /// Events not yet written to the log and feed (left over when a process died in between).
    public func undeliveredEvents() throws -> [AlertEvent] {
        try events(where: "e.delivered = 0", order: "ASC", limit: -1)
    }

    /// The last event sequence number `sink` has written; before it first wrote, every event
    /// already marked delivered (by all sinks) counts as written.
    public func sinkProgress(_ sink: String) throws -> Int {
        if let seq = try db.query("SELECT seq FROM sink_progress WHERE sink = ?", [.text(sink)]).first?.first?.int { return seq }
        return try db.query("SELECT coalesce(max(seq), 0) FROM events WHERE delivered = 1").first?.first?.int ?? 0
    }

    public func setSinkProgress(_ sink: String, seq: Int) throws {
        try db.query("INSERT INTO sink_progress(sink, seq) VALUES(?, ?) ON CONFLICT(sink) DO UPDATE SET seq = excluded.seq",
                     [.text(sink), .int(seq)])
    }

    public func markDelivered(upTo seq: Int) throws {
        try db.query("UPDATE events SET delivered = 1 WHERE delivered = 0 AND seq <= ?", [.int(seq)])
    }

    /// The newest `limit` events, newest first, for the feed.
    public func recentEvents(limit: Int) throws -> [AlertEvent] {
        try events(where: "1", order: "DESC", limit: limit)
    }

    func events(where condition: String, args: [Database.Value] = [], order: String, limit: Int) throws -> [AlertEvent] {
        let cols = Self.alertColumns.split(separator: ",").map { "a." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        return try db.query("""
            SELECT e.seq, e.event, e.at, \(cols), e.message, e.page_count, e.pages FROM events e JOIN alerts a ON a.id = e.alert_id
            WHERE \(condition) ORDER BY e.seq \(order) LIMIT ?
            """, args + [.int(limit)]).map { r in
            var a = Self.alert(r, offset: 3)
            let ev = AlertEvent.Event(rawValue: r[1].string!) ?? .raised
            // The event shows the alert as it was at that event.
            a.state = ev == .resolved ? .resolved : .open
            if ev == .resolved { a.resolvedAt = r[2].string! } else { a.resolvedAt = nil }
            if ev == .raised { a.raisedAt = r[2].string! }
            let n = 3 + Self.alertColumns.split(separator: ",").count
            if let m = r[n].string { a.message = m }
            if let c = r[n + 1].int { a.pageCount = c }
            if let p = r[n + 2].string { a.pages = p.split(separator: "\n").map(String.init) } else { a.pages = [a.page] }
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
                   r.integrity, r.first_seen, \(Self.seenSQL),
                   \(Self.currentResource),
                   r.via, r.tag_type, r.tag_id, r.tag_consent, r.tag_container
            FROM resources r LEFT JOIN pages p ON p.url = r.page ORDER BY r.page, r.party DESC, r.host, r.url
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


/// Reads the state's stored scripts from the follower's threads while a cycle runs: its own
/// connection (the store's is not shared across threads) and one prepared statement, one row per
/// lookup, so nothing is held in memory for scripts no page asks for.
public final class ScriptCacheReader: @unchecked Sendable {
    private let db: Database
    private let lock = NSLock()
    private let fingerprint: String

    init(path: String, fingerprint: String) throws {
        db = try Database(path: path)
        self.fingerprint = fingerprint
    }

    /// The stored copy of `url` written under the same fingerprint; nil when there is none.
    public func stored(_ url: String) -> StoredScript? {
        lock.lock()
        defer { lock.unlock() }
        // A read that fails (the state busy past its timeout) means a whole fetch, as for a new script.
        guard let r = try? db.query("SELECT etag, last_modified, body_sha256, analysis FROM script_cache WHERE url = ? AND fingerprint = ?",
                                    [.text(url), .text(fingerprint)]).first,
              let sha = r[2].string, let analysis = r[3].bytes else { return nil }
        return StoredScript(etag: r[0].string, lastModified: r[1].string, bodySHA256: sha, analysis: analysis)
    }
}

extension Store {
    /// A reader of `script_cache` for this cycle's follower.
    public func scriptCacheReader() throws -> ScriptCacheReader {
        try ScriptCacheReader(path: db.path, fingerprint: fingerprint)
    }
}
