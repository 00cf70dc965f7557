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
        // 4 from the pages' HTML, and 2 per page (home, product) for what the GTM-ACME123 container
        // loads: the denied Floodlight tag and the unapproved TikTok pixel.
        #expect(items.count == 8)
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
        }
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
