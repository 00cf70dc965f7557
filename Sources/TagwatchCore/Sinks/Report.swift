import Foundation

/// The chief marketing technologist's view of the state, as one self-contained HTML file:
/// summary, vendor inventory, what changed in the last cycle, a page × vendor matrix and the
/// history. Read from the SQLite state (no scan) plus the registry for status and owner.
public struct Report: Sendable {
    public struct VendorLine: Sendable {
        public var row: Store.VendorRow
        /// approved, required, denied, unapproved (the registry names neither it nor its category), unknown (no vendor).
        public var status: String
        public var owner: String?
    }

    public struct Change: Sendable {
        public var what: String
        public var detail: String
    }

    public var title: String
    public var generated: String
    public var lastScan: Store.ScanSummary?
    public var vendors: [VendorLine]
    public var openAlerts: [Severity: Int]
    public var changes: [Change]
    public var events: [AlertEvent]
    /// Pages with the most vendors (at most `matrixPages`), with the vendors each has.
    public var matrix: [(page: String, vendors: Set<String>)]
    public var history: [Store.CyclePoint]

    public static let matrixPages = 40

    public static func load(store: Store, registry: Registry?, title: String, now: Date = Date()) throws -> Report {
        let rows = try store.vendorRows()
        let vendors = rows.map { row -> VendorLine in
            guard let v = row.vendor else { return VendorLine(row: row, status: "unknown", owner: nil) }
            guard let e = registry?.entry(for: v) else { return VendorLine(row: row, status: "unapproved", owner: nil) }
            return VendorLine(row: row, status: e.status.rawValue, owner: e.owner)
        }
        let history = try store.history()
        var changes: [Change] = []
        var events: [AlertEvent] = []
        let last = try store.lastScan()
        if let last {
            events = try store.events(finishedAt: last.finished)
            let now = try store.vendorPages(scan: last.id)
            let names = Dictionary(rows.compactMap { r in r.vendor.map { ($0.id, $0.name) } }, uniquingKeysWith: { a, _ in a })
            if history.count >= 2 {
                let before = try store.vendorPages(scan: history[history.count - 2].scan)
                for (id, n) in now.sorted(by: { $0.key < $1.key }) {
                    let name = names[id] ?? id
                    if let b = before[id] {
                        if b != n { changes.append(Change(what: "\(name): \(b) → \(n) pages", detail: n > b ? "spread" : "shrank")) }
                    } else {
                        changes.append(Change(what: "\(name) appeared on \(n) page\(n == 1 ? "" : "s")", detail: "new"))
                    }
                }
                for (id, b) in before.sorted(by: { $0.key < $1.key }) where now[id] == nil {
                    changes.append(Change(what: "\(names[id] ?? id) is gone (was on \(b) page\(b == 1 ? "" : "s"))", detail: "gone"))
                }
            }
        }
        let byPage = try store.currentVendorsByPage()
        let matrix = byPage.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }.prefix(matrixPages).map { ($0.key, $0.value) }
        return Report(title: title, generated: Timestamp.string(now), lastScan: last, vendors: vendors,
                      openAlerts: try store.openAlertCounts(), changes: changes, events: events, matrix: matrix, history: history)
    }

    /// The stylesheet, allowed by its hash in the page's own Content-Security-Policy (no 'unsafe-inline').
    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1f2328;background:#fff}
        h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
        .meta{color:#57606a;margin:0 0 16px}
        .cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:220px;flex:1}
        .card h3{font-size:13px;margin:0 0 6px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
        th{background:#f6f8fa;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        .s-approved,.s-required{color:#1a7f37}.s-denied{color:#cf222e;font-weight:600}.s-unapproved{color:#9a6700;font-weight:600}.s-unknown{color:#8250df}
        .sev-critical,.sev-high{color:#cf222e;font-weight:600}.sev-medium{color:#9a6700}
        .d{white-space:nowrap;font-size:12px}.url{word-break:break-all;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
        .matrix{overflow-x:auto}.matrix table{width:auto}.matrix th.v{writing-mode:vertical-rl;white-space:nowrap;font-size:12px;padding:4px 2px;vertical-align:bottom;font-weight:500}
        .matrix td.x{background:#0969da;min-width:14px}.matrix td.o{min-width:14px}.matrix td{padding:2px;border:1px solid #eaeef2}
        .legend span{margin-right:16px}.k1{color:#0969da}.k2{color:#cf222e}
        """

    public func html() -> String {
        let e = HTML.escape
        let hash = Data(Digest.bytes("SHA256", Array(Self.style.utf8))).base64EncodedString()  // libcrypto, as script hashes
        var h = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-\(hash)'; img-src data:; form-action 'none'; base-uri 'none'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>\(e(title)) — tagwatch report</title>
            <style>\(Self.style)</style></head><body>

            """
        h += "<h1>\(e(title))</h1>\n<p class=\"meta\">tagwatch report, generated \(e(generated))"
        if let s = lastScan {
            h += "; last cycle finished \(e(s.finished)): \(Alert.thousands(s.pages)) pages, \(s.failed) failed, \(Alert.thousands(s.resources)) resources"
        } else {
            h += "; no cycle recorded yet"
        }
        h += ".</p>\n"
        h += summary()
        h += inventory()
        h += changesSection()
        h += matrixSection()
        h += historySection()
        h += "</body></html>\n"
        return h
    }

    func countTable(_ title: String, _ rows: [(String, Int, String?)]) -> String {
        var h = "<div class=\"card\"><h3>\(HTML.escape(title))</h3><table>"
        if rows.isEmpty { h += "<tr><td>none</td></tr>" }
        for (k, n, cls) in rows {
            h += "<tr><td\(cls.map { " class=\"\($0)\"" } ?? "")>\(HTML.escape(k))</td><td class=\"n\">\(Alert.thousands(n))</td></tr>"
        }
        return h + "</table></div>\n"
    }

    func summary() -> String {
        let current = vendors.filter { $0.row.pages > 0 }
        var byCategory: [String: Int] = [:]
        var byStatus: [String: Int] = [:]
        for v in current {
            byCategory[v.row.vendor?.category ?? "(unknown third party)", default: 0] += 1
            byStatus[v.status, default: 0] += 1
        }
        var h = "<h2>Summary</h2>\n<div class=\"cards\">\n"
        let categories = byCategory.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        var categoryRows = categories.prefix(10).map { ($0.key, $0.value, String?.none) }
        if categories.count > 10 {
            let rest = categories.dropFirst(10)
            categoryRows.append(("\(rest.count) more categories", rest.reduce(0) { $0 + $1.value }, nil))
        }
        h += countTable("Vendors by category", categoryRows)
        h += countTable("Vendors by registry status", ["denied", "unapproved", "unknown", "required", "approved"].compactMap { s in
            byStatus[s].map { (s, $0, "s-" + s) }
        })
        h += countTable("Open alerts by severity", Severity.allCases.reversed().compactMap { s in
            openAlerts[s].map { (s.rawValue, $0, "sev-" + s.rawValue) }
        })
        return h + "</div>\n"
    }

    func inventory() -> String {
        var h = "<h2>Vendor inventory</h2>\n<table><thead><tr><th>Vendor</th><th>Company</th><th>Category</th><th>Status</th><th>Owner</th>"
        h += "<th class=\"n\" title=\"pages whose latest scan saw it / pages that ever did\">Pages</th><th>First seen</th><th>Last seen</th><th>Via</th></tr></thead><tbody>\n"
        for v in vendors {
            let r = v.row
            let name = r.vendor.map { "\($0.name) (\($0.id))" } ?? r.subject
            h += "<tr><td>\(HTML.escape(name))</td><td>\(HTML.escape(r.vendor?.company ?? "—"))</td>"
            h += "<td>\(HTML.escape(r.vendor?.category ?? "—"))</td><td class=\"s-\(v.status)\">\(v.status)</td>"
            h += "<td>\(HTML.escape(v.owner ?? "—"))</td><td class=\"n d\">\(Alert.thousands(r.pages))\(r.pages == r.pagesEver ? "" : " <small title=\"pages that ever had it\">/ \(Alert.thousands(r.pagesEver))</small>")</td>"
            h += "<td class=\"d\">\(HTML.escape(r.firstSeen))</td><td class=\"d\">\(HTML.escape(r.lastSeen))</td>"
            h += "<td class=\"url\">\(((r.direct ? ["page HTML"] : []) + r.via.map(HTML.escape)).joined(separator: "<br>"))</td></tr>\n"
        }
        if vendors.isEmpty { h += "<tr><td colspan=\"9\">No third-party resource recorded yet.</td></tr>\n" }
        return h + "</tbody></table>\n"
    }

    func changesSection() -> String {
        var h = "<h2>What changed in the last cycle</h2>\n"
        if changes.isEmpty && events.isEmpty {
            return h + "<p>Nothing: the same vendors on the same number of pages, and no alert raised or resolved.</p>\n"
        }
        h += "<ul>\n"
        for c in changes { h += "<li>\(HTML.escape(c.what)) <small>(\(HTML.escape(c.detail)))</small></li>\n" }
        for ev in events {
            let a = ev.alert
            h += "<li>Alert \(ev.event.rawValue) <span class=\"sev-\(a.severity.rawValue)\">[\(a.severity.rawValue)]</span> "
            h += "\(HTML.escape(a.kind.rawValue)): \(HTML.escape(a.message)) <code>\(HTML.escape(a.id))</code></li>\n"
        }
        return h + "</ul>\n"
    }

    func matrixSection() -> String {
        var h = "<h2>Pages with the most vendors</h2>\n"
        guard !matrix.isEmpty else { return h + "<p>No page has a third-party vendor.</p>\n" }
        var count: [String: Int] = [:]
        for m in matrix { for v in m.vendors { count[v, default: 0] += 1 } }
        let columns = count.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
        let names = Dictionary(vendors.compactMap { v in v.row.vendor.map { ($0.id, $0.name) } }, uniquingKeysWith: { a, _ in a })
        h += "<p>The \(matrix.count) pages with the most vendors (rows) and their vendors (columns); a filled cell: the vendor is on the page.</p>\n"
        h += "<div class=\"matrix\"><table><thead><tr><th>Page</th><th class=\"n\">Vendors</th>"
        for c in columns {
            let name = names[c] ?? c
            let short = name.count > 22 ? String(name.prefix(21)) + "…" : name
            h += "<th class=\"v\" title=\"\(HTML.escape(name))\">\(HTML.escape(short))</th>"
        }
        h += "</tr></thead><tbody>\n"
        for m in matrix {
            h += "<tr><th class=\"url\">\(HTML.escape(m.page))</th><td class=\"n\">\(m.vendors.count)</td>"
            for c in columns { h += m.vendors.contains(c) ? "<td class=\"x\" title=\"\(HTML.escape(names[c] ?? c))\"></td>" : "<td class=\"o\"></td>" }
            h += "</tr>\n"
        }
        return h + "</tbody></table></div>\n"
    }

    func historySection() -> String {
        var h = "<h2>History</h2>\n"
        guard !history.isEmpty else { return h + "<p>No cycle yet.</p>\n" }
        let w = 1000.0, ht = 220.0, left = 48.0, right = 16.0, top = 12.0, bottom = 28.0
        let maxY = Double(max(1, history.map { max($0.vendors, $0.openAlerts ?? 0) }.max() ?? 1))
        let n = history.count
        func x(_ i: Int) -> Double { n == 1 ? left + (w - left - right) / 2 : left + Double(i) * (w - left - right) / Double(n - 1) }
        func y(_ v: Int) -> Double { top + (ht - top - bottom) * (1 - Double(v) / maxY) }
        func fmt(_ d: Double) -> String { String(format: "%.1f", d) }
        func line(_ values: [(Int, Int)], color: String) -> String {
            let pts = values.map { "\(fmt(x($0.0))),\(fmt(y($0.1)))" }.joined(separator: " ")
            var s = "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts)\"/>"
            if values.count <= 60 { s += values.map { "<circle cx=\"\(fmt(x($0.0)))\" cy=\"\(fmt(y($0.1)))\" r=\"2.5\" fill=\"\(color)\"/>" }.joined() }
            return s
        }
        h += "<p class=\"legend\"><span class=\"k1\">■ vendors seen</span><span class=\"k2\">■ open alerts</span> over the last \(n) cycle\(n == 1 ? "" : "s").</p>\n"
        h += "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Vendors and open alerts per cycle\" width=\"100%\" viewBox=\"0 0 \(Int(w)) \(Int(ht))\">"
        for t in 0...4 {
            let v = Int((maxY * Double(t) / 4).rounded())
            h += "<line x1=\"\(fmt(left))\" x2=\"\(fmt(w - right))\" y1=\"\(fmt(y(v)))\" y2=\"\(fmt(y(v)))\" stroke=\"#eaeef2\"/>"
            h += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y(v) + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">\(v)</text>"
        }
        h += "<text x=\"\(fmt(left))\" y=\"\(fmt(ht - 8))\" font-size=\"11\" fill=\"#57606a\">\(HTML.escape(history.first!.finished))</text>"
        h += "<text x=\"\(fmt(w - right))\" y=\"\(fmt(ht - 8))\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">\(HTML.escape(history.last!.finished))</text>"
        h += line(history.enumerated().map { ($0.offset, $0.element.vendors) }, color: "#0969da")
        h += line(history.enumerated().compactMap { i, p in p.openAlerts.map { (i, $0) } }, color: "#cf222e")
        h += "</svg>\n"
        h += "<table><thead><tr><th>Cycle finished</th><th class=\"n\">Pages</th><th class=\"n\">Failed</th><th class=\"n\">Vendors</th><th class=\"n\">Open alerts</th></tr></thead><tbody>\n"
        for p in history.suffix(10).reversed() {
            h += "<tr><td>\(HTML.escape(p.finished))</td><td class=\"n\">\(Alert.thousands(p.pages))</td><td class=\"n\">\(p.failed)</td>"
            h += "<td class=\"n\">\(p.vendors)</td><td class=\"n\">\(p.openAlerts.map(String.init) ?? "—")</td></tr>\n"
        }
        return h + "</tbody></table>\n"
    }

    /// Writes the report whole (temporary file + rename), mode 0640 like the feed.
    public func write(to path: String) throws {
        try AtomicFile.write(html(), to: path, what: "report")
    }
}
