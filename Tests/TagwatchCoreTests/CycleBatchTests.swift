import Foundation
import Testing
import TagwatchCore
import TagwatchTestSupport

/// A daemon cycle is scanned and written in batches of pages (`Watcher.batchSize`) so a large
/// site is never held whole. The batches must not show: the same site cycled with one batch and
/// with batches of two pages gives the same alerts and the same state, first cycle and after.
@Suite(.serialized) struct CycleBatchTests {
    static let clock = Date(timeIntervalSince1970: 1_795_000_000)

    static func page(_ extra: String) -> String {
        "<!doctype html><html><head><title>P</title><script src=\"/assets/app.js\"></script>\(extra)</head><body><p>x</p></body></html>"
    }

    static let gtm = "<script async src=\"https://www.googletagmanager.com/gtm.js?id=GTM-TEST1\"></script>"
    static let hotjar = "<script async src=\"https://static.hotjar.com/c/hotjar-12345.js?sv=6\"></script>"
    static let unknown = "<img src=\"https://pixel.unknown-vendor.test/p.gif\">"

    /// Seven pages (one missing: a failing target) in various mixes of vendors.
    static func writeSite(_ site: String, changed: Bool) throws {
        let pages: [(String, String)] = [
            ("a.html", changed ? gtm : gtm + hotjar), ("b.html", changed ? "" : hotjar), ("c.html", changed ? gtm : gtm + unknown),
            ("d.html", ""), ("e.html", unknown), ("f.html", changed ? gtm + unknown : gtm),
        ]
        for (name, extra) in pages {
            try page(extra).write(toFile: site + "/" + name, atomically: true, encoding: .utf8)
        }
        try "console.log(1)".write(toFile: site + "/assets/app.js", atomically: true, encoding: .utf8)
    }

    static func config(_ dir: String, server: TestServer, state: String) throws -> Config {
        let targets = ["a", "b", "missing", "c", "d", "e", "f"].map { "  - url: \(server.url("/\($0).html"))" }
        let path = dir + "/\(state).yaml"
        try """
            targets:
            \(targets.joined(separator: "\n"))
            first_party: [127.0.0.1]
            timeout: 30s
            rules: \(Repo.rules)
            registry: \(dir)/approved.yaml
            state: \(dir)/\(state).sqlite
            unreachable_after: 1
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return try Config.load(file: path)
    }

    /// The state's rows that a cycle writes, as text, ordered (scan ids and timestamps included:
    /// the clock is fixed, so they must match too).
    static func dump(_ state: String) throws -> [String] {
        var out: [String] = []
        for sql in [
            "SELECT * FROM scans ORDER BY id",
            "SELECT * FROM pages ORDER BY url",
            "SELECT * FROM resources ORDER BY page, url, kind",
            "SELECT * FROM alerts ORDER BY id",
            "SELECT * FROM alert_pages ORDER BY alert_id, page",
            "SELECT alert_id, event, at, message, page_count, pages FROM events ORDER BY seq",
            "SELECT * FROM scan_vendors ORDER BY scan_id, vendor_id",
            "SELECT page, etag, last_modified, body_sha256 FROM page_cache ORDER BY page",
            "SELECT page, url, kind, last_scan FROM page_scripts ORDER BY page, url",
        ] {
            out.append("-- " + sql)
            out += try sqlite(state, sql)
        }
        return out
    }

    static func describe(_ s: CycleSummary) -> [String] {
        ["\(s.pages) pages, \(s.failed) failed, \(s.resources) resources, \(s.openAlerts.count) open"]
            + s.events.map { "\($0.event.rawValue) \($0.alert.id) \($0.alert.pageCount) \($0.alert.message)" }
    }

    @Test func aCycleInBatchesGivesTheSameAlertsAndStateAsOneBatch() throws {
        let tmp = try TempDir("tw-batches")
        let site = tmp.path + "/site"
        try FileManager.default.createDirectory(atPath: site + "/assets", withIntermediateDirectories: true)
        try Self.writeSite(site, changed: false)
        try "vendors:\n  google-tag-manager: {status: approved, owner: web@example.com}\n"
            .write(toFile: tmp.path + "/approved.yaml", atomically: true, encoding: .utf8)
        let server = try TestServer(root: site)
        defer { server.stop() }
        let now: @Sendable () -> Date = { Self.clock }

        var whole = try Watcher(config: try Self.config(tmp.path, server: server, state: "whole"))
        whole.batchSize = 1_000
        var batched = try Watcher(config: try Self.config(tmp.path, server: server, state: "batched"))
        batched.batchSize = 2

        // First cycle on empty states: alerts raised, including the missing page (unreachable after 1).
        let w1 = try whole.cycle(now: now), b1 = try batched.cycle(now: now)
        #expect(w1.pages == 7 && w1.failed == 1)
        #expect(w1.events.contains { $0.event == .raised })
        #expect(Self.describe(b1) == Self.describe(w1))
        #expect(try Self.dump(tmp.path + "/batched.sqlite") == Self.dump(tmp.path + "/whole.sqlite"))

        // The site unchanged (304s, stored observations reused), then changed: Hotjar leaves every
        // page (its alert resolves) and the unknown host moves from one page to another.
        let w2 = try whole.cycle(now: now), b2 = try batched.cycle(now: now)
        #expect(Self.describe(b2) == Self.describe(w2))
        sleep(1)  // a new Last-Modified for the changed files
        try Self.writeSite(site, changed: true)
        let w3 = try whole.cycle(now: now), b3 = try batched.cycle(now: now)
        #expect(w3.events.contains { $0.event == .resolved })
        #expect(Self.describe(b3) == Self.describe(w3))
        #expect(try Self.dump(tmp.path + "/batched.sqlite") == Self.dump(tmp.path + "/whole.sqlite"))
    }

    /// A cycle given up midway (cancelled after its first batch was written) leaves the state as
    /// the last whole cycle left it: the batches written are rolled back with it.
    @Test func aCancelledBatchedCycleRecordsNothing() throws {
        let tmp = try TempDir("tw-batches-cancel")
        let site = tmp.path + "/site"
        try FileManager.default.createDirectory(atPath: site + "/assets", withIntermediateDirectories: true)
        try Self.writeSite(site, changed: false)
        try "vendors: {}\n".write(toFile: tmp.path + "/approved.yaml", atomically: true, encoding: .utf8)
        let server = try TestServer(root: site)
        defer { server.stop() }
        var watcher = try Watcher(config: try Self.config(tmp.path, server: server, state: "state"))
        watcher.batchSize = 2
        _ = try watcher.cycle(now: { Self.clock })
        let before = try Self.dump(tmp.path + "/state.sqlite")
        #expect(before.contains { $0.hasPrefix("1|") })

        // Cancelled once the clock has been read for the end of the first batch (the third read:
        // start, today, first batch): that batch is written, then the next one is cancelled.
        let cancellation = FetchCancellation()
        let reads = Counter()
        let summary = try watcher.cycle(cancellation: cancellation, now: {
            if reads.increment() == 3 { cancellation.cancel() }
            return Self.clock.addingTimeInterval(3600)
        })
        #expect(summary.cancelled)
        #expect(try Self.dump(tmp.path + "/state.sqlite") == before)
    }
}

extension CycleBatchTests {
    /// The next batch's stored state is read while a batch is scanned; a page listed in both
    /// batches is read only once the first batch was written, so its second listing asks with the
    /// validators its first listing just stored (a 304), as when batches were read one after another.
    @Test func aPageListedInTwoBatchesReadsWhatTheFirstWrote() throws {
        let tmp = try TempDir("tw-batches-twice")
        let site = tmp.path + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        for name in ["a", "b", "c"] {
            try "<!doctype html><html><head><title>\(name)</title></head><body>\(Self.unknown)</body></html>"
                .write(toFile: site + "/\(name).html", atomically: true, encoding: .utf8)
        }
        try "vendors: {}\n".write(toFile: tmp.path + "/approved.yaml", atomically: true, encoding: .utf8)
        let server = try TestServer(root: site)
        defer { server.stop() }
        let path = tmp.path + "/twice.yaml"
        try """
            targets:
            \(["b", "a", "a", "c"].map { "  - url: \(server.url("/\($0).html"))" }.joined(separator: "\n"))
            first_party: [127.0.0.1]
            timeout: 30s
            rules: \(Repo.rules)
            registry: \(tmp.path)/approved.yaml
            state: \(tmp.path)/twice.sqlite
            """.write(toFile: path, atomically: true, encoding: .utf8)
        var watcher = try Watcher(config: try Config.load(file: path))
        watcher.batchSize = 2
        func notModified() throws -> Int {
            let r = try runProgram(["curl", "-s", "--noproxy", "*", server.url("/not-modified-count")])
            return try #require(Int(r.stdout))
        }
        // Batches [b, a] and [a, c]: the second listing of a finds what the first stored.
        _ = try watcher.cycle(now: { Self.clock })
        #expect(try notModified() == 1)
        _ = try watcher.cycle(now: { Self.clock })
        #expect(try notModified() == 5)
        // a changes: its first listing fetches it whole and stores it, its second is a 304 again.
        sleep(1)
        try "<!doctype html><html><head><title>a</title></head><body>\(Self.gtm)</body></html>"
            .write(toFile: site + "/a.html", atomically: true, encoding: .utf8)
        _ = try watcher.cycle(now: { Self.clock })
        #expect(try notModified() == 8)
        #expect(try sqlite(tmp.path + "/twice.sqlite", "SELECT count(*) FROM resources WHERE vendor_id = 'google-tag-manager'") == ["1"])
    }
}

/// A thread-safe counter for the clock closure.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
