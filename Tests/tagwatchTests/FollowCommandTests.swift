import Foundation
import Testing
import TagwatchTestSupport

/// Following scripts end to end: the built binary against a loopback site whose page loads a
/// tag-manager container and Segment from the test server, saved containers scanned as files,
/// and the daemon alerting once on a tag added inside a container.
@Suite(.serialized) struct FollowCommandTests {
    let dir: String
    let site: String
    let server: TestServer

    init() throws {
        dir = try temporaryDirectory("tw-follow")
        site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site + "/analytics.js/v1/SEGKEY123", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: site + "/v1/projects/SEGKEY123", withIntermediateDirectories: true)
        server = try TestServer(root: site)
        // Server-side tagging: the container is served from the company's own host, found by content.
        try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/follow/gtm-served.js")).write(to: URL(fileURLWithPath: site + "/gtm.js"))
        try "/* Segment analytics.js would be here */".write(toFile: site + "/analytics.js/v1/SEGKEY123/analytics.min.js", atomically: true, encoding: .utf8)
        try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/follow/segment-settings.json"))
            .write(to: URL(fileURLWithPath: site + "/v1/projects/SEGKEY123/settings"))
        let page = """
            <!doctype html><html><head><title>Shop</title>
            <script>(function(w,d,s,l,i){w[l]=w[l]||[];var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';
            j.async=true;j.src='\(server.url("/gtm.js?id="))'+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-TEST123');</script>
            <script src="/analytics.js/v1/SEGKEY123/analytics.min.js"></script>
            </head><body><p>Hello</p></body></html>
            """
        try page.write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
    }

    func cleanUp() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func resources(_ r: RunResult) throws -> [[String: Any]] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let pages = try #require(root["pages"] as? [[String: Any]])
        return try #require(pages.first?["resources"] as? [[String: Any]])
    }

    @Test func aPageLoadingAContainerAndSegmentShowsWhatTheyLoad() throws {
        defer { cleanUp() }
        let gtm = server.url("/gtm.js?id=GTM-TEST123")
        let settings = server.url("/v1/projects/SEGKEY123/settings")
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--first-party", "127.0.0.1", server.url("/index.html")])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let rs = try resources(r)
        // The snippet's URL is whole, and the page's own HTML resources have via null.
        let snippet = try #require(rs.first { $0["url"] as? String == gtm })
        #expect(snippet["via"] is NSNull)
        #expect(snippet["tag"] is NSNull)
        let hotjar = try #require(rs.first { $0["url"] as? String == "https://static.hotjar.com/c/hotjar-3333333.js" })
        #expect(hotjar["via"] as? String == gtm)
        let tag = try #require(hotjar["tag"] as? [String: Any])
        #expect(tag["type"] as? String == "__hjtc")
        #expect(tag["id"] as? String == "12")
        #expect(tag["consent"] as? [String] == ["analytics_storage"])
        #expect(tag["container"] as? String == "GTM-TEST123")
        #expect((hotjar["vendor"] as? [String: Any])?["id"] as? String == "hotjar")
        // Segment's settings, fetched because the page loads analytics.js, name its destinations.
        let mixpanel = try #require(rs.first { ($0["vendor"] as? [String: Any])?["id"] as? String == "mixpanel" })
        #expect(mixpanel["via"] as? String == settings)
        #expect(rs.contains { $0["url"] as? String == "https://static.hotjar.com/c/hotjar-8888888.js" && $0["via"] as? String == settings })
        // GTM's library code names Google hosts; none is reported.
        #expect(!rs.contains { ($0["host"] as? String) == "googleads.g.doubleclick.net" || ($0["host"] as? String) == "td.doubleclick.net" })

        let text = try runTagwatch(["scan", "--rules", Repo.rules, "--first-party", "127.0.0.1", server.url("/index.html")])
        #expect(text.stdout.contains("inside GTM-TEST123 (\(gtm)): "))
        #expect(text.stdout.contains("Hotjar"))

        // --no-follow: only what the HTML names.
        let off = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--no-follow", "--first-party", "127.0.0.1", server.url("/index.html")])
        #expect(try resources(off).allSatisfy { $0["via"] is NSNull })
    }

    @Test func savedContainersAndExportsAreScannedAsFiles() throws {
        defer { cleanUp() }
        let served = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", Repo.fixtures + "/follow/gtm-served.js"])
        #expect(served.status == 0, "stderr: \(served.stderr)")
        let vendors = Set(try resources(served).compactMap { ($0["vendor"] as? [String: Any])?["id"] as? String })
        #expect(vendors.isSuperset(of: ["hotjar", "meta-pixel", "linkedin-insight", "tiktok-pixel", "google-ads"]))

        let export = try runTagwatch(["scan", "--rules", Repo.rules, "--registry", Repo.path("rules/approved.example.yaml"),
                                      "--fail-on", "medium", Repo.fixtures + "/follow/gtm-export.json"])
        // TikTok is in the export and nobody approved it: a gate before marketing publishes.
        #expect(export.status == 1, "stdout: \(export.stdout) stderr: \(export.stderr)")
        #expect(export.stdout.contains("TikTok Pixel"))
        #expect(export.stdout.contains("inside GTM-EXPORT1"))

        // A truncated container: a warning on the page, exit 0, nothing invented.
        let whole = try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/follow/gtm-served.js"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/truncated.js"))
        let truncated = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", dir + "/truncated.js"])
        #expect(truncated.status == 0)
        #expect(truncated.stdout.contains("truncated"))
        #expect(try resources(truncated).isEmpty)
    }

    @Test func aTagAddedInsideTheContainerRaisesOneAlertNamingIt() throws {
        defer { cleanUp() }
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
              mixpanel: {status: approved}
              segment: {status: approved}
              linkedin-insight: {status: approved}
            """.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        try """
            targets:
              - url: \(server.url("/index.html"))
            first_party: [127.0.0.1]
            timeout: 5s
            rules: \(Repo.rules)
            registry: approved.yaml
            state: state.sqlite
            alerts:
              log: alerts.log
              feed: feed.json
            follow:
              max_script_bytes: 2MB
              depth: 3
            integrity:
              labels: [payment]
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let first = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let before = (try? String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)) ?? ""
        #expect(!before.contains("kind=unapproved-vendor"), "log: \(before)")

        // Marketing publishes a new version with a Quora pixel nobody approved. (The page is not a
        // payment page, so the container's own change is recorded, not alerted: see IntegrityTests.)
        var container = try String(contentsOfFile: site + "/gtm.js", encoding: .utf8)
        container = container.replacingOccurrences(of: #""tags": ["#, with: #""tags": [{"function": "__qpx", "tag_id": 21}, "#)
        try container.write(toFile: site + "/gtm.js", atomically: true, encoding: .utf8)
        let second = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        let after = try String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)
        let added = after.dropFirst(before.count).split(separator: "\n").filter { $0.contains("event=raised") }
        #expect(added.count == 1, "new lines: \(added)")
        #expect(added.first?.contains("quora-pixel") == true)
        #expect(added.first?.contains("GTM-TEST123") == true)
        // A third cycle with nothing changed raises nothing.
        _ = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        let third = try String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)
        #expect(third.dropFirst(after.count).split(separator: "\n").filter { $0.contains("event=raised") }.isEmpty)
        // The inventory records where it came from.
        let inv = try runTagwatch(["inventory", "--config", dir + "/tagwatch.yaml", "--format", "json"])
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(inv.stdout.utf8)) as? [String: Any])?["resources"] as? [[String: Any]])
        let quora = try #require(rows.first { ($0["vendor"] as? [String: Any])?["id"] as? String == "quora-pixel" })
        #expect(quora["via"] as? String == server.url("/gtm.js?id=GTM-TEST123"))
        #expect((quora["tag"] as? [String: Any])?["type"] as? String == "__qpx")
        #expect((quora["tag"] as? [String: Any])?["id"] as? String == "21")
    }
}
