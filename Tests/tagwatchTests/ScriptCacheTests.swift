import Foundation
import Testing
import TagwatchTestSupport

/// Followed scripts fetched conditionally (issue 12, "the same for followed scripts"): the built
/// binary against a loopback site whose two pages load a tag-manager container and a shared
/// first-party script from the test server, which counts the 304s it answers.
@Suite(.serialized) struct ScriptCacheTests {
    let tmp: TempDir
    let dir: String
    let site: String
    let server: TestServer

    init() throws {
        tmp = try TempDir("tw-script-cache")
        dir = tmp.path
        site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site + "/js", withIntermediateDirectories: true)
        server = try TestServer(root: site)
        try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/follow/gtm-served.js")).write(to: URL(fileURLWithPath: site + "/gtm.js"))
        try "/* app v1 */ window.app = 1;\n".write(toFile: site + "/js/app.js", atomically: true, encoding: .utf8)
        for (name, container) in [("index", true), ("about", false)] {
            try """
                <!doctype html><html><head><title>\(name)</title>
                \(container ? "<script async src=\"\(server.url("/gtm.js?id=GTM-TEST123"))\"></script>" : "")
                <script src="/js/app.js"></script>
                </head><body><p>Hello</p></body></html>
                """.write(toFile: site + "/\(name).html", atomically: true, encoding: .utf8)
        }
        try """
            vendors:
              google-tag-manager: {status: approved}
              google-analytics: {status: approved}
              google-ads: {status: approved}
              google-campaign-manager-360: {status: approved}
              microsoft-advertising-uet: {status: approved}
              hotjar: {status: approved}
              hubspot: {status: approved}
              meta-pixel: {status: approved}
              microsoft-clarity: {status: approved}
              tiktok-pixel: {status: approved}
              linkedin-insight: {status: approved}
            """.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        try """
            targets:
              - url: \(server.url("/index.html"))
              - url: \(server.url("/about.html"))
            first_party: [127.0.0.1]
            timeout: 10s
            rules: \(Repo.rules)
            registry: approved.yaml
            state: state.sqlite
            alerts:
              log: alerts.log
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
    }

    var state: String { dir + "/state.sqlite" }

    func once(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(r.status == 0, "run --once exited \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
    }

    func notModifiedCount() throws -> Int {
        let r = try runProgram(["curl", "-s", "--noproxy", "*", server.url("/not-modified-count")])
        return try #require(Int(r.stdout), "not-modified-count said '\(r.stdout)'")
    }

    func raised(since count: Int) -> [Substring] {
        let log = (try? String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").dropFirst(count).filter { $0.contains("event=raised") }
    }

    func logLineCount() -> Int {
        ((try? String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test func unchangedScriptsAnswer304AndAChangedOneIsSeen() throws {
        try once()
        #expect(try notModifiedCount() == 0)
        #expect(try sqlite(state, "SELECT count(*) FROM script_cache") == ["2"], "the container and the shared script are stored")
        #expect(raised(since: 0).isEmpty, "everything is approved: \(raised(since: 0))")
        let hashes = try sqlite(state, "SELECT url, sha384 FROM scripts ORDER BY url")

        // Nothing changed: both pages and both scripts (the shared one asked for once) answer 304,
        // nothing is raised, and the scripts' hashes are recorded as before.
        try once()
        #expect(try notModifiedCount() == 4)
        #expect(logLineCount() == 0)
        #expect(try sqlite(state, "SELECT url, sha384 FROM scripts ORDER BY url") == hashes)
        #expect(try sqlite(state, "SELECT count(*) FROM \(pageScriptsSeen) WHERE seen_scan != (SELECT max(id) FROM scans)") == ["0"])
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE host = 'static.hotjar.com' AND seen_scan = (SELECT max(id) FROM scans)") == ["1"],
                "what the stored container analysis loads is still current")

        // Marketing publishes a container with a Quora pixel nobody approved, and the shared script
        // changes: both are fetched whole (their ETags differ), the tag is seen inside the container
        // and the script's change is alerted; only the two pages answer 304.
        var container = try String(contentsOfFile: site + "/gtm.js", encoding: .utf8)
        container = container.replacingOccurrences(of: #""tags": ["#, with: #""tags": [{"function": "__qpx", "tag_id": 21}, "#)
        try container.write(toFile: site + "/gtm.js", atomically: true, encoding: .utf8)
        try "/* app v2 */ window.app = 2;\n".write(toFile: site + "/js/app.js", atomically: true, encoding: .utf8)
        try once()
        #expect(try notModifiedCount() == 6)
        let added = raised(since: 0)
        #expect(added.contains { $0.contains("kind=unapproved-vendor") && $0.contains("quora-pixel") && $0.contains("GTM-TEST123") }, "\(added)")
        #expect(added.contains { $0.contains("kind=script-changed") && $0.contains("/js/app.js") }, "\(added)")
        #expect(try sqlite(state, "SELECT url, sha384 FROM scripts ORDER BY url") != hashes)

        // Unchanged again: 304s for all four, nothing new, the Quora pixel still current.
        let lines = logLineCount()
        try once()
        #expect(try notModifiedCount() == 10)
        #expect(raised(since: lines).isEmpty, "\(raised(since: lines))")
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE vendor_id = 'quora-pixel' AND seen_scan = (SELECT max(id) FROM scans)") == ["1"])
    }

    @Test func aStoredAnalysisThatCannotBeReadIsFetchedWholeAgain() throws {
        try once()
        try once()
        #expect(try notModifiedCount() == 4)
        // The stored analysis of the container is damaged: its 304 leaves nothing to reuse, so it
        // is fetched whole again and what it loads is still seen.
        _ = try sqlite(state, "UPDATE script_cache SET analysis = X'00FF' WHERE url LIKE '%gtm.js%'")
        try once()
        #expect(try notModifiedCount() == 8)
        #expect(logLineCount() == 0)
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE host = 'static.hotjar.com' AND seen_scan = (SELECT max(id) FROM scans)") == ["1"])
    }

    /// A third-party script the page loads fails every cycle (here: the loopback-only proxy
    /// refuses it), with an error whose wording carries a timing. The page is still unchanged:
    /// its stored observation is not rewritten (the stored error's wording stands) and nothing is
    /// raised, while the script's own record takes this cycle's error.
    @Test func aScriptFailingAgainLeavesThePageUnchanged() throws {
        try """
            <!doctype html><html><head><title>about</title>
            <script src="/js/app.js"></script><script src="https://static.hotjar.com/c/hotjar-1.js"></script>
            </head><body><p>Hello</p></body></html>
            """.write(toFile: site + "/about.html", atomically: true, encoding: .utf8)
        try once()
        let about = server.url("/about.html")
        #expect(try sqlite(state, "SELECT count(*) FROM scripts WHERE url LIKE '%hotjar-1.js' AND last_error IS NOT NULL") == ["1"])
        _ = try sqlite(state, "UPDATE page_cache SET report = replace(report, '\"error\":\"', '\"error\":\"(stored) ') WHERE page = '\(about)'")
        #expect(try sqlite(state, "SELECT count(*) FROM page_cache WHERE report LIKE '%(stored) %'") == ["1"])
        try once()
        #expect(try notModifiedCount() == 4, "both pages, the container and the shared script (asked for once)")
        #expect(try sqlite(state, "SELECT count(*) FROM page_cache WHERE report LIKE '%(stored) %'") == ["1"], "not rewritten")
        #expect(try sqlite(state, "SELECT count(*) FROM scripts WHERE last_error LIKE '(stored)%'") == ["0"])
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE page = '\(about)' AND seen_scan != (SELECT max(id) FROM scans)") == ["0"])
    }

    /// A state of schema 6 (page_cache without fingerprints, no script_cache) migrates to 7; its
    /// stored pages, whose vendors came from an unrecorded catalog, are scanned whole once and
    /// stored again, then answered 304.
    @Test func schemaSixMigratesAndItsStoredPagesAreScannedWholeOnce() throws {
        try once()
        // Back to what schema 6 wrote.
        for step in ["DROP TABLE script_cache", "ALTER TABLE page_cache DROP COLUMN fingerprint", "DROP INDEX resources_vendor_via",
                     "DROP INDEX resources_host_via", "ALTER TABLE pages DROP COLUMN resources_seen",
                     "ALTER TABLE pages DROP COLUMN resources_scan", "ALTER TABLE pages DROP COLUMN scripts_digest",
                     "ALTER TABLE pages DROP COLUMN scripts_seen", "ALTER TABLE pages DROP COLUMN scripts_scan",
                     "PRAGMA user_version = 6"] {
            _ = try sqlite(state, step)
        }
        #expect(try sqlite(state, "SELECT count(*) FROM page_cache") == ["2"])
        try once()
        #expect(try sqlite(state, "PRAGMA user_version") == ["9"])
        #expect(try sqlite(state, "SELECT count(*) FROM sqlite_master WHERE name IN ('resources_vendor_via', 'resources_host_via')") == ["2"])
        #expect(try sqlite(state, "EXPLAIN QUERY PLAN SELECT via FROM resources WHERE vendor_id = 'x' AND via IS NOT NULL AND via != '' GROUP BY via").joined().contains("resources_vendor_via"))
        #expect(try notModifiedCount() == 0, "no page or script was asked for conditionally from an unfingerprinted copy")
        #expect(try sqlite(state, "SELECT count(*) FROM page_cache WHERE fingerprint IS NOT NULL") == ["2"])
        #expect(try sqlite(state, "SELECT count(*) FROM script_cache") == ["2"])
        try once()
        #expect(try notModifiedCount() == 4)
        #expect(logLineCount() == 0)
    }

    /// Another catalog (a rules folder with one more vendor) changes the fingerprint: stored
    /// pages and scripts are not reused, since their resources' vendors came from the old one.
    @Test func anotherCatalogMeansNothingStoredIsReused() throws {
        try once()
        try once()
        #expect(try notModifiedCount() == 4)
        let rules = dir + "/rules"
        try FileManager.default.createDirectory(atPath: rules + "/vendors", withIntermediateDirectories: true)
        try """
            vendors:
              - id: example-widgets
                name: Example Widgets
                company: Example Widgets Ltd
                category: other
                hosts: [widgets.example-vendor.test]
            """.write(toFile: rules + "/vendors/extra.yaml", atomically: true, encoding: .utf8)
        let config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
        try config.replacingOccurrences(of: "rules: \(Repo.rules)", with: "rules: \(rules)")
            .write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        try once()
        #expect(try notModifiedCount() == 4, "nothing was asked for conditionally under another catalog")
        try once()
        #expect(try notModifiedCount() == 8)
    }
}
