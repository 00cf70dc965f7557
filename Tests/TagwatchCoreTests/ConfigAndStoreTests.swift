import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

@Suite struct ConfigTests {
    func load(_ yaml: String) throws -> Config {
        let dir = try temporaryDirectory()
        try yaml.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        return try Config.load(file: dir + "/c.yaml")
    }

    func error(_ yaml: String) -> SourceError? {
        do { _ = try load(yaml); return nil } catch { return error as? SourceError }
    }

    @Test func readsEveryFieldAndResolvesRelativePaths() throws {
        let c = try load("""
            targets:
              - url: https://www.example.com/
              - url: https://shop.example.com/checkout
                labels: [payment]
              - sitemap: https://www.example.com/sitemap.xml
                limit: 20
              - file: ./dist
                base_url: https://www.example.com/
            first_party: [example.com, examplecdn.net]
            interval: 1h30m
            jitter: 5%
            concurrency: 8
            per_host: 2
            timeout: 20s
            max_page_bytes: 2MB
            user_agent: "tagwatch test"
            rules: rules
            state: state.sqlite
            alerts:
              log: alerts.log
              log_format: json
              feed: feed.json
              feed_title: Tags
              feed_items: 10
            """)
        #expect(c.targets.count == 4)
        #expect(c.targets[1].labels == ["payment"])
        #expect(c.targets[2].kind == .sitemap("https://www.example.com/sitemap.xml", limit: 20))
        #expect(c.interval == 5400)
        #expect(c.jitter == 0.05)
        #expect(c.maxPageBytes == 2 * 1024 * 1024)
        #expect(c.logFormat == .json)
        #expect(c.state.hasSuffix("/state.sqlite") && c.state.hasPrefix("/"))
        #expect(c.firstParty == ["example.com", "examplecdn.net"])
    }

    @Test func errorsNameTheLine() {
        #expect(error("targets:\n  - url: https://x.test/\nconcurency: 3\n")?.line == 3)
        #expect(error("targets:\n  - url: https://x.test/\ninterval: soon\n")?.message.contains("duration") == true)
        #expect(error("targets:\n  - url: ftp://x.test/\n")?.line == 2)
        #expect(error("targets:\n  - url: https://x.test/\n    lables: [a]\n")?.message.contains("did you mean 'labels'") == true)
        #expect(error("targets:\n  - url: https://x.test/\nalerts:\n  log_format: xml\n")?.line == 4)
        #expect(error("targets: []\n")?.message.contains("non-empty") == true)
    }
}

@Suite struct DifferAndStoreTests {
    func finding(_ kind: FindingKind, _ page: String, _ subject: String) -> Finding {
        Finding(kind: kind, severity: .medium, page: page, vendor: nil, subject: subject, resourceURL: nil, message: "m")
    }

    @Test func differRaisesNewAndResolvesGoneOnCoveredPagesOnly() {
        let a = Alert(finding: finding(.unknownThirdParty, "p1", "x.test"), at: "t0")
        let b = Alert(finding: finding(.unknownThirdParty, "p2", "y.test"), at: "t0")
        let d = Differ.diff(open: [(a, ["p1"]), (b, ["p2"])], current: [finding(.unknownThirdParty, "p1", "z.test")],
                            grouping: .page) { _, page in page == "p1" }
        #expect(d.raise.map(\.finding.subject) == ["z.test"])
        #expect(d.resolve.map(\.id) == [a.id])
    }

    @Test func alertIDsAreStableAndDistinct() throws {
        // FNV-1a 64 of the key: the published test vectors ("" and "a"), so an id written by one
        // release is found by the next.
        #expect(Alert.id(forKey: "") == "tw-cbf29ce484222325")
        #expect(Alert.id(forKey: "a") == "tw-af63dc4c8601ec8c")
        // Keys of different conditions give different ids.
        let kinds: [FindingKind] = [.unknownThirdParty, .deniedVendor, .unapprovedVendor]
        var ids = Set<String>()
        for kind in kinds {
            for page in ["https://a.test/", "https://a.test/b"] {
                for subject in ["x.test", "y.test"] {
                    ids.insert(Alert(finding: finding(kind, page, subject), at: "t").id)
                }
            }
        }
        #expect(ids.count == kinds.count * 2 * 2)
        #expect(ids.allSatisfy { $0.hasPrefix("tw-") && $0.count == 19 })
        // The same condition seen again, by a fresh store on the same file, maps to the same alert.
        let tmp = try TempDir()
        let path = tmp.path + "/s.sqlite"
        let report = PageReport(target: Target(source: .url("https://a.test/")), url: "https://a.test/", status: 200, error: nil, resources: [])
        let obs = PageObservation(page: "https://a.test/", target: "https://a.test/", labels: [], report: report,
                                  findings: [finding(.unknownThirdParty, "https://a.test/", "x.test")])
        let raised = try Store(path: path).record(cycle: [obs], started: "t1", finished: "t1", unreachableAfter: 2)
        // Grouped by default: the id of (kind, subject) across pages.
        #expect(raised.first?.alert.id == Alert.id(forKey: finding(.unknownThirdParty, "https://a.test/", "x.test").alertKey(.vendor)))
        #expect(try Store(path: path).openAlerts().map(\.id) == raised.map(\.alert.id))
    }

    @Test func storeKeepsStateAcrossReopens() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/s.sqlite"
        let report = PageReport(target: Target(source: .url("https://a.test/")), url: "https://a.test/", status: 200, error: nil,
                                resources: [Resource(url: "https://x.test/a.js", host: "x.test", kind: .script, party: .third, vendor: nil)])
        let obs = PageObservation(page: "https://a.test/", target: "https://a.test/", labels: [], report: report,
                                  findings: [finding(.unknownThirdParty, "https://a.test/", "x.test")])
        do {
            let store = try Store(path: path)
            let e1 = try store.record(cycle: [obs], started: "t1", finished: "t1", unreachableAfter: 2)
            #expect(e1.map(\.event) == [.raised])
            #expect(try store.undeliveredEvents().count == 1)
        }
        let store = try Store(path: path)
        #expect(try store.undeliveredEvents().count == 1, "undelivered events survive a restart")
        let e2 = try store.record(cycle: [obs], started: "t2", finished: "t2", unreachableAfter: 2)
        #expect(e2.isEmpty)
        var clean = obs
        clean.findings = []
        let e3 = try store.record(cycle: [clean], started: "t3", finished: "t3", unreachableAfter: 2)
        #expect(e3.map(\.event) == [.resolved])
        #expect(try store.scanCount() == 3)
        #expect(try store.inventory().first?.firstSeen == "t1")
        #expect(try store.inventory().first?.lastSeen == "t3")
    }

    /// A page found unchanged is seen again in one row of `pages`; the inventory and the vendor
    /// list read its resources as seen then. When the page changes, a resource it no longer has
    /// keeps the last cycle that saw it (the unchanged one), not the one that wrote its row.
    @Test func unchangedPagesAreSeenAgainWithoutRewritingTheirResources() throws {
        let tmp = try TempDir()
        let store = try Store(path: tmp.path + "/s.sqlite")
        func observation(_ hosts: [String], unchanged: Bool = false) -> PageObservation {
            var report = PageReport(target: Target(source: .url("https://a.test/")), url: "https://a.test/", status: 200, error: nil,
                                    resources: hosts.map { Resource(url: "https://\($0)/a.js", host: $0, kind: .script, party: .third,
                                                                   vendor: VendorRef(id: $0, name: $0, company: $0, category: "analytics")) })
            report.unchanged = unchanged
            return PageObservation(page: "https://a.test/", target: "https://a.test/", labels: [], report: report, findings: [])
        }
        func seen() throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try store.inventory().map { ($0.host + ($0.current ? "" : " (gone)"), $0.lastSeen) })
        }
        _ = try store.record(cycle: [observation(["x.test", "y.test"])], started: "t1", finished: "t1", unreachableAfter: 2)
        _ = try store.record(cycle: [observation(["x.test", "y.test"], unchanged: true)], started: "t2", finished: "t2", unreachableAfter: 2)
        #expect(try seen() == ["x.test": "t2", "y.test": "t2"])
        #expect(try store.vendorRows().map(\.lastSeen) == ["t2", "t2"])
        _ = try store.record(cycle: [observation(["x.test"])], started: "t3", finished: "t3", unreachableAfter: 2)
        #expect(try seen() == ["x.test": "t3", "y.test (gone)": "t2"])
        _ = try store.record(cycle: [observation(["x.test"], unchanged: true)], started: "t4", finished: "t4", unreachableAfter: 2)
        #expect(try seen() == ["x.test": "t4", "y.test (gone)": "t2"])
        #expect(try store.inventory().map(\.firstSeen) == ["t1", "t1"])
    }

    /// A new state is made of `Store.pageSize` pages; a state made before (4 KiB pages, SQLite's
    /// default) keeps its page size and is written and read as before. A report larger than a
    /// page (an overflow chain) reads back whole either way.
    @Test func newStatesTakeTheLargerPageAndOldOnesKeepTheirs() throws {
        let tmp = try TempDir()
        var report = PageReport(target: Target(source: .url("https://a.test/")), url: "https://a.test/", status: 200, error: nil,
                                resources: (0..<400).map {
                                    Resource(url: "https://x.test/\($0).js", host: "x.test", kind: .script, party: .third, vendor: nil)
                                })
        report.validators = PageValidators(etag: "\"1\"", lastModified: nil, bodySHA256: "ab")
        let obs = PageObservation(page: "https://a.test/", target: "https://a.test/", labels: [], report: report,
                                  findings: [finding(.unknownThirdParty, "https://a.test/", "x.test")])
        func pageSize(_ path: String) throws -> Int? { try Database(path: path).query("PRAGMA page_size").first?.first?.int }
        let new = tmp.path + "/new.sqlite"
        let old = tmp.path + "/old.sqlite"
        // A state as an earlier tagwatch made it: created with SQLite's default page size.
        try Database(path: old).exec("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t(x); DROP TABLE t;")
        for path in [new, old] {
            let store = try Store(path: path)
            #expect(try store.record(cycle: [obs], started: "t1", finished: "t1", unreachableAfter: 2).map(\.event) == [.raised])
            #expect(try store.storedObservations(pages: ["https://a.test/"])["https://a.test/"]?.decoded()?.resources == report.resources)
            #expect(try store.inventory().count == 400)
        }
        #expect(try pageSize(new) == Store.pageSize)
        #expect(try pageSize(old) == 4096)
        // Reopened, each keeps its size and its rows.
        for path in [new, old] {
            let store = try Store(path: path)
            #expect(try store.record(cycle: [obs], started: "t2", finished: "t2", unreachableAfter: 2).isEmpty)
            #expect(try store.scanCount() == 2)
            #expect(try Database(path: path).query("PRAGMA integrity_check").first?.first?.string == "ok")
        }
        #expect(try pageSize(new) == Store.pageSize)
        #expect(try pageSize(old) == 4096)
    }

    /// A page answered 304 keeps its stored observation and takes the validators the server sent
    /// with the 304; the same validators again leave the row as it was.
    @Test func anUnchangedPageTakesItsNewValidators() throws {
        let tmp = try TempDir()
        let store = try Store(path: tmp.path + "/s.sqlite")
        var report = PageReport(target: Target(source: .url("https://a.test/")), url: "https://a.test/", status: 200, error: nil,
                                resources: [Resource(url: "https://x.test/a.js", host: "x.test", kind: .script, party: .third, vendor: nil)])
        report.validators = PageValidators(etag: "\"1\"", lastModified: "Mon, 30 Nov 2026 19:00:00 GMT", bodySHA256: "ab")
        let obs = PageObservation(page: "https://a.test/", target: "https://a.test/", labels: [], report: report, findings: [])
        _ = try store.record(cycle: [obs], started: "t1", finished: "t1", unreachableAfter: 2)
        var again = obs
        again.report.unchanged = true
        _ = try store.record(cycle: [again], started: "t2", finished: "t2", unreachableAfter: 2)
        #expect(try store.pageValidators()["https://a.test/"] == report.validators)
        #expect(try store.storedObservations(pages: ["https://a.test/"])["https://a.test/"]?.decoded()?.resources == report.resources)
        for v in [PageValidators(etag: "\"2\"", lastModified: "Mon, 30 Nov 2026 19:00:00 GMT", bodySHA256: "ab"),
                  PageValidators(etag: "\"2\"", lastModified: nil, bodySHA256: "ab"),
                  PageValidators(etag: nil, lastModified: nil, bodySHA256: "ab")] {
            again.report.validators = v
            _ = try store.record(cycle: [again], started: "t3", finished: "t3", unreachableAfter: 2)
            #expect(try store.pageValidators()["https://a.test/"] == v)
            #expect(try store.storedObservations(pages: ["https://a.test/"])["https://a.test/"]?.decoded()?.resources == report.resources)
        }
    }

    @Test func sitemapsAndIndexes() {
        let urlset = SitemapExtractor.extract(Array("""
            <?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc> https://a.test/1 </loc></url><url><loc>https://a.test/2</loc></url></urlset>
            """.utf8))
        #expect(urlset?.pages == ["https://a.test/1", "https://a.test/2"])
        let index = SitemapExtractor.extract(Array("<sitemapindex><sitemap><loc>https://a.test/s1.xml</loc></sitemap></sitemapindex>".utf8))
        #expect(index?.childSitemaps == ["https://a.test/s1.xml"])
        #expect(SitemapExtractor.extract(Array("<html><body>no</body></html>".utf8)) == nil)
    }
}
