import Foundation
import Testing
import TagwatchTestSupport

/// The daemon end to end: the built binary, a real HTTP server on 127.0.0.1, real SQLite files,
/// real signals. Each test gets its own site folder, config and state (removed after it), and
/// every run's exit code is checked, so under the sanitizer pass a leak fails its test.
@Suite(.serialized) struct DaemonTests {
    let tmp: TempDir
    let dir: String
    let site: String
    let server: TestServer

    init() throws {
        tmp = try TempDir("tw-daemon")
        dir = tmp.path
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

    static func page(gtm: Bool, hotjar: Bool, extra: String = "") -> String {
        var head = "<title>Shop</title><script src=\"/assets/app.js\"></script>"
        if gtm { head += "<script async src=\"https://www.googletagmanager.com/gtm.js?id=GTM-TEST1\"></script>" }
        if hotjar { head += "<script async src=\"https://static.hotjar.com/c/hotjar-12345.js?sv=6\"></script>" }
        return "<!doctype html><html><head>\(head)\(extra)</head><body><p>Hello</p></body></html>"
    }

    /// `top`: more top-level config lines; `alerts`: more lines under `alerts:`.
    func writeConfig(extraTargets: [String] = [], interval: String = "6h", top: [String] = [], alerts: [String] = [],
                     rules: String = Repo.rules, feedItems: Int = 50) throws {
        var targets = ["  - url: \(server.url("/index.html"))", "  - url: \(server.url("/about.html"))"]
        targets += extraTargets.map { "  - url: \($0)" }
        try """
            targets:
            \(targets.joined(separator: "\n"))
            first_party: [127.0.0.1]
            interval: \(interval)
            timeout: 30s
            rules: \(rules)
            registry: approved.yaml
            state: state/state.sqlite
            \(top.joined(separator: "\n"))
            alerts:
              log: log/alerts.log
              feed: state/feed.json
              feed_title: Test feed
              feed_items: \(feedItems)
            \(alerts.map { "  " + $0 }.joined(separator: "\n"))
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
    }

    func logLines(_ file: String = "log/alerts.log") -> [String] {
        ((try? String(contentsOfFile: dir + "/" + file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func feedItems() throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/state/feed.json"))
        let feed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(feed["items"] as? [[String: Any]])
    }

    /// One cycle; its exit code must be `expect`.
    @discardableResult
    func once(_ extra: [String] = [], expect: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"] + extra)
        #expect(r.status == expect, "run --once exited \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    func tagwatch(_ args: [String], expect: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try runTagwatch(args + ["--config", dir + "/tagwatch.yaml"])
        #expect(r.status == expect, "tagwatch \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    var state: String { dir + "/state/state.sqlite" }

    func setHome(gtm: Bool = true, hotjar: Bool, extra: String = "") throws {
        try Self.page(gtm: gtm, hotjar: hotjar, extra: extra).write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
    }

    @Test func alertsAreRaisedOnceAndResolvedOnce() throws {
        try once()
        #expect(logLines().isEmpty, "baseline has only approved vendors: \(logLines())")

        // The home page gains an unapproved vendor: exactly one alert, in the log and the feed.
        try setHome(hotjar: true)
        try once()
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
        try once()
        #expect(logLines().count == 1)
        #expect(try feedItems().count == 1)

        // The tag goes: the alert is resolved, once.
        try setHome(hotjar: false)
        try once()
        let after = logLines()
        #expect(after.count == 2)
        #expect(after.last?.contains("event=resolved") == true)
        #expect(after.last?.contains("id=\(id)") == true)
        items = try feedItems()
        #expect(items.count == 2)
        #expect(((items.first?["_tagwatch"] as? [String: Any])?["event"] as? String) == "resolved", "newest first")
        try once()
        #expect(logLines().count == 2)

        // alerts and inventory read the same state.
        let open = try tagwatch(["alerts", "--open"])
        #expect(open.stdout.contains("no open alerts"))
        let inv = try tagwatch(["inventory", "--format", "csv"])
        let rows = inv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(rows.first)
        let host = try #require(header.firstIndex(of: "host")), current = try #require(header.firstIndex(of: "current"))
        let hotjarRow = try #require(rows.first { $0.count == header.count && $0[host] == "static.hotjar.com" }, "\(inv.stdout)")
        #expect(hotjarRow[current] == "no", "hotjar is no longer current: \(hotjarRow)")
        let gtmRow = try #require(rows.first { $0.count == header.count && $0[host] == "www.googletagmanager.com" })
        #expect(gtmRow[current] == "yes", "GTM still is: \(gtmRow)")
    }

    /// How many 304s the test server has answered so far.
    func notModifiedCount() throws -> Int {
        let r = try runProgram(["curl", "-s", "--noproxy", "*", server.url("/not-modified-count")])
        return try #require(Int(r.stdout), "not-modified-count said '\(r.stdout)'")
    }

    /// Unchanged pages nearly free (issue 12): the second cycle of an unchanged site is answered
    /// with 304s and raises or resolves nothing; a changed page is scanned again; a server without
    /// validators that sends the same bytes gets the stored observation reused, not a parse.
    @Test func unchangedPagesAreFetchedConditionallyAndTheirLastObservationReused() throws {
        try Self.page(gtm: true, hotjar: false).write(toFile: site + "/tagged.html", atomically: true, encoding: .utf8)
        let gz = server.url("/gzip/tagged.html")
        try writeConfig(extraTargets: [gz])
        try once()
        #expect(try notModifiedCount() == 0)
        #expect(try sqlite(state, "SELECT count(*), count(etag), count(last_modified) FROM page_cache") == ["3|2|2"])

        // Nothing changed: both file pages answer 304; nothing is raised or resolved.
        try once()
        #expect(try notModifiedCount() == 2)
        #expect(logLines().isEmpty, "\(logLines())")
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE seen_scan != (SELECT max(id) FROM scans)") == ["0"],
                "an unchanged page's resources are seen again")

        // A changed page is scanned again; the unchanged one still answers 304.
        try setHome(hotjar: true)
        try once()
        #expect(try notModifiedCount() == 3)
        #expect(logLines().count == 1)
        #expect(logLines().first?.contains("vendor=hotjar") == true)

        // Unchanged again: the open alert stays open and nothing new is said.
        try once()
        #expect(try notModifiedCount() == 5)
        #expect(logLines().count == 1, "\(logLines())")
        #expect(try sqlite(state, "SELECT count(*) FROM alerts WHERE state = 'open'") == ["1"])
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE host = 'static.hotjar.com' AND seen_scan = (SELECT max(id) FROM scans)") == ["1"])

        // The tag goes: the changed page is scanned again and the alert resolved, once.
        try setHome(hotjar: false)
        try once()
        #expect(try notModifiedCount() == 6)
        #expect(logLines().count == 2)
        #expect(logLines().last?.contains("event=resolved") == true)

        // The gzip route sends no validators: the same bytes are known by their SHA-256 and the
        // stored observation is what counts, not a parse (doctored here to name an unapproved vendor).
        _ = try sqlite(state, "UPDATE page_cache SET report = replace(report, '\"google-tag-manager\"', '\"hotjar\"') WHERE page = '\(gz)'")
        try once()
        #expect(try notModifiedCount() == 8)
        #expect(logLines().count == 3, "\(logLines())")
        #expect(logLines().last?.contains("event=raised") == true)
        #expect(logLines().last?.contains("tagged.html") == true, "\(logLines())")

        // A stored hash that does not match makes the page be parsed again: the truth comes back.
        _ = try sqlite(state, "UPDATE page_cache SET body_sha256 = 'stale' WHERE page = '\(gz)'")
        try once()
        #expect(try sqlite(state, "SELECT length(body_sha256) FROM page_cache WHERE page = '\(gz)'") == ["64"])
        #expect(logLines().count == 4, "\(logLines())")
        #expect(logLines().last?.contains("event=resolved") == true)

        // A stored observation that cannot be read (a damaged state) behind a 304: the page is
        // asked for again, whole, and scanned; its stored copy is written anew and nothing is
        // raised, resolved or failed (the other page still answers 304).
        let home = server.url("/index.html")
        let storedResources = try sqlite(state, "SELECT url FROM resources WHERE page = '\(home)' ORDER BY url")
        _ = try sqlite(state, "UPDATE page_cache SET report = '{\"damaged' WHERE page = '\(home)'")
        let before304 = try notModifiedCount()
        let damaged = try once()
        #expect(damaged.stdout.contains("0 failed"), "\(damaged.stdout)")
        #expect(try notModifiedCount() == before304 + 2, "both pages asked conditionally; the damaged one again whole")
        #expect(try sqlite(state, "SELECT substr(report, 1, 1) FROM page_cache WHERE page = '\(home)'") == ["{"])
        #expect(try sqlite(state, "SELECT report LIKE '%google-tag-manager%' FROM page_cache WHERE page = '\(home)'") == ["1"])
        #expect(try sqlite(state, "SELECT url FROM resources WHERE page = '\(home)' ORDER BY url") == storedResources)
        #expect(logLines().count == 4, "\(logLines())")
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
        try writeConfig(extraTargets: [server.url("/status/503")], alerts: ["log_format: json"])
        try once(expect: 3)  // a failed target exits 3 like scan
        #expect(logLines().isEmpty, "unreachable only after 2 cycles")
        try once(expect: 3)
        let lines = logLines()
        #expect(lines.count == 1)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(obj["kind"] as? String == "target-unreachable")
        #expect(obj["event"] as? String == "raised")
        #expect(obj["severity"] as? String == "medium")
    }

    @Test func unreachableAfterIsHonoured() throws {
        try writeConfig(extraTargets: [server.url("/status/503")], top: ["unreachable_after: 3"])
        try once(expect: 3)
        try once(expect: 3)
        #expect(logLines().isEmpty, "two failures are below unreachable_after: 3: \(logLines())")
        try once(expect: 3)
        #expect(logLines().count == 1)
        #expect(logLines().first?.contains("kind=target-unreachable") == true)
    }

    @Test func maxRedirectsIsHonoured() throws {
        // /redirect/N is N + 1 redirects: with max_redirects: 2, /redirect/1 ends and /redirect/2 fails.
        try writeConfig(extraTargets: [server.url("/redirect/1"), server.url("/redirect/2")], top: ["max_redirects: 2"])
        try once(expect: 3)
        let rows = try sqlite(state, "SELECT url, last_error IS NULL, coalesce(last_error, '') FROM pages ORDER BY url")
        #expect(rows.contains { $0.hasPrefix(server.url("/redirect/1") + "|1|") }, "\(rows)")
        let failed = try #require(rows.first { $0.hasPrefix(server.url("/redirect/2") + "|0|") }, "\(rows)")
        #expect(failed.lowercased().contains("redirect"), "\(failed)")
    }

    @Test func failOnExitsOneWhenAnOpenAlertIsAtOrAboveIt() throws {
        try setHome(hotjar: true)  // unapproved-vendor: medium
        let high = try once(["--fail-on", "high"])
        #expect(high.stdout.contains("1 alerts raised"), "\(high.stdout)")
        try once(["--fail-on", "medium"], expect: 1)
        try once(["--fail-on", "low"], expect: 1)
        try setHome(hotjar: false)
        try once(["--fail-on", "medium"])  // resolved: nothing open at medium any more
    }

    @Test func alertsAndInventoryFormatsAndFlags() throws {
        try setHome(hotjar: true)
        try once()
        try setHome(hotjar: false, extra: "<script src=\"https://cdn.nobody-claims.test/x.js\"></script>")
        try once()
        // alerts: the resolved hotjar one and the open unknown host.
        let all = try tagwatch(["alerts"])
        #expect(all.stdout.contains("resolved") && all.stdout.contains("unapproved-vendor"), "\(all.stdout)")
        #expect(all.stdout.contains("open") && all.stdout.contains("unknown-third-party"), "\(all.stdout)")
        let open = try tagwatch(["alerts", "--open"])
        #expect(open.stdout.contains("unknown-third-party"))
        #expect(!open.stdout.contains("unapproved-vendor"), "--open leaves out resolved alerts: \(open.stdout)")
        let json = try tagwatch(["alerts", "--format", "json"])
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let alerts = try #require(obj["alerts"] as? [[String: Any]])
        #expect(alerts.count == 2)
        #expect(Set(alerts.compactMap { $0["state"] as? String }) == ["open", "resolved"])
        let openJSON = try tagwatch(["alerts", "--open", "--format", "json"])
        let openAlerts = try #require((try JSONSerialization.jsonObject(with: Data(openJSON.stdout.utf8)) as? [String: Any])?["alerts"] as? [[String: Any]])
        #expect(openAlerts.map { $0["kind"] as? String } == ["unknown-third-party"])

        // inventory: every resource per page; --third-party leaves out our own.
        let text = try tagwatch(["inventory"])
        #expect(text.stdout.contains(server.url("/index.html")))
        #expect(text.stdout.contains("Hotjar (Contentsquare, session-replay)"))
        #expect(text.stdout.contains("(gone)"), "hotjar left the page: \(text.stdout)")
        #expect(text.stdout.contains("/assets/app.js"))
        let third = try tagwatch(["inventory", "--third-party"])
        #expect(!third.stdout.contains("/assets/app.js"), "first-party resources are left out: \(third.stdout)")
        #expect(third.stdout.contains("cdn.nobody-claims.test"))
        let invJSON = try tagwatch(["inventory", "--format", "json", "--third-party"])
        let resources = try #require((try JSONSerialization.jsonObject(with: Data(invJSON.stdout.utf8)) as? [String: Any])?["resources"] as? [[String: Any]])
        #expect(!resources.isEmpty)
        #expect(resources.allSatisfy { $0["party"] as? String == "third" })
        let hotjar = try #require(resources.first { $0["host"] as? String == "static.hotjar.com" })
        #expect(hotjar["current"] as? Bool == false)
        #expect((hotjar["vendor"] as? [String: Any])?["company"] as? String == "Contentsquare")
        #expect(hotjar["tag_ids"] as? [String] == ["12345"])
        let csv = try tagwatch(["inventory", "--format", "csv", "--third-party"])
        let header = csv.stdout.split(separator: "\n").first.map { $0.split(separator: ",").map(String.init) } ?? []
        #expect(Set(header).isSuperset(of: ["page", "url", "kind", "host", "party", "vendor_id", "company", "category", "tag_ids",
                                             "first_seen", "last_seen", "current"]), "\(header)")
        #expect(csv.stdout.split(separator: "\n").count == resources.count + 1)
    }

    @Test func feedKeepsAtMostFeedItems() throws {
        try writeConfig(feedItems: 2)
        // Three conditions start in one cycle: three events, of which the feed keeps the newest two.
        try setHome(hotjar: true, extra: "<script src=\"https://cdn.one-unknown.test/a.js\"></script><script src=\"https://cdn.two-unknown.test/b.js\"></script>")
        try once()
        #expect(logLines().count == 3, "\(logLines())")
        #expect(try feedItems().count == 2)
        // One more event: still two, the newest first.
        try setHome(hotjar: false, extra: "<script src=\"https://cdn.one-unknown.test/a.js\"></script><script src=\"https://cdn.two-unknown.test/b.js\"></script>")
        try once()
        let items = try feedItems()
        #expect(items.count == 2)
        #expect(((items.first?["_tagwatch"] as? [String: Any])?["event"] as? String) == "resolved", "newest first")
    }

    @Test func signalsReloadScanAndStop() throws {
        let notify = try NotifyListener()
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"],
                                  environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        #expect(notify.waitFor("READY=1", timeout: 60) != nil)
        #expect(d.waitForLog("scan finished", count: 1, timeout: 60), "\(d.stderr)")
        let status = notify.waitFor("STATUS=last scan", timeout: 10)
        #expect(status?.contains("2 pages, 0 failed; 0 open alerts") == true, "\(status ?? "none")")
        // WATCHDOG=1 at half of WatchdogSec (here 1 s, so every 0.5 s).
        #expect(notify.waitFor("WATCHDOG=1", timeout: 10) != nil)

        // SIGUSR1: scan now.
        try setHome(hotjar: true)
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 2, timeout: 60), "\(d.stderr)")
        let status2 = notify.waitFor("1 open alerts (worst medium)", timeout: 10)
        #expect(status2 != nil, "STATUS names open alerts and the worst severity: \(notify.received)")

        // SIGHUP with a broken registry: reported with file:line, old one kept, still running.
        let good = try String(contentsOfFile: dir + "/approved.yaml", encoding: .utf8)
        try "vendors:\n  google-tag-manager: {status: maybe}\n".write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        var seen = notify.received.count
        d.signal(SIGHUP)
        #expect(d.waitForLog("reload failed", timeout: 20), "\(d.stderr)")
        #expect(d.stderr.contains("approved.yaml:2"))
        #expect(notify.waitFor("RELOADING=1", after: seen, timeout: 5) != nil)
        #expect(notify.waitFor("READY=1", after: seen + 1, timeout: 5) != nil, "READY=1 after the reload: \(notify.received)")
        #expect(d.isRunning)

        // SIGHUP with a broken config: reported with file:line, old one kept.
        let config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
        try (config + "\nintervall: 1h\n").write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        #expect(d.waitForLog("reload failed", count: 2, timeout: 20), "\(d.stderr)")
        #expect(d.stderr.contains("tagwatch.yaml:") && d.stderr.contains("unknown field 'intervall'"), "\(d.stderr)")
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        // The old registry is still in force: the next scan changes nothing.
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 3, timeout: 60))
        #expect(logLines().count == 1, "\(logLines())")

        // Good new rules take effect: approving hotjar resolves its alert on the next scan.
        try (good + "\n  hotjar: {status: approved, owner: web@example.com}\n").write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        seen = notify.received.count
        d.signal(SIGHUP)
        #expect(d.waitForLog("reloaded config and rules", timeout: 20), "\(d.stderr)")
        #expect(notify.waitFor("RELOADING=1", after: seen, timeout: 5) != nil)
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 4, timeout: 60))
        #expect(logLines().count == 2 && logLines().last?.contains("event=resolved") == true, "\(logLines())")

        // SIGTERM: graceful, exit 0.
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 30) == 0, "\(d.stderr)")
        #expect(notify.waitFor("STOPPING=1", timeout: 2) != nil)
    }

    @Test func sighupWithABrokenVendorFileKeepsTheOldCatalog() throws {
        let rules = dir + "/rules"
        try FileManager.default.createDirectory(atPath: rules + "/vendors", withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Repo.rules + "/vendors") {
            try FileManager.default.copyItem(atPath: Repo.rules + "/vendors/" + f, toPath: rules + "/vendors/" + f)
        }
        try writeConfig(rules: rules)
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        #expect(d.waitForLog("scan finished", count: 1, timeout: 60), "\(d.stderr)")
        try "vendors:\n  - id: broken\n    name: Broken\n    colour: red\n".write(toFile: rules + "/vendors/zz-broken.yaml", atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        #expect(d.waitForLog("reload failed", timeout: 20), "\(d.stderr)")
        #expect(d.stderr.contains("zz-broken.yaml:"), "\(d.stderr)")
        #expect(d.isRunning)
        d.signal(SIGINT)  // SIGINT stops as gracefully as SIGTERM
        #expect(d.waitForExit(timeout: 30) == 0, "\(d.stderr)")
        #expect(d.stderr.contains("tagwatch stopped"))
    }

    @Test func scansOnTheIntervalWithoutBeingAsked() throws {
        // interval 2 s, jitter 50 %: each wait is 1-3 s. No signal is sent: the timer alone scans.
        try writeConfig(interval: "2s", top: ["jitter: 0.5"])
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        #expect(d.waitForLog("scan finished", count: 4, timeout: 120), "\(d.stderr)")
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 30) == 0, "\(d.stderr)")
        // No scan started sooner than interval * (1 - jitter) = 1 s after the previous one finished
        // (timestamps have whole seconds, so a gap of at least 1 shows).
        let rows = try sqlite(state, "SELECT strftime('%s', started), strftime('%s', finished) FROM scans ORDER BY id")
        #expect(rows.count >= 4)
        let times = rows.map { $0.split(separator: "|").compactMap { Int($0) } }
        for i in 1..<times.count {
            #expect(times[i][0] - times[i - 1][1] >= 1, "scan \(i + 1) started too soon: \(rows)")
        }
    }

    @Test func sigtermCancelsInFlightTransfersAndRecordsNothing() throws {
        try once()
        try writeConfig(extraTargets: [server.url("/never")])
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        // Readiness: the server has the request, so the transfer is in flight.
        #expect(server.waitForRequest("/never", timeout: 60), "\(d.stderr)")
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 20) == 0, "\(d.stderr)")
        #expect(d.stderr.contains("scan cancelled"))
        #expect(try sqlite(state, "SELECT count(*) FROM scans") == ["1"], "a cancelled cycle writes no scan row")
    }

    /// A page of `count` distinct first-party images, so recording it is a long write.
    static func manyResources(_ count: Int) -> String {
        "<!doctype html><html><body>" + (0..<count).map { "<img src=\"/i/\($0).gif\">" }.joined() + "</body></html>"
    }

    @Test func sigkillInsideTheWriteLosesNoFinishedScan() throws {
        try once()
        // Four pages of 60,000 resources each: the cycle's transaction writes 240,000 rows, far
        // more than SQLite's page cache holds, so pages spill to the WAL while it is still open.
        try Self.manyResources(60_000).write(toFile: site + "/many.html", atomically: true, encoding: .utf8)
        try writeConfig(extraTargets: (1...4).map { server.url("/many.html?n=\($0)") }, top: ["max_page_bytes: 50MB"])
        let walPath = state + "-wal"
        func walSize() -> Int { ((try? FileManager.default.attributesOfItem(atPath: walPath))?[.size] as? Int) ?? 0 }
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        // The daemon's first cycle reads but writes nothing until it records: WAL growth past a
        // few pages means the record transaction is open. Kill it right there.
        var killedAt = -1
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && d.isRunning {
            let size = walSize()
            if size > 256 * 1024 {
                d.signal(SIGKILL)
                killedAt = size
                break
            }
            usleep(1000)
        }
        #expect(killedAt > 0, "the write was never seen in progress: \(d.stderr)")
        #expect(d.waitForExit(timeout: 20) == 128 + SIGKILL)
        #expect(!d.stderr.contains("scan finished"), "the kill landed after the cycle finished: \(d.stderr)")

        // The killed cycle left nothing: one scan, the two small pages, their resources whole.
        #expect(try sqlite(state, "PRAGMA integrity_check") == ["ok"])
        #expect(try sqlite(state, "SELECT count(*) FROM scans") == ["1"], "the killed cycle's scan row must not exist")
        #expect(try sqlite(state, "SELECT count(*) FROM pages") == ["2"])
        #expect(try sqlite(state, "SELECT count(*) FROM \(resourcesSeen) WHERE seen_scan > 1") == ["0"])
        #expect(try sqlite(state, "SELECT count(*) FROM resources WHERE page LIKE '%many.html%'") == ["0"])

        // The finished scan reads back whole, and the next cycle works on the same state.
        try writeConfig()
        let inv = try tagwatch(["inventory", "--format", "json"])
        #expect(inv.stdout.contains("www.googletagmanager.com"))
        try once()
        #expect(try sqlite(state, "SELECT count(*) FROM scans") == ["2"])
    }

    @Test func eventsAreRedeliveredAfterASinkFailure() throws {
        try once()
        // The feed cannot be written (its path is a folder): the event is recorded and logged,
        // but not marked delivered.
        // (The first cycle wrote an empty feed there; a folder takes its place.)
        try FileManager.default.removeItem(atPath: dir + "/state/feed.json")
        try FileManager.default.createDirectory(atPath: dir + "/state/feed.json", withIntermediateDirectories: true)
        try setHome(hotjar: true)
        let failed = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(failed.status != 0, "a cycle whose sinks fail must not report success")
        #expect(failed.stderr.contains("feed.json"), "\(failed.stderr)")
        #expect(try sqlite(state, "SELECT count(*) FROM events WHERE delivered = 0") == ["1"])
        // Fixed: the next run delivers it first (the log gets it again: re-delivered, not lost).
        try FileManager.default.removeItem(atPath: dir + "/state/feed.json")
        try once()
        let items = try feedItems()
        #expect(items.count == 1)
        #expect(((items.first?["_tagwatch"] as? [String: Any])?["alert"] as? [String: Any])?["kind"] as? String == "unapproved-vendor")
        #expect(logLines().filter { $0.contains("event=raised") && $0.contains("vendor=hotjar") }.count >= 1)
        #expect(try sqlite(state, "SELECT count(*) FROM events WHERE delivered = 0") == ["0"])
    }

    @Test func theAlertLogMayBeMovedAwayAtAnyTime() throws {
        let d = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        #expect(d.waitForLog("scan finished", count: 1, timeout: 60), "\(d.stderr)")
        try setHome(hotjar: true)
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 2, timeout: 60))
        #expect(logLines().count == 1)
        // logrotate without copytruncate: rename, and the daemon's next batch makes a new file.
        try FileManager.default.moveItem(atPath: dir + "/log/alerts.log", toPath: dir + "/log/alerts.log.1")
        try setHome(hotjar: false)
        d.signal(SIGUSR1)
        #expect(d.waitForLog("scan finished", count: 3, timeout: 60))
        #expect(logLines("log/alerts.log.1").count == 1)
        #expect(logLines("log/alerts.log.1").first?.contains("event=raised") == true)
        #expect(logLines().count == 1, "the new file has only the new event: \(logLines())")
        #expect(logLines().first?.contains("event=resolved") == true)
        d.signal(SIGTERM)
        #expect(d.waitForExit(timeout: 30) == 0, "\(d.stderr)")
    }

    @Test func schemaMigratesOldStateAndRefusesANewerOne() throws {
        // A state written by schema 1 (the first release) with one scan and one open alert.
        try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
        let made = try runProgram(["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.executescript(sys.argv[2])
            c.executescript('''
            INSERT INTO scans VALUES(1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 1, 0, 1);
            INSERT INTO pages VALUES('https://old.example/', 'https://old.example/', '', '2026-01-01T00:00:01Z', 1, 200, NULL, 0);
            INSERT INTO resources VALUES('https://old.example/', 'https://old-cdn.example/x.js', 'script', 'old-cdn.example',
                                         'third', NULL, NULL, NULL, NULL, '', NULL, '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z', 1);
            INSERT INTO alerts VALUES('tw-0000000000000001', 'unknown-third-party', 'medium', 'https://old.example/',
                                      'old-cdn.example', NULL, NULL, NULL, NULL, 'https://old-cdn.example/x.js',
                                      'old message', '2026-01-01T00:00:01Z', 'open', '2026-01-01T00:00:01Z', NULL);
            INSERT INTO events VALUES(1, 'tw-0000000000000001', 'raised', '2026-01-01T00:00:01Z', 1);
            PRAGMA user_version = 1;
            ''')
            """, state, StateFixtures.schemaOne])
        try #require(made.status == 0, "\(made.stderr)")
        // A fresh state, for the newest schema version.
        let fresh = try TempDir("tw-fresh")
        try writeConfig()
        let config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
        try config.replacingOccurrences(of: "state: state/state.sqlite", with: "state: \(fresh.path)/s.sqlite")
            .write(toFile: fresh.path + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: dir + "/approved.yaml", toPath: fresh.path + "/approved.yaml")
        let r = try runTagwatch(["run", "--once", "--config", fresh.path + "/tagwatch.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        let newest = try sqlite(fresh.path + "/s.sqlite", "PRAGMA user_version")

        try once()
        #expect(try sqlite(state, "PRAGMA user_version") == newest, "migrated to the newest schema")
        #expect(try sqlite(state, "PRAGMA integrity_check") == ["ok"])
        // The old open per-page alert survives, merged into the grouped alert for its (kind, subject),
        // which holds its page.
        let old = try tagwatch(["alerts", "show", "tw-0000000000000001", "--format", "json"])
        let merged = try #require(try JSONSerialization.jsonObject(with: Data(old.stdout.utf8)) as? [String: Any], "\(old.stderr)")
        #expect(merged["state"] as? String == "merged")
        let into = try #require(merged["merged_into"] as? String)
        let alerts = try tagwatch(["alerts", "--open"])
        #expect(alerts.stdout.contains(into), "the grouped alert is open: \(alerts.stdout)")
        let grouped = try tagwatch(["alerts", "show", into])
        #expect(grouped.stdout.contains("https://old.example/"), "and holds the old page: \(grouped.stdout)")
        let inv = try tagwatch(["inventory", "--format", "json"])
        #expect(inv.stdout.contains("https://old-cdn.example/x.js"), "the old inventory survives")
        #expect(inv.stdout.contains("www.googletagmanager.com"), "and the new scan is in it")
        #expect(try sqlite(state, "SELECT count(*) FROM scans") == ["2"])

        // A state from a newer tagwatch is refused, and left as it was.
        _ = try sqlite(state, "PRAGMA user_version = 999")
        let refused = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("newer tagwatch"), "\(refused.stderr)")
        #expect(try sqlite(state, "SELECT count(*) FROM scans") == ["2"])
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
        #expect(r.stdout.contains("2 pages"), "limit 2 leaves out the missing page: \(r.stdout)")
        let inv = try tagwatch(["inventory", "--format", "json"])
        #expect(inv.stdout.contains(server.url("/index.html")))
        #expect(!server.requests.contains("/missing.html"))

        // A sitemap that cannot be read is a failed target of its own, not a silently empty list.
        config = config.replacingOccurrences(of: server.url("/sitemap-index.xml"), with: server.url("/status/404"))
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let bad = try once(expect: 3)
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
