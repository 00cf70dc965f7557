import Foundation
import Testing
import TagwatchTestSupport

/// Hostile operators, files and pages against the built binary (issue 9): each ends in a
/// clear error or correct behaviour, never a crash, a hang or silence.
@Suite(.serialized) struct HardeningTests {
    /// A site folder served on 127.0.0.1 and a config beside it; removed at the end.
    final class Site {
        let dir: String
        let server: TestServer
        var config: String { dir + "/tagwatch.yaml" }

        init(pages: [String: String] = ["index.html": "<html><head><script src=\"https://static.hotjar.com/c/h.js\"></script></head></html>"]) throws {
            dir = try temporaryDirectory("tw-hard")
            try FileManager.default.createDirectory(atPath: dir + "/site", withIntermediateDirectories: true)
            for (name, body) in pages { try body.write(toFile: dir + "/site/" + name, atomically: true, encoding: .utf8) }
            server = try TestServer(root: dir + "/site")
        }

        func writeConfig(_ extra: String = "", targets: String? = nil) throws {
            try """
                targets:
                \(targets ?? "  - url: \(server.url("/index.html"))")
                first_party: [127.0.0.1]
                rules: \(Repo.rules)
                state: state/state.sqlite
                alerts:
                  log: log/alerts.log
                  feed: state/feed.json
                \(extra)
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    // MARK: numbers

    @Test(arguments: ["inf", "nan", "1e308", "-1", "0", "0.0001", "-inf"])
    func scanRejectsOutOfRangeTimeouts(value: String) throws {
        for option in ["--timeout", "--connect-timeout"] {
            let r = try runTagwatch(["scan", "--rules", Repo.rules, option, value, "http://127.0.0.1:9/"])
            #expect(r.status == 2, "\(option) \(value): \(r.stderr)")
            #expect(r.stderr.contains(option), "\(r.stderr)")
        }
    }

    @Test(arguments: [("timeout: inf", "timeout"), ("timeout: nan", "timeout"), ("timeout: 1e308", "timeout"),
                      ("timeout: 0.0001s", "timeout"), ("connect_timeout: -inf", "connect_timeout"),
                      ("max_page_bytes: 99999999999GB", "max_page_bytes"), ("max_page_bytes: 1e30", "max_page_bytes"),
                      ("interval: 1e17", "interval"), ("interval: 99999999999999999999d", "interval"), ("interval: nan", "interval"),
                      ("jitter: inf", "jitter"), ("concurrency: 99999999999", "concurrency"), ("feed_items_: 1", "feed_items_")])
    func configRejectsOutOfRangeNumbersWithFileAndLine(line: String, key: String) throws {
        let site = try Site()
        try site.writeConfig(line)
        let r = try runTagwatch(["run", "--once", "--config", site.config])
        #expect(r.status == 2, "\(line): \(r.stderr)")
        // The key is on line 9 of the config writeConfig writes.
        #expect(r.stderr.contains("tagwatch.yaml:9:"), "\(line): \(r.stderr)")
        #expect(r.stderr.contains(key), "\(r.stderr)")
    }

    @Test func sighupWithAnOutOfRangeIntervalKeepsTheOldConfig() throws {
        let site = try Site()
        try site.writeConfig("interval: 6h")
        let d = try DaemonProcess(["run", "--config", site.config])
        defer { if d.isRunning { d.signal(SIGKILL) } }
        #expect(d.waitForLog("scan finished", count: 1, timeout: 30), "\(d.stderr)")
        try site.writeConfig("interval: 1e17")
        d.signal(SIGHUP)
        #expect(d.waitForLog("reload failed", timeout: 10), "\(d.stderr)")
        #expect(d.stderr.contains("tagwatch.yaml:9:"), "\(d.stderr)")
        // Still running on the old config: a scan on demand finishes, then a clean stop.
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 2, timeout: 30), "\(d.stderr)")
        try site.writeConfig("timeout: inf")
        d.signal(SIGHUP)
        #expect(d.waitForLog("reload failed", count: 2, timeout: 10), "\(d.stderr)")
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 3, timeout: 30), "\(d.stderr)")
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 15) == 0, "\(d.stderr)")
    }

    // MARK: importers

    @Test func whotracksmeImportReadsTheDumpAsDataNeverAsSQL() throws {
        let dir = try temporaryDirectory("tw-import")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/rules/vendors", withIntermediateDirectories: true)
        let cases = [
            "attach": "ATTACH DATABASE '\(dir)/pwned.db' AS p;\nCREATE TABLE p.x(a);\n",
            "cte": "CREATE TABLE trackers(id, name);\nINSERT INTO trackers WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, x FROM c;\n",
            "vacuum": "CREATE TABLE trackers(id, name);\nVACUUM INTO '\(dir)/pwned.db';\n",
        ]
        for (name, sql) in cases {
            try sql.write(toFile: dir + "/\(name).sql", atomically: true, encoding: .utf8)
            let r = try runTagwatch(["rules", "import", "--from", "whotracksme", dir + "/\(name).sql", "--rules", dir + "/rules"])
            #expect(r.status == 2, "\(name): \(r.stderr)")
            #expect(r.stderr.contains("\(name).sql:"), "\(name): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/pwned.db"), "\(name)")
        }
    }

    // MARK: sources

    @Test func aSitemapFromTheNetworkCannotNameLocalFiles() throws {
        let site = try Site()
        let fifo = site.dir + "/site/feed.xml"
        #expect(mkfifo(fifo, 0o600) == 0)
        try "<html><head><script src=\"https://static.hotjar.com/c/secret.js\"></script></head></html>"
            .write(toFile: site.dir + "/local.html", atomically: true, encoding: .utf8)
        try """
            <?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>\(site.dir)/site/pages.xml</loc></sitemap>
              <sitemap><loc>\(fifo)</loc></sitemap>
              <sitemap><loc>file://\(site.dir)/site/pages.xml</loc></sitemap>
              <sitemap><loc>\(site.server.url("/pages.xml"))</loc></sitemap>
            </sitemapindex>
            """.write(toFile: site.dir + "/site/index.xml", atomically: true, encoding: .utf8)
        try """
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc>\(site.server.url("/index.html"))</loc></url>
              <url><loc>\(site.dir)/local.html</loc></url>
            </urlset>
            """.write(toFile: site.dir + "/site/pages.xml", atomically: true, encoding: .utf8)
        try site.writeConfig("unreachable_after: 1", targets: "  - sitemap: \(site.server.url("/index.xml"))")
        let r = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
        let alerts = try runTagwatch(["alerts", "--format", "json", "--config", site.config], timeout: 30)
        #expect(alerts.stdout.contains("not http(s) URLs were refused"), "\(alerts.stdout)")
        let inv = try runTagwatch(["inventory", "--format", "json", "--config", site.config], timeout: 30)
        #expect(inv.stdout.contains("h.js"), "the page the sitemap names over http is scanned: \(inv.stdout)")
        #expect(!inv.stdout.contains("secret.js"), "the local file it names is not read")
        unlink(fifo)
    }

    @Test func aFIFONamedLikeAPageDoesNotHangAScan() throws {
        let site = try Site()
        let folder = site.dir + "/site"
        #expect(mkfifo(folder + "/blocked.html", 0o600) == 0)
        defer { unlink(folder + "/blocked.html") }
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", folder, folder + "/blocked.html"], timeout: 60)
        #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("blocked.html is a FIFO"), "\(r.stderr)")
        #expect(r.stdout.contains("static.hotjar.com"), "the regular page beside it is still scanned")
    }

    // MARK: sinks

    /// A log and a feed that cannot be written (each a folder where the file should be, which
    /// even root cannot write): the scans are still recorded, the failure is said with the OS
    /// error, and once the sink works each pending event reaches it exactly once.
    @Test func aFailingSinkFailsAlone() throws {
        let site = try Site(pages: ["index.html": "<html><head><script src=\"https://static.hotjar.com/c/h.js\"></script></head></html>"])
        try site.writeConfig()
        try FileManager.default.createDirectory(atPath: site.dir + "/log/alerts.log", withIntermediateDirectories: true)
        let r1 = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(r1.status == 3, "\(r1.stdout)\(r1.stderr)")
        #expect(r1.stderr.contains("alert log") && r1.stderr.contains("Is a directory (errno 21)"), "\(r1.stderr)")
        #expect(r1.stdout.contains("1 alerts raised"), "the scan is recorded: \(r1.stdout)")
        // The feed worked alone.
        let feed1 = try String(contentsOfFile: site.dir + "/state/feed.json", encoding: .utf8)
        #expect(feed1.components(separatedBy: "\"event\": \"raised\"").count - 1 == 1, "\(feed1)")

        // Still failing, and the page changes: the second scan is recorded too.
        try "<html><head><script src=\"https://static.hotjar.com/c/h.js\"></script><script src=\"https://connect.facebook.net/en_US/fbevents.js\"></script></head></html>"
            .write(toFile: site.dir + "/site/index.html", atomically: true, encoding: .utf8)
        let r2 = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(r2.status == 3)
        #expect(r2.stdout.contains("1 alerts raised"), "\(r2.stdout)")
        #expect(r2.stderr.components(separatedBy: "sink failed").count - 1 == 1, "said once per cycle: \(r2.stderr)")

        // The log works again; the feed breaks instead.
        try FileManager.default.removeItem(atPath: site.dir + "/log/alerts.log")
        try FileManager.default.removeItem(atPath: site.dir + "/state/feed.json")
        try FileManager.default.createDirectory(atPath: site.dir + "/state/feed.json", withIntermediateDirectories: true)
        // A change, so the feed has something new to write.
        try "<html><head><script src=\"https://connect.facebook.net/en_US/fbevents.js\"></script></head></html>"
            .write(toFile: site.dir + "/site/index.html", atomically: true, encoding: .utf8)
        let r3 = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(r3.status == 3)
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: site.dir + "/state/feed.json", isDirectory: &isDir) && isDir.boolValue)
        #expect(r3.stderr.contains("feed"), "\(r3.stderr)")
        func logLines() -> [String] {
            ((try? String(contentsOfFile: site.dir + "/log/alerts.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        #expect(logLines().count == 3, "the two pending events and the new one, once each: \(logLines())")

        // Everything works: the feed catches up, the log gets nothing twice.
        try FileManager.default.removeItem(atPath: site.dir + "/state/feed.json")
        let r4 = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(r4.status == 0, "\(r4.stderr)")
        let r5 = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(r5.status == 0, "\(r5.stderr)")
        #expect(logLines().count == 3, "\(logLines())")
        let feed = try String(contentsOfFile: site.dir + "/state/feed.json", encoding: .utf8)
        #expect(feed.components(separatedBy: "\"event\": \"raised\"").count - 1 == 2, "\(feed)")
        #expect(feed.components(separatedBy: "\"event\": \"resolved\"").count - 1 == 1, "\(feed)")
    }

    // MARK: one daemon per state

    @Test func oneDaemonPerStateFile() throws {
        let site = try Site()
        try site.writeConfig()
        let d = try DaemonProcess(["run", "--config", site.config])
        defer { if d.isRunning { d.signal(SIGKILL) } }
        #expect(d.waitForLog("scan finished", count: 1, timeout: 30), "\(d.stderr)")
        let once = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(once.status == 2, "\(once.stdout)\(once.stderr)")
        #expect(once.stderr.contains("PID \(d.pid)"), "\(once.stderr)")
        let second = try runTagwatch(["run", "--config", site.config], timeout: 60)
        #expect(second.status == 2, "\(second.stderr)")
        #expect(second.stderr.contains("PID \(d.pid)"), "\(second.stderr)")
        #expect(d.isRunning)
        // A config naming the same state by another path is the same state file.
        let other = site.dir + "/other.yaml"
        try String(contentsOfFile: site.config, encoding: .utf8)
            .replacingOccurrences(of: "state: state/state.sqlite", with: "state: \(site.dir)/state/state.sqlite")
            .write(toFile: other, atomically: true, encoding: .utf8)
        #expect(try runTagwatch(["run", "--once", "--config", other], timeout: 60).status == 2)
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 15) == 0, "\(d.stderr)")
        let after = try runTagwatch(["run", "--once", "--config", site.config], timeout: 60)
        #expect(after.status == 0, "the lock goes with the process: \(after.stderr)")
    }

    // MARK: operator regexes

    /// Rules with one vendor whose tag_ids pattern backtracks exponentially on its own URLs.
    func slowRules(in dir: String) throws -> String {
        let rules = dir + "/rules"
        try FileManager.default.createDirectory(atPath: rules + "/vendors", withIntermediateDirectories: true)
        try """
            vendors:
              - id: slow-vendor
                name: Slow Vendor
                company: Slow Inc
                category: analytics
                hosts: [slow.test]
                tag_ids: ['(a+)+$']
            """.write(toFile: rules + "/vendors/slow.yaml", atomically: true, encoding: .utf8)
        return rules
    }

    static func slowPage(scripts: Int) -> String {
        let evil = String(repeating: "a", count: 60) + "!"
        return "<html><head>" + (0..<scripts).map { "<script src=\"https://slow.test/\($0)/\(evil)\"></script>" }.joined() + "</head></html>"
    }

    @Test func aBacktrackingTagIDPatternIsStoppedAndReported() throws {
        let site = try Site(pages: ["index.html": Self.slowPage(scripts: 3)])
        let rules = try slowRules(in: site.dir)
        let r = try runTagwatch(["scan", "--rules", rules, "--format", "json", site.dir + "/site/index.html"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("slow-vendor"), "the vendor is still attributed")
        #expect(r.stderr.contains("slow.yaml:2: tag_ids pattern '(a+)+$' of 'slow-vendor' took more than"), "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "took more than").count - 1 == 1, "reported once")
    }

    @Test func sigtermStopsTheDaemonDuringASlowPattern() throws {
        // 3,000 distinct URLs at the budget each: minutes of matching unless SIGTERM stops it.
        let site = try Site(pages: ["index.html": Self.slowPage(scripts: 3000)])
        let rules = try slowRules(in: site.dir)
        try site.writeConfig()
        let config = try String(contentsOfFile: site.config, encoding: .utf8)
            .replacingOccurrences(of: "rules: \(Repo.rules)", with: "rules: \(rules)")
        try config.write(toFile: site.config, atomically: true, encoding: .utf8)
        let d = try DaemonProcess(["run", "--config", site.config])
        defer { if d.isRunning { d.signal(SIGKILL) } }
        #expect(d.waitForLog("took more than", timeout: 60), "\(d.stderr)")
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 20) == 0, "\(d.stderr)")
    }
}
