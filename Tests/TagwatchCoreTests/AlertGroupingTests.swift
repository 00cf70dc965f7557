import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// Alerts grouped by (kind, subject) across pages: raised once, updated as pages join or leave,
/// resolved when no page has them; page-scope kinds stay per page; old per-page state migrates.
@Suite struct AlertGroupingTests {
    static let hotjar = VendorRef(id: "hotjar", name: "Hotjar", company: "Contentsquare", category: "session-replay")

    func unapproved(_ page: String) -> Finding {
        Finding(kind: .unapprovedVendor, severity: .medium, page: page, vendor: Self.hotjar, subject: "hotjar",
                resourceURL: "https://static.hotjar.com/c/hotjar-1.js") { "Hotjar is on \($0) but nobody has approved it." }
    }

    func outOfScope(_ page: String, labels: [String] = ["payment"]) -> Finding {
        var f = Finding(kind: .outOfScope, severity: .high, page: page, vendor: Self.hotjar, subject: "hotjar", resourceURL: nil) {
            "Hotjar is approved, but not on \($0)."
        }
        f.pageLabels = labels
        return f
    }

    func observation(_ page: String, _ findings: [Finding], error: String? = nil) -> PageObservation {
        let report = PageReport(target: Target(source: .url(page)), url: page, status: error == nil ? 200 : nil, error: error,
                                resources: error != nil ? [] : [Resource(url: "https://static.hotjar.com/c/hotjar-1.js",
                                    host: "static.hotjar.com", kind: .script, party: .third, vendor: Self.hotjar)])
        return PageObservation(page: page, target: page, labels: [], report: report, findings: findings)
    }

    @Test func differGroupsByKindAndSubjectButKeepsScopeKindsOnLabelledPagesPerPage() {
        let pages = ["https://a.test/1", "https://a.test/2", "https://a.test/3"]
        let unlabelled = ["https://a.test/4", "https://a.test/5"]
        let current = pages.map(unapproved) + pages.prefix(2).map { outOfScope($0) } + unlabelled.map { outOfScope($0, labels: []) }
        let d = Differ.diff(open: [], current: current, grouping: .vendor) { _, _ in true }
        #expect(d.raise.count == 4, "one unapproved-vendor alert for all pages, one out-of-scope per labelled page, one for the rest")
        let grouped = try! #require(d.raise.first { $0.finding.kind == .unapprovedVendor })
        #expect(grouped.pages == pages)
        #expect(Set(d.raise.filter { $0.finding.kind == .outOfScope }.map(\.pages))
                == [["https://a.test/1"], ["https://a.test/2"], unlabelled])
        let perPage = Differ.diff(open: [], current: current, grouping: .page) { _, _ in true }
        #expect(perPage.raise.count == 7)
        let a = Alert(finding: unapproved(pages[0]), pages: pages, grouping: .vendor, at: "t")
        #expect(a.message == "Hotjar is on 3 pages (https://a.test/1, https://a.test/2, https://a.test/3) but nobody has approved it.")
        #expect(Alert.thousands(3093) == "3,093" && Alert.thousands(12) == "12" && Alert.thousands(1_000_000) == "1,000,000")
    }

    @Test func oneAlertRaisedOnceUpdatedWhenItDoublesResolvedWhenNoPageHasIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(path: dir + "/s.sqlite", grouping: .vendor)
        let p = (1...5).map { "https://a.test/\($0)" }
        func cycle(_ n: Int, _ pages: [String], failing: [String] = [], clean: [String] = []) throws -> [AlertEvent] {
            try store.record(cycle: pages.map { observation($0, [unapproved($0)]) } + failing.map { observation($0, [], error: "HTTP 503") }
                                 + clean.map { observation($0, []) },
                             started: "t\(n)", finished: "t\(n)", unreachableAfter: 2)
        }
        let e1 = try cycle(1, [p[0]])
        #expect(e1.map(\.event) == [.raised])
        let id = e1[0].alert.id
        // A second page joins: the spread doubled (1 -> 2), so one "updated" event, no new raise.
        let e2 = try cycle(2, [p[0], p[1]])
        #expect(e2.map(\.event) == [.updated])
        #expect(e2[0].alert.id == id && e2[0].alert.pageCount == 2)
        // A third joins: 3 < 2 x 2, so nothing to tell; the state has all three.
        #expect(try cycle(3, [p[0], p[1], p[2]]).isEmpty)
        #expect(try store.pages(of: id) == [p[0], p[1], p[2]])
        #expect(try store.openAlerts().map(\.pageCount) == [3])
        // A page that fails to load keeps its place; pages that are scanned clean leave.
        #expect(try cycle(4, [p[2]], failing: [p[0]], clean: [p[1]]).isEmpty)
        #expect(try store.pages(of: id) == [p[0], p[2]])
        #expect(try cycle(5, [], failing: [p[0]]).isEmpty, "p2 was not scanned this cycle: it still holds")
        let e6 = try store.record(cycle: [observation(p[0], []), observation(p[2], [])], started: "t6", finished: "t6", unreachableAfter: 9)
        #expect(e6.map(\.event) == [.resolved])
        #expect(try store.openAlerts().isEmpty)
        #expect(try store.alert(id: id)?.state == .resolved)
        // The events remember the message as it was then.
        let events = try store.undeliveredEvents()
        #expect(events.map(\.event) == [.raised, .updated, .resolved])
        #expect(events[0].alert.pageCount == 1 && events[0].alert.message.contains("https://a.test/1 but"))
        #expect(events[1].alert.message.contains("2 pages (https://a.test/1, https://a.test/2)"))
    }

    @Test func groupByPageKeepsOneAlertPerPage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(path: dir + "/s.sqlite", grouping: .page)
        let pages = ["https://a.test/1", "https://a.test/2"]
        let e = try store.record(cycle: pages.map { observation($0, [unapproved($0)]) }, started: "t", finished: "t", unreachableAfter: 2)
        #expect(e.count == 2)
        #expect(Set(e.map(\.alert.id)) == Set(pages.map { Alert.id(forKey: "unapproved-vendor|\($0)|hotjar") }),
                "the same ids as before alerts were grouped")
    }

    /// A state file of schema 1 (before grouping), written with the SQL of that schema.
    func schemaOneState(_ path: String) throws {
        let db = try Database(path: path)
        try db.exec(StateFixtures.schemaOne)
        for (n, page) in ["https://a.test/1", "https://a.test/2", "https://a.test/3"].enumerated() {
            let id = Alert.id(forKey: "unapproved-vendor|\(page)|hotjar")
            try db.query("""
                INSERT INTO alerts VALUES(?, 'unapproved-vendor', 'medium', ?, 'hotjar', 'hotjar', 'Hotjar', 'Contentsquare',
                                          'session-replay', NULL, ?, 't0', ?, 't0', ?)
                """, [.text(id), .text(page), .text("Hotjar is on \(page) but nobody has approved it."),
                      .text(n == 2 ? "resolved" : "open"), n == 2 ? .text("t0") : .null])
            try db.query("INSERT INTO events(alert_id, event, at, delivered) VALUES(?, 'raised', 't0', 1)", [.text(id)])
        }
    }

    @Test func schemaOneStateMigratesWithoutLosingOpenAlerts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/s.sqlite"
        try schemaOneState(path)
        let store = try Store(path: path, grouping: .vendor)
        let before = try store.openAlerts()
        #expect(before.count == 2, "the migration itself keeps both open per-page alerts")
        #expect(try store.pages(of: before[0].id) == [before[0].page])
        // The next cycle sees page 1 only (page 2 failed to load): both open alerts merge into one grouped alert
        // holding pages 1 and 2, raised once; nothing is resolved.
        let events = try store.record(cycle: [observation("https://a.test/1", [unapproved("https://a.test/1")]),
                                              observation("https://a.test/2", [], error: "timeout")],
                                      started: "t1", finished: "t1", unreachableAfter: 5)
        #expect(events.map(\.event) == [.raised])
        let open = try store.openAlerts()
        #expect(open.count == 1)
        #expect(open[0].id == Alert.id(forKey: "unapproved-vendor|*|hotjar"))
        #expect(try store.pages(of: open[0].id) == ["https://a.test/1", "https://a.test/2"])
        #expect(open[0].message == "Hotjar is on 2 pages (https://a.test/1, https://a.test/2) but nobody has approved it.")
        #expect(open[0].firstSeen == "t0", "first seen carries over from the merged alerts")
        let merged = try store.alerts(openOnly: false, includeMerged: true).filter { $0.state == .merged }
        #expect(merged.count == 2 && merged.allSatisfy { $0.mergedInto == open[0].id })
        #expect(try store.alerts(openOnly: false).count == 2, "the list leaves merged alerts out: the grouped one and the resolved one")
    }

    @Test func schemaOneStateUnderGroupByPageKeepsItsAlerts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/s.sqlite"
        try schemaOneState(path)
        let store = try Store(path: path, grouping: .page)
        let ids = try store.openAlerts().map(\.id)
        let events = try store.record(cycle: ["https://a.test/1", "https://a.test/2"].map { observation($0, [unapproved($0)]) },
                                      started: "t1", finished: "t1", unreachableAfter: 2)
        #expect(events.isEmpty, "the same conditions, the same alerts: nothing new")
        #expect(try store.openAlerts().map(\.id) == ids)
    }
}
