import Foundation
import Testing
import TagwatchTestSupport

/// The feed written by a real cycle over the demo: valid JSON Feed 1.1, and a real feed client reads every item.
@Suite struct FeedTests {
    func demoFeed() throws -> (path: String, feed: [String: Any]) {
        let dir = try temporaryDirectory("tw-feed")
        var config = try String(contentsOfFile: Repo.path("examples/tagwatch.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "site/", with: Repo.path("examples/site") + "/")
            .replacingOccurrences(of: "../rules", with: Repo.rules)
            .replacingOccurrences(of: "../.build-demo", with: dir)
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        let path = dir + "/feed.json"
        let feed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        return (path, feed)
    }

    /// The rules of https://jsonfeed.org/version/1.1 that a reader relies on.
    @Test func validatesAsJSONFeed11() throws {
        let (_, feed) = try demoFeed()
        #expect(feed["version"] as? String == "https://jsonfeed.org/version/1.1")
        #expect((feed["title"] as? String)?.isEmpty == false)
        let items = try #require(feed["items"] as? [[String: Any]])
        // 4 from the pages' HTML, and one each (on home and product) for what the GTM-ACME123
        // container loads: the denied Floodlight tag and the unapproved TikTok pixel.
        #expect(items.count == 6)
        let iso = try NSRegularExpression(pattern: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#)
        var ids = Set<String>()
        for item in items {
            let id = try #require(item["id"] as? String)
            #expect(ids.insert(id).inserted, "item ids are unique")
            #expect(item["content_text"] is String || item["content_html"] is String)
            let date = try #require(item["date_published"] as? String)
            #expect(iso.firstMatch(in: date, range: NSRange(location: 0, length: date.utf16.count)) != nil)
            for key in item.keys where !["id", "url", "external_url", "title", "content_html", "content_text", "summary",
                                          "image", "banner_image", "date_published", "date_modified", "authors", "tags",
                                          "language", "attachments"].contains(key) {
                #expect(key.hasPrefix("_"), "extension keys must start with an underscore: \(key)")
            }
            let ext = try #require(item["_tagwatch"] as? [String: Any])
            #expect(ext["alert"] is [String: Any])
            // For people: what, where (pages as links), who and what to do, in HTML beside the text.
            let html = try #require(item["content_html"] as? String)
            let text = try #require(item["content_text"] as? String)
            #expect(html.contains("<strong>What:</strong>") && html.contains("<strong>Where:</strong> "))
            #expect(html.contains("<a href=\"https://shop.acme-outfitters.example/"))
            #expect(!html.contains("<script"))
            #expect(text.contains("alert tw-"))
        }
        let hotjar = try #require(items.first { (($0["_tagwatch"] as? [String: Any])?["alert"] as? [String: Any])?["kind"] as? String == "out-of-scope" })
        let html = try #require(hotjar["content_html"] as? String)
        #expect(html.contains("Hotjar, by Contentsquare (category session-replay, vendor id hotjar)"))
        #expect(html.contains("<pre><code>vendors:\n  hotjar:\n    on: [&quot;https://shop.acme-outfitters.example/checkout/&quot;]</code></pre>"),
                "the registry lines that let it onto the page: \(html)")
        #expect(html.contains("<strong>Where:</strong> 1 page: <a href=\"https://shop.acme-outfitters.example/checkout/\">"))
        // One item for TikTok on two pages, saying the container that loaded it.
        let tiktok = try #require(items.first { ($0["title"] as? String)?.hasPrefix("Unapproved vendor: TikTok Pixel (ByteDance) on 2 pages") == true })
        let tiktokHTML = try #require(tiktok["content_html"] as? String)
        #expect(tiktokHTML.contains("<strong>How it got there:</strong> loaded by <a href=\"https://www.googletagmanager.com/gtm.js?id=GTM-ACME123\">"))
        #expect(tiktokHTML.contains("<strong>Where:</strong> 2 pages: <a href=\"https://shop.acme-outfitters.example/\">"))
        #expect(tiktokHTML.contains("status: denied") && tiktokHTML.contains("status: approved"))
    }

    /// A feed reader subscribed at install time finds a feed after the first cycle, even with no
    /// alert; rewrites keep item ids.
    @Test func theFeedExistsAfterTheFirstCycleWithNoAlerts() throws {
        let dir = try temporaryDirectory("tw-feed-empty")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "<!doctype html><title>ok</title><script src=\"https://www.googletagmanager.com/gtm.js?id=GTM-ABC1\"></script>"
            .write(toFile: dir + "/index.html", atomically: true, encoding: .utf8)
        try """
            targets:
              - file: index.html
                base_url: https://shop.acme-outfitters.example/
            rules: \(Repo.rules)
            registry: \(Repo.path("rules/approved.example.yaml"))
            state: state.sqlite
            alerts: {feed: feed.json, feed_title: Empty so far}
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("0 alerts raised"))
        let feed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/feed.json"))) as? [String: Any])
        #expect(feed["version"] as? String == "https://jsonfeed.org/version/1.1")
        #expect((feed["items"] as? [Any])?.isEmpty == true)
        let read = try feedClient(dir + "/feed.json")
        #expect(read["version"] as? String == "json11")
        #expect(read["bozo"] as? Bool == false)
        #expect(read["title"] as? String == "Empty so far")
        let perms = try FileManager.default.attributesOfItem(atPath: dir + "/feed.json")[.posixPermissions] as? Int
        #expect(perms == 0o640)
    }

    @Test func itemIDsAreStableAcrossRewrites() throws {
        let (path, first) = try demoFeed()
        let config = (path as NSString).deletingLastPathComponent + "/tagwatch.yaml"
        let again = try runTagwatch(["run", "--once", "--config", config])
        #expect(again.status == 0)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let ids = { (f: [String: Any]) in (f["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
        #expect(!ids(first).isEmpty)
        #expect(ids(second) == ids(first), "nothing changed: the same items with the same ids")
    }

    func feedClient(_ path: String) throws -> [String: Any] {
        let python = Repo.path(".build-pyenv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python), "scripts/install-deps creates \(python) with feedparser-rs")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [Repo.fixtures + "/feedcheck.py", path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func aRealFeedClientReadsEveryItem() throws {
        let (path, feed) = try demoFeed()
        let python = Repo.path(".build-pyenv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python), "scripts/install-deps creates \(python) with feedparser-rs")
        let p = try runProgram([python, Repo.fixtures + "/feedcheck.py", path])
        #expect(p.status == 0, "\(p.stderr)")
        let data = Data(p.stdout.utf8)
        let read = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(read["version"] as? String == "json11")
        #expect(read["bozo"] as? Bool == false)
        let entries = try #require(read["entries"] as? [[String: Any]])
        let items = try #require(feed["items"] as? [[String: Any]])
        #expect(entries.map { $0["id"] as? String } == items.map { $0["id"] as? String })
        #expect(entries.map { $0["title"] as? String } == items.map { $0["title"] as? String })
    }
}
