import Foundation

/// What one cycle learned about a script's content against what the state held: computed once
/// per script per cycle, shared by every page that loads it.
struct ScriptChange {
    /// nil: unchanged, new, or not had this time.
    var description: String?
    var failures: Int
    var lastError: String?
}

/// What `pages` holds of a page's `page_scripts` rows (schema step 9): `digest`, the
/// `Store.pageScriptsDigest` of the rows the page's last write of them upserted (nil: not
/// known), and `seen`/`scan`, the cycle that last found the page unchanged with those same rows
/// (nil: the rows' own `last_seen`/`last_scan` say it).
struct PageScriptsState {
    var digest: [UInt8]?
    var seen: String?
    var scan: Int?

    /// The sighting the page's current rows take before they are written again.
    var sighting: (seen: String, scan: Int)? { seen.flatMap { s in scan.map { (s, $0) } } }
}

/// How a page's `page_scripts` rows are recorded this cycle.
enum PageScriptRows {
    /// Upserted one by one; `materialize`: the sighting the page's current rows (those of its
    /// latest `last_scan`) take first, so a script the page no longer loads keeps it.
    case write(materialize: (seen: String, scan: Int)?)
    /// The same rows as the page's last write of them: seen again in `pages.scripts_seen`
    /// (written by the caller) instead of rewriting each row.
    case seenAgain
}

extension Store {
    /// A digest of the `page_scripts` rows `recordIntegrity` upserts for `scripts`, in order
    /// (url, kind, integrity, sri, via; lengths prefixed, nil told apart from empty): equal
    /// digests mean the same upserts, so the same rows. SHA-256, so no page can forge a match.
    static func pageScriptsDigest(_ scripts: [ScriptRecord]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scripts.count * 128)
        func add(_ s: String?) {
            guard let s else {
                bytes.append(0xFF)
                return
            }
            bytes.append(0)
            var n = s.utf8.count
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: n))
                n >>= 8
            }
            bytes.append(contentsOf: s.utf8)
        }
        for s in scripts {
            add(s.url)
            add(s.kind)
            add(s.integrity)
            add(Self.sri(s))
            add(s.via)
        }
        return Digest.bytes("SHA256", bytes)
    }

    /// What the page's `integrity` attribute says of the bytes had this cycle (`page_scripts.sri`).
    static func sri(_ s: ScriptRecord) -> String? {
        s.integrity.flatMap { attr in s.digest.map { SubresourceIntegrity.verify(attr, $0).rawValue } }
    }

    /// Records a page's scripts (hash, size, container version) and security headers, and returns
    /// the findings their changes make: `script-changed` (high on pages with an integrity label,
    /// medium elsewhere), `script-unavailable` after `unreachableAfter` failed cycles (the last
    /// good hash is kept: a failure is never a change), `header-changed` on labelled pages.
    /// `rows`: whether the page's `page_scripts` rows are upserted or only seen again.
    func recordIntegrity(_ o: PageObservation, scanID: Int, at now: String, unreachableAfter: Int,
                         seenThisCycle: inout [String: ScriptChange],
                         rows: PageScriptRows = .write(materialize: nil)) throws -> [Finding] {
        guard o.integrity else { return [] }
        var findings: [Finding] = []
        // The vendor of a script's URL, for its findings (rare): the table is built at the first.
        var vendors: [String: VendorRef?]?
        func vendor(of url: String) -> VendorRef? {
            if vendors == nil {
                vendors = Dictionary(o.report.resources.map { ($0.url, $0.vendor) }, uniquingKeysWith: { a, _ in a })
            }
            return vendors?[url] ?? nil
        }
        var upsert = true
        switch rows {
        case .seenAgain: upsert = false
        case .write(let sighting?) where !o.report.scripts.isEmpty:
            // The latest scan is read first, so the rows updated are exactly those it wrote.
            if let latest = try db.query("SELECT MAX(last_scan) FROM page_scripts WHERE page = ?", [.text(o.page)]).first?.first?.int {
                try db.query("UPDATE page_scripts SET last_seen = ?, last_scan = ? WHERE page = ? AND last_scan = ?",
                             [.text(sighting.seen), .int(sighting.scan), .text(o.page), .int(latest)])
            }
        case .write: break
        }
        for s in o.report.scripts {
            let change: ScriptChange
            if let known = seenThisCycle[s.url] {
                change = known
            } else {
                change = try updateScript(s, at: now)
                seenThisCycle[s.url] = change
            }
            if upsert {
                try db.run("""
                    INSERT INTO page_scripts(page, url, kind, integrity, sri, via, first_seen, last_seen, last_scan)
                    VALUES(?,?,?,?,?,?,?,?,?)
                    ON CONFLICT(page, url) DO UPDATE SET kind=excluded.kind, integrity=excluded.integrity, sri=excluded.sri,
                        via=excluded.via, last_seen=excluded.last_seen, last_scan=excluded.last_scan
                    """) { b in
                    b.text(o.page)
                    b.text(s.url)
                    b.text(s.kind)
                    b.optText(s.integrity)
                    b.optText(Self.sri(s))
                    b.optText(s.via)
                    b.text(now)
                    b.text(now)
                    b.int(scanID)
                }
            }
            if let d = change.description, !o.expectedChanges.contains(s.url) {
                let vendor = vendor(of: s.url)
                findings.append(Finding(kind: .scriptChanged, severity: o.integrityLabelled ? .high : .medium, page: o.page,
                                        vendor: vendor, subject: s.url, resourceURL: s.url,
                                        message: "The \(s.kind) \(s.url) on \(o.page) changed: \(d)."))
            }
            if change.failures >= unreachableAfter {
                findings.append(Finding(kind: .scriptUnavailable, severity: .medium, page: o.page, vendor: vendor(of: s.url), subject: s.url,
                                        resourceURL: s.url,
                                        message: "The \(s.kind) \(s.url) on \(o.page) could not be had for \(change.failures) cycles (\(change.lastError ?? "no answer")); its last good hash is kept."))
            }
        }
        if !o.report.securityHeaders.isEmpty || o.report.status != nil {
            findings += try updateHeaders(o, at: now)
        }
        return findings
    }

    /// Updates one script's row; describes the change when its content differs from the last good one.
    private func updateScript(_ s: ScriptRecord, at now: String) throws -> ScriptChange {
        let prior = try db.query("SELECT sha384, size, container_version, container_tags, failures FROM scripts WHERE url = ?",
                                 [.text(s.url)]).first
        guard let d = s.digest else {
            let failures = (prior?[4].int ?? 0) + 1
            try db.query("""
                INSERT INTO scripts(url, first_seen, failures, last_error) VALUES(?,?,1,?)
                ON CONFLICT(url) DO UPDATE SET failures=failures+1, last_error=excluded.last_error
                """, [.text(s.url), .text(now), .opt(s.error)])
            // Only a script once had can become unavailable; one never had is a follow warning on the page.
            return ScriptChange(description: nil, failures: prior?[0].string == nil ? 0 : failures, lastError: s.error)
        }
        var description: String?
        if let prior, let old = prior[0].string, old != d.sha384 {
            let oldSize = prior[1].int ?? 0
            var text = "its content hash went from sha384-\(old) (\(oldSize) bytes) to sha384-\(d.sha384) (\(d.size) bytes)"
            if let newVersion = s.containerVersion {
                let oldTags = Set((prior[3].string ?? "").split(separator: "\n").map(String.init))
                let newTags = Set(s.containerTags)
                let added = newTags.subtracting(oldTags).sorted(), removed = oldTags.subtracting(newTags).sorted()
                var parts = ["\(prior[2].string ?? "an earlier version") became \(newVersion)"]
                if !added.isEmpty { parts.append("tags added: \(added.joined(separator: ", "))") }
                if !removed.isEmpty { parts.append("tags removed: \(removed.joined(separator: ", "))") }
                if added.isEmpty && removed.isEmpty { parts.append("the same tags with other settings") }
                text = parts.joined(separator: "; ") + " (" + text + ")"
            }
            description = text
        }
        try db.query("""
            INSERT INTO scripts(url, sha384, sha256, size, first_seen, last_changed, last_seen, last_verified, failures,
                                last_error, container_version, container_tags)
            VALUES(?,?,?,?,?,?,?,?,0,NULL,?,?)
            ON CONFLICT(url) DO UPDATE SET sha384=excluded.sha384, sha256=excluded.sha256, size=excluded.size,
                last_changed=CASE WHEN scripts.sha384 IS NULL OR scripts.sha384 != excluded.sha384 THEN excluded.last_changed
                                  ELSE scripts.last_changed END,
                last_seen=excluded.last_seen, last_verified=excluded.last_verified, failures=0, last_error=NULL,
                container_version=excluded.container_version, container_tags=excluded.container_tags
            """, [.text(s.url), .text(d.sha384), .text(d.sha256), .int(d.size), .text(now), .text(now), .text(now), .text(now),
                  .opt(s.containerVersion), .text(s.containerTags.joined(separator: "\n"))])
        return ScriptChange(description: description, failures: 0, lastError: nil)
    }

    /// Records the page's security headers; on a labelled page, a header that appeared, went or
    /// changed since the last scan is a finding.
    private func updateHeaders(_ o: PageObservation, at now: String) throws -> [Finding] {
        // A row named ":baseline" (no header has that name) marks a page whose headers were recorded
        // before: a page seen for the first time has nothing to compare with.
        let baseline = ":baseline"
        var prior = Dictionary(try db.query("SELECT name, value FROM page_headers WHERE page = ?", [.text(o.page)])
            .map { ($0[0].string!, $0[1].string!) }, uniquingKeysWith: { a, _ in a })
        let hadBefore = prior.removeValue(forKey: baseline) != nil
        if !hadBefore {
            try db.query("INSERT INTO page_headers(page, name, value, first_seen, last_changed, last_seen) VALUES(?,?,'',?,?,?)",
                         [.text(o.page), .text(baseline), .text(now), .text(now), .text(now)])
        }
        var findings: [Finding] = []
        let current = o.report.securityHeaders
        for name in Set(prior.keys).union(current.keys).sorted() {
            let old = prior[name], new = current[name]
            if old == new {
                try db.query("UPDATE page_headers SET last_seen=? WHERE page=? AND name=?", [.text(now), .text(o.page), .text(name)])
                continue
            }
            if let new {
                try db.query("""
                    INSERT INTO page_headers(page, name, value, first_seen, last_changed, last_seen) VALUES(?,?,?,?,?,?)
                    ON CONFLICT(page, name) DO UPDATE SET value=excluded.value, last_changed=excluded.last_changed, last_seen=excluded.last_seen
                    """, [.text(o.page), .text(name), .text(new), .text(now), .text(now), .text(now)])
            } else {
                try db.query("DELETE FROM page_headers WHERE page=? AND name=?", [.text(o.page), .text(name)])
            }
            guard o.integrityLabelled, hadBefore else { continue }
            let what: String
            switch (old, new) {
            case (nil, let n?): what = "now sends \(name): \(n)"
            case (let p?, nil): what = "no longer sends \(name) (was: \(p))"
            default: what = "changed \(name) from \"\(old!)\" to \"\(new!)\""
            }
            findings.append(Finding(kind: .headerChanged, severity: name.hasPrefix("content-security-policy") ? .high : .medium,
                                    page: o.page, vendor: nil, subject: name, resourceURL: nil,
                                    message: "The page \(o.page) \(what)."))
        }
        return findings
    }
}

/// One script of the PCI DSS 6.4.3 inventory: what it is, who runs it, why it is there, and how
/// its integrity is assured (an SRI pin the browser enforces, or the hash tagwatch monitors).
public struct ScriptInventoryRow: Sendable {
    public var url: String
    public var vendor: VendorRef?
    public var party: String
    /// The pages (configured URLs) that load it in the scope asked for.
    public var pages: [String]
    public var labels: [String]
    public var integrity: String?
    /// `sri-pinned` (every page pins it and the pin matches), `sri-mismatch`, or `hash-monitored`.
    public var integrityMethod: String
    public var sha384: String?
    public var sha256: String?
    public var size: Int?
    public var firstSeen: String
    public var lastChanged: String?
    public var lastVerified: String?
    public var failures: Int
    public var containerVersion: String?
}

extension Store {
    /// The scripts pages load (currently, as of each page's last scan), one row per script, for
    /// the pages that carry `label` (all pages when nil).
    public func scriptInventory(label: String? = nil) throws -> [ScriptInventoryRow] {
        let rows = try db.query("""
            SELECT ps.url, ps.page, p.labels, ps.integrity, ps.sri, s.sha384, s.sha256, s.size, s.first_seen, s.last_changed,
                   s.last_verified, s.failures, s.container_version,
                   (SELECT r.vendor_id FROM resources r WHERE r.url = ps.url AND r.vendor_id IS NOT NULL LIMIT 1),
                   (SELECT r.vendor_name FROM resources r WHERE r.url = ps.url AND r.vendor_id IS NOT NULL LIMIT 1),
                   (SELECT r.company FROM resources r WHERE r.url = ps.url AND r.vendor_id IS NOT NULL LIMIT 1),
                   (SELECT r.category FROM resources r WHERE r.url = ps.url AND r.vendor_id IS NOT NULL LIMIT 1),
                   (SELECT r.party FROM resources r WHERE r.url = ps.url LIMIT 1)
            FROM page_scripts ps JOIN pages p ON p.url = ps.page LEFT JOIN scripts s ON s.url = ps.url
            WHERE ps.last_scan = (SELECT MAX(last_scan) FROM page_scripts x WHERE x.page = ps.page)
            ORDER BY ps.url, ps.page
            """)
        var order: [String] = []
        var byURL: [String: ScriptInventoryRow] = [:]
        var sriStates: [String: Set<String>] = [:]
        for r in rows {
            let labels = (r[2].string ?? "").split(separator: ",").map(String.init)
            if let label, !labels.contains(label) { continue }
            let url = r[0].string!
            if byURL[url] == nil {
                order.append(url)
                byURL[url] = ScriptInventoryRow(
                    url: url, vendor: r[13].string.map { VendorRef(id: $0, name: r[14].string ?? $0, company: r[15].string ?? "", category: r[16].string ?? "") },
                    party: r[17].string ?? "first", pages: [], labels: [], integrity: r[3].string, integrityMethod: "hash-monitored",
                    sha384: r[5].string, sha256: r[6].string, size: r[7].int, firstSeen: r[8].string ?? "", lastChanged: r[9].string,
                    lastVerified: r[10].string, failures: r[11].int ?? 0, containerVersion: r[12].string)
            }
            byURL[url]!.pages.append(r[1].string!)
            for l in labels where !byURL[url]!.labels.contains(l) { byURL[url]!.labels.append(l) }
            sriStates[url, default: []].insert(r[4].string ?? "none")
        }
        return order.map { url in
            var row = byURL[url]!
            let states = sriStates[url] ?? []
            if states == ["matches"] { row.integrityMethod = "sri-pinned" } else if states.contains("mismatch") { row.integrityMethod = "sri-mismatch" }
            return row
        }
    }
}

extension Store {
    /// Each page's labels, as the last cycle recorded them.
    public func pageLabels() throws -> [String: [String]] {
        Dictionary(try db.query("SELECT url, labels FROM pages").map {
            ($0[0].string!, ($0[1].string ?? "").split(separator: ",").map(String.init))
        }, uniquingKeysWith: { a, _ in a })
    }
}

/// A Content-Security-Policy built from what the pages load and the registry approves, so a
/// policy can be deployed that lets the approved vendors through and nothing else.
public struct CSPSuggestion: Sendable {
    public var directives: [(String, [String])]
    /// Hosts the pages load that the policy leaves out, with why.
    public var leftOut: [(String, String)]
    public var pages: Int

    public var header: String {
        directives.map { ([$0.0] + $0.1).joined(separator: " ") }.joined(separator: "; ")
    }

    /// From the current inventory of the pages carrying `label` (all when nil).
    public static func build(rows: [Store.InventoryRow], labels: [String: [String]], registry: Registry?, label: String?) -> CSPSuggestion {
        var sets: [String: [String]] = ["script-src": ["'self'"], "connect-src": ["'self'"], "img-src": ["'self'", "data:"],
                                        "frame-src": ["'self'"], "style-src": ["'self'"]]
        var leftOut: [(String, String)] = []
        var pages = Set<String>()
        for r in rows where r.current {
            let pageLabels = labels[r.page] ?? []
            if let label, !pageLabels.contains(label) { continue }
            pages.insert(r.page)
            guard r.party == "third" else { continue }
            let origin = (r.url.lowercased().hasPrefix("http://") ? "http://" : "https://") + r.host
            let allowed: Bool
            let why: String
            if let v = r.vendor {
                if let entry = registry?.entry(for: v) {
                    allowed = entry.status != .denied && entry.allows(url: r.page, labels: pageLabels)
                    why = entry.status == .denied ? "\(v.id): denied" : "\(v.id): not approved on \(r.page)"
                } else {
                    allowed = false
                    why = "\(v.id): not in the registry"
                }
            } else {
                allowed = false
                why = "no vendor claims it"
            }
            if !allowed {
                if !leftOut.contains(where: { $0.0 == r.host }) { leftOut.append((r.host, why)) }
                continue
            }
            let directives: [String]
            switch r.kind {
            case "script", "inline-script": directives = ["script-src"]
            case "img", "noscript-img": directives = r.via != nil ? ["img-src", "connect-src"] : ["img-src"]
            case "iframe": directives = ["frame-src"]
            case "link": directives = ["style-src"]
            default: directives = []
            }
            for d in directives where !sets[d]!.contains(origin) { sets[d]!.append(origin) }
        }
        // Stricter than allowed so far, and reported.
        let order = ["script-src", "connect-src", "img-src", "frame-src", "style-src"]
        var directives: [(String, [String])] = [("default-src", ["'self'"])]
        for d in order { directives.append((d, [sets[d]![0]] + sets[d]!.dropFirst().sorted())) }
        directives.append(("object-src", ["'none'"]))
        directives.append(("base-uri", ["'self'"]))
        return CSPSuggestion(directives: directives, leftOut: leftOut.sorted { $0.0 < $1.0 }, pages: pages.count)
    }
}
