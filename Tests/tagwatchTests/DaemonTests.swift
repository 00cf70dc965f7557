import Foundation
import Testing
import TagwatchTestSupport

/// The daemon end to end: the built binary, a real HTTP server on 127.0.0.1, real SQLite files,
/// real signals. Each test gets its own site folder, config and state.
@Suite(.serialized) struct DaemonTests {
    let dir: String
    let site: String
    let server: TestServer

    init() throws {
        dir = try temporaryDirectory("tw-daemon")
        site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try Self.page(gtm: true, hotjar: false).write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        try Self.page(gtm: false, hotjar: false).write(toFile: site + "/about.html", atomically: true, encoding: .utf8)
        server = try TestServer(root: site)
        try """
            vendors:
              google-tag-manager: {status: approved, owner: web@example.com}
            """.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        try writeConfig()
    }

    static func page(gtm: Bool, hotjar: Bool) -> String {
        var head = "<title>Shop</title><script src=\"/assets/app.js\"></script>"
        if gtm { head += "<script async src=\"https://www.googletagmanager.com/gtm.js?id=GTM-TEST1\"></script>" }
        if hotjar { head += "<script async src=\"https://static.hotjar.com/c/hotjar-12345.js?sv=6\"></script>" }
        return "<!doctype html><html><head>\(head)</head><body><p>Hello</p></body></html>"
    }

    func writeConfig(extraTargets: [String] = [], interval: String = "6h") throws {
        var targets = ["  - url: \(server.url("/index.html"))", "  - url: \(server.url("/about.html"))"]
        targets += extraTargets.map { "  - url: \($0)" }
        try """
            targets:
            \(targets.joined(separator: "\n"))
            first_party: [127.0.0.1]
            interval: \(interval)
            timeout: 3s
            rules: \(Repo.rules)
            registry: approved.yaml
            state: state/state.sqlite
            alerts:
              log: log/alerts.log
              feed: state/feed.json
              feed_title: Test feed
              feed_items: 50
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
    }

    /// Gives transfers a long timeout, for tests that stop the daemon while one hangs.
    func useLongTimeout() throws {
        let config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
            .replacingOccurrences(of: "timeout: 3s", with: "timeout: 60s")
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
    }

    func logLines() -> [String] {
        ((try? String(contentsOfFile: dir + "/log/alerts.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func feedItems() throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/state/feed.json"))
        let feed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(feed["items"] as? [[String: Any]])
    }

    func once() throws -> RunResult {
        try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
    }

    @Test func alertsAreRaisedOnceAndResolvedOnce() throws {
        let r1 = try once()
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(logLines().isEmpty, "baseline has only approved vendors: \(logLines())")

        // The home page gains an unapproved vendor: exactly one alert, in the log and the feed.
        try Self.page(gtm: true, hotjar: true).write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        let r2 = try once()
        #expect(r2.status == 0)
        let lines = logLines()
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("event=raised") == true)
        #expect(lines.first?.contains("kind=unapproved-vendor") == true)
        #expect(lines.first?.contains("vendor=hotjar") == true)
        #expect(lines.first?.contains("company=Contentsquare") == true)
        var items = try feedItems()
        #expect(items.count == 1)
        let ext = try #require(items.first?["_tagwatch"] as? [String: Any])
        let alert = try #require(ext["alert"] as? [String: Any])
        #expect(alert["kind"] as? String == "unapproved-vendor")
        #expect((alert["vendor"] as? [String: Any])?["category"] as? String == "session-replay")
        let id = try #require(alert["id"] as? String)

        // Nothing changes: nothing is raised again.
        _ = try once()
        #expect(logLines().count == 1)
        #expect(try feedItems().count == 1)

        // The tag goes: the alert is resolved, once.
        try Self.page(gtm: true, hotjar: false).write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        _ = try once()
        let after = logLines()
        #expect(after.count == 2)
        #expect(after.last?.contains("event=resolved") == true)
        #expect(after.last?.contains("id=\(id)") == true)
        items = try feedItems()
        #expect(items.count == 2)
        #expect(((items.first?["_tagwatch"] as? [String: Any])?["event"] as? String) == "resolved", "newest first")
        _ = try once()
        #expect(logLines().count == 2)

        // alerts and inventory read the same state.
        let open = try runTagwatch(["alerts", "--open", "--config", dir + "/tagwatch.yaml"])
        #expect(open.stdout.contains("no open alerts"))
        let inv = try runTagwatch(["inventory", "--format", "csv", "--config", dir + "/tagwatch.yaml"])
        #expect(inv.stdout.contains("static.hotjar.com"))
        #expect(inv.stdout.contains(",no\n") || inv.stdout.hasSuffix(",no"), "hotjar is no longer current")
    }

    /// One alert per vendor across pages: raised once, pages joining or leaving update it without
    /// a new raise, `alerts show` lists every page; `group_by: page` gives one per page again.
    @Test func oneAlertPerVendorAcrossPagesAndAlertsShowListsEveryPage() throws {
        try Self.page(gtm: true, hotjar: true).write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        try Self.page(gtm: false, hotjar: true).write(toFile: site + "/about.html", atomically: true, encoding: .utf8)
        let r1 = try once()
        #expect(r1.status == 0, "\(r1.stderr)")
        var lines = logLines()
        #expect(lines.count == 1, "one alert for Hotjar on both pages: \(lines)")
        #expect(lines.first?.contains("pages=2") == true)
        let id = try #require(lines.first?.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) })
        var show = try runTagwatch(["alerts", "show", id, "--config", dir + "/tagwatch.yaml"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains(server.url("/index.html")) && show.stdout.contains(server.url("/about.html")), "\(show.stdout)")
        #expect(show.stdout.contains("pages (2)"))

        // About drops it: the alert shrinks to one page, with no new event.
        try Self.page(gtm: false, hotjar: false).write(toFile: site + "/about.html", atomically: true, encoding: .utf8)
        _ = try once()
        #expect(logLines().count == 1)
        show = try runTagwatch(["alerts", "show", id, "--format", "json", "--config", dir + "/tagwatch.yaml"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect((json["pages"] as? [[String: Any]])?.compactMap { $0["page"] as? String } == [server.url("/index.html")])
        #expect(json["page_count"] as? Int == 1)
        #expect(json["state"] as? String == "open")

        // group_by: page turns the open grouped alert into the per-page one, raised once.
        var config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
        config = config.replacingOccurrences(of: "  feed_items: 50", with: "  feed_items: 50\n  group_by: page")
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        _ = try once()
        lines = logLines()
        #expect(lines.count == 2)
        #expect(lines.last?.contains("event=raised") == true && lines.last?.contains("page=\(server.url("/index.html"))") == true)
        let merged = try runTagwatch(["alerts", "show", id, "--config", dir + "/tagwatch.yaml"])
        #expect(merged.stdout.contains("merged into tw-"), "\(merged.stdout)")
        _ = try once()
        #expect(logLines().count == 2, "and nothing repeats")
    }

    @Test func jsonLogFormatAndUnreachableTargets() throws {
        try writeConfig(extraTargets: [server.url("/status/503")])
        var config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
        config = config.replacingOccurrences(of: "  feed_items: 50", with: "  feed_items: 50\n  log_format: json")
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let r1 = try once()
        #expect(r1.status == 3, "a failed target exits 3 like scan")
        #expect(logLines().isEmpty, "unreachable only after 2 cycles")
        _ = try once()
        let lines = logLines()
        #expect(lines.count == 1)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(obj["kind"] as? String == "target-unreachable")
        #expect(obj["event"] as? String == "raised")
    }

    @Test func signalsReloadScanAndStop() throws {
        let notify = try NotifyListener()
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"], environment: ["NOTIFY_SOCKET": notify.path])
        #expect(notify.waitFor("READY=1", timeout: 20) != nil)
        #expect(d.waitForLog("scan finished", count: 1, timeout: 20))
        #expect(notify.waitFor("STATUS=last scan", timeout: 10) != nil)

        // SIGUSR1: scan now.
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 2, timeout: 20), "\(d.stderr)")

        // SIGHUP with a broken rules file: reported, old rules kept, still running.
        let good = try String(contentsOfFile: dir + "/approved.yaml", encoding: .utf8)
        try "vendors:\n  google-tag-manager: {status: maybe}\n".write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        #expect(d.waitForLog("reload failed", timeout: 10), "\(d.stderr)")
        #expect(d.stderr.contains("approved.yaml:2"))
        #expect(d.process.isRunning)
        // And with a good one again: reloaded.
        try good.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        #expect(d.waitForLog("reloaded config and rules", timeout: 10), "\(d.stderr)")
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 3, timeout: 20))

        // SIGTERM: graceful, exit 0 within seconds.
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 10) == 0, "\(d.stderr)")
        #expect(notify.waitFor("STOPPING=1", timeout: 2) != nil || notify.received.contains { $0.contains("STOPPING=1") })
    }

    @Test func sigtermCancelsInFlightTransfers() throws {
        try writeConfig(extraTargets: [server.url("/never")])
        try useLongTimeout()
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        #expect(d.waitForLog("tagwatch started", timeout: 20))
        usleep(500_000)
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 10) == 0, "\(d.stderr)")
        #expect(d.stderr.contains("scan cancelled"))
    }

    @Test func sigkillMidCycleLosesNoFinishedScan() throws {
        let r1 = try once()
        #expect(r1.status == 0)
        // A cycle that hangs on a slow page, killed in the middle.
        try writeConfig(extraTargets: [server.url("/slow?seconds=30")])
        try useLongTimeout()
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        #expect(d.waitForLog("tagwatch started", timeout: 20))
        usleep(700_000)
        d.signal(SIGKILL)
        _ = d.waitForExit(timeout: 5)
        // The finished scan is whole; the killed one left nothing half-written.
        try writeConfig()
        let inv = try runTagwatch(["inventory", "--format", "json", "--config", dir + "/tagwatch.yaml"])
        #expect(inv.status == 0, "\(inv.stderr)")
        #expect(inv.stdout.contains("www.googletagmanager.com"))
        let r2 = try once()
        #expect(r2.status == 0, "\(r2.stderr)")
        let integrity = Process()
        integrity.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        integrity.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('pragma integrity_check').fetchone()[0], c.execute('select count(*) from scans').fetchone()[0])", dir + "/state/state.sqlite"]
        let pipe = Pipe()
        integrity.standardOutput = pipe
        try integrity.run()
        integrity.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "ok 2")
    }

    @Test func sitemapTargetsExpandToTheirPages() throws {
        try """
            <?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc>\(server.url("/index.html"))</loc></url>
              <url><loc>\(server.url("/about.html"))</loc></url>
              <url><loc>\(server.url("/missing.html"))</loc></url>
            </urlset>
            """.write(toFile: site + "/sitemap.xml", atomically: true, encoding: .utf8)
        try """
            <?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>\(server.url("/sitemap.xml"))</loc></sitemap>
            </sitemapindex>
            """.write(toFile: site + "/sitemap-index.xml", atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
        let targets = config.components(separatedBy: "first_party:")[0]
        config = config.replacingOccurrences(of: targets, with: "targets:\n  - sitemap: \(server.url("/sitemap-index.xml"))\n    limit: 2\n")
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let r = try once()
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("2 pages"), "limit 2 leaves out the missing page: \(r.stdout)")
        let inv = try runTagwatch(["inventory", "--format", "json", "--config", dir + "/tagwatch.yaml"])
        #expect(inv.stdout.contains(server.url("/index.html")))

        // A sitemap that cannot be read is a failed target of its own, not a silently empty list.
        config = config.replacingOccurrences(of: server.url("/sitemap-index.xml"), with: server.url("/status/404"))
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let bad = try once()
        #expect(bad.status == 3)
        #expect(bad.stdout.contains("1 failed"), "\(bad.stdout)")
    }

    @Test func configErrorsNameFileAndLine() throws {
        try "targets:\n  - url: https://x.test/\nintervall: 6h\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["run", "--once", "--config", dir + "/bad.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.yaml:3: unknown field 'intervall'"))
        #expect(r.stderr.contains("did you mean 'interval'"))
    }
}
