import Foundation

/// Reads of the state for the HTML report and `inventory --by vendor`: per vendor, per page,
/// per cycle. Only what the state holds; the registry's view is added by the caller.
extension Store {
    /// One vendor (or unknown third-party host, `vendor == nil`) across the pages, as the state remembers it.
    public struct VendorRow: Sendable {
        public var vendor: VendorRef?
        /// The host, for an unknown third party; the vendor id otherwise.
        public var subject: String
        /// Pages whose latest scan saw it, and pages that ever did.
        public var pages: Int
        public var pagesEver: Int
        public var firstSeen: String
        public var lastSeen: String
        /// Scripts or containers that loaded it on some page.
        public var via: [String]
        /// Whether some page has it in its own HTML (not only through a script or container).
        public var direct: Bool = true
    }

    /// Whether each resource's page saw it on that page's latest successful scan.
    static let currentResource = "r.last_scan = (SELECT MAX(r2.last_scan) FROM resources r2 WHERE r2.page = r.page)"
    /// When a resource `r` was last seen, with its page as `p` (`LEFT JOIN pages p ON p.url = r.page`):
    /// a page found unchanged since its resources were written records the sighting once, in
    /// `pages.resources_seen`, for all its current resources (schema step 8).
    static let seenSQL = "CASE WHEN p.resources_scan IS NOT NULL AND \(currentResource) THEN p.resources_seen ELSE r.last_seen END"

    public func vendorRows(includeUnknown: Bool = true) throws -> [VendorRow] {
        var rows: [VendorRow] = try db.query("""
            SELECT r.vendor_id, MAX(r.vendor_name), MAX(r.company), MAX(r.category),
                   COUNT(DISTINCT CASE WHEN \(Self.currentResource) THEN r.page END), COUNT(DISTINCT r.page),
                   MIN(r.first_seen), MAX(\(Self.seenSQL))
            FROM resources r LEFT JOIN pages p ON p.url = r.page
            WHERE r.party = 'third' AND r.vendor_id IS NOT NULL GROUP BY r.vendor_id
            """).map { r in
            VendorRow(vendor: VendorRef(id: r[0].string!, name: r[1].string ?? r[0].string!, company: r[2].string ?? "",
                                        category: r[3].string ?? ""),
                      subject: r[0].string!, pages: r[4].int ?? 0, pagesEver: r[5].int ?? 0, firstSeen: r[6].string ?? "",
                      lastSeen: r[7].string ?? "", via: [])
        }
        if includeUnknown {
            rows += try db.query("""
                SELECT r.host, COUNT(DISTINCT CASE WHEN \(Self.currentResource) THEN r.page END), COUNT(DISTINCT r.page),
                       MIN(r.first_seen), MAX(\(Self.seenSQL))
                FROM resources r LEFT JOIN pages p ON p.url = r.page
                WHERE r.party = 'third' AND r.vendor_id IS NULL AND r.kind != 'form' GROUP BY r.host
                """).map { r in
                VendorRow(vendor: nil, subject: r[0].string!, pages: r[1].int ?? 0, pagesEver: r[2].int ?? 0,
                          firstSeen: r[3].string ?? "", lastSeen: r[4].string ?? "", via: [])
            }
        }
        do {
            var vias: [String: [String]] = [:]
            for r in try db.query("""
                SELECT COALESCE(vendor_id, '?' || host), via, COUNT(*) AS n FROM resources
                WHERE party = 'third' AND via IS NOT NULL AND via != '' GROUP BY 1, 2 ORDER BY n DESC, via
                """) {
                let key = r[0].string!
                if vias[key, default: []].count < 3 { vias[key, default: []].append(r[1].string!) }
            }
            var direct = Set<String>()
            for r in try db.query("""
                SELECT DISTINCT COALESCE(vendor_id, '?' || host) FROM resources WHERE party = 'third' AND (via IS NULL OR via = '')
                """) {
                direct.insert(r[0].string!)
            }
            for i in rows.indices {
                let key = rows[i].vendor == nil ? "?" + rows[i].subject : rows[i].subject
                rows[i].via = vias[key] ?? []
                rows[i].direct = direct.contains(key)
            }
        }
        return rows.sorted { ($0.pages, $0.pagesEver, $1.subject) > ($1.pages, $1.pagesEver, $0.subject) }
    }

    /// The vendors each page's latest scan saw, by page.
    public func currentVendorsByPage() throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for r in try db.query("""
            SELECT DISTINCT r.page, r.vendor_id FROM resources r
            WHERE r.party = 'third' AND r.vendor_id IS NOT NULL AND \(Self.currentResource)
            """) {
            out[r[0].string!, default: []].insert(r[1].string!)
        }
        return out
    }

    /// One cycle in the history: when, vendors seen, alerts open after it (nil before the state recorded it).
    public struct CyclePoint: Sendable {
        public var scan: Int
        public var finished: String
        public var pages: Int
        public var failed: Int
        public var vendors: Int
        public var openAlerts: Int?
    }

    /// The newest `limit` cycles, oldest first.
    public func history(limit: Int = 200) throws -> [CyclePoint] {
        try db.query("""
            SELECT s.id, s.finished, s.pages, s.failed, (SELECT COUNT(*) FROM scan_vendors v WHERE v.scan_id = s.id), s.open_alerts
            FROM scans s ORDER BY s.id DESC LIMIT ?
            """, [.int(limit)]).map {
            CyclePoint(scan: $0[0].int!, finished: $0[1].string!, pages: $0[2].int!, failed: $0[3].int!, vendors: $0[4].int ?? 0,
                       openAlerts: $0[5].int)
        }.reversed()
    }

    /// Pages per vendor in one cycle.
    public func vendorPages(scan: Int) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for r in try db.query("SELECT vendor_id, pages FROM scan_vendors WHERE scan_id = ?", [.int(scan)]) {
            out[r[0].string!] = r[1].int ?? 0
        }
        return out
    }

    /// The alert events one cycle caused (those stamped with its finish time), oldest first.
    public func events(finishedAt time: String) throws -> [AlertEvent] {
        try events(where: "e.at = ?", args: [.text(time)], order: "ASC", limit: 10_000)
    }

    /// Open alerts by severity.
    public func openAlertCounts() throws -> [Severity: Int] {
        var out: [Severity: Int] = [:]
        for r in try db.query("SELECT severity, COUNT(*) FROM alerts WHERE state = 'open' GROUP BY severity") {
            if let s = Severity(rawValue: r[0].string!) { out[s] = r[1].int ?? 0 }
        }
        return out
    }
}
