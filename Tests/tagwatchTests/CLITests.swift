import Foundation
import Testing
import TagwatchTestSupport

/// Flags read units as the config does; help text wraps as argument-parser wraps; a saved page
/// with no --base-url is judged against the site it names, or says it could not be judged.
@Suite struct CLITests {
    @Test func flagsTakeTheConfigsUnits() throws {
        let page = Repo.path("examples/site/checkout/index.html")
        let r = try runTagwatch(["scan", "--timeout", "20s", "--connect-timeout", "1m", "--max-page-bytes", "5MB",
                                 "--max-script-bytes", "512KB", page])
        #expect(r.status == 0, "\(r.stderr)")
        // A page larger than --max-page-bytes given in KB is refused as such (the file is bigger than 1KB).
        let small = try runTagwatch(["scan", "--max-page-bytes", "1KB", "--format", "json", page])
        #expect(small.status == 3, "\(small.stdout)\(small.stderr)")
        let bad = try runTagwatch(["scan", "--timeout", "20 parsecs", page])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--timeout"))
    }

    /// A paragraph wrapped by argument-parser never breaks a line where the next word would fit.
    @Test func helpTextWrapsAsArgumentParserWraps() throws {
        let commands = [["scan"], ["run"], ["alerts"], ["inventory"], ["rules", "check"], ["rules", "lookup"],
                        ["rules", "import"], ["config", "check"], ["csp", "suggest"]]
        for c in commands {
            let r = try runTagwatch(c + ["--help"])
            #expect(r.status == 0)
            let lines = r.stdout.components(separatedBy: "\n")
            let prose = lines.prefix { !$0.hasPrefix("USAGE:") }
            for (a, b) in zip(prose, prose.dropFirst()) where !a.isEmpty && !b.isEmpty {
                let next = b.split(separator: " ").first.map(String.init) ?? ""
                #expect(a.count + 1 + next.count >= 80, "\(c): '\(a)' is broken before '\(next)'")
            }
            // Values are listed once (argument-parser adds "(values: …)" itself).
            for line in lines where line.contains("(values:") {
                #expect(line.components(separatedBy: "info, low").count <= 2, "\(c): \(line)")
            }
            #expect(!r.stdout.contains("critical). (values:"), "\(c)")
        }
    }

    @Test func aSavedPageIsJudgedAgainstItsCanonicalSiteOrSaysItCannotBe() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let body = """
            <script src="https://cdn.shop.example.com/app.js"></script>
            <script src="https://static.hotjar.com/c/hotjar-1.js"></script>
            """
        try "<html><head><link rel=\"canonical\" href=\"https://www.shop.example.com/p\"></head><body>\(body)</body></html>"
            .write(toFile: dir + "/canonical.html", atomically: true, encoding: .utf8)
        try "<html><head><meta property=\"og:url\" content=\"https://www.shop.example.com/q\"></head><body>\(body)</body></html>"
            .write(toFile: dir + "/og.html", atomically: true, encoding: .utf8)
        try "<html><body>\(body)</body></html>".write(toFile: dir + "/none.html", atomically: true, encoding: .utf8)
        for name in ["canonical", "og", "none"] {
            let r = try runTagwatch(["scan", "--no-follow", "--format", "json", "\(dir)/\(name).html"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let page = try #require((json["pages"] as? [[String: Any]])?.first)
            let resources = page["resources"] as? [[String: Any]] ?? []
            let cdn = resources.first { ($0["host"] as? String) == "cdn.shop.example.com" }
            let hotjar = resources.first { ($0["host"] as? String) == "static.hotjar.com" }
            let warnings = page["warnings"] as? [String] ?? []
            #expect(hotjar?["party"] as? String == "third")
            if name == "none" {
                #expect(cdn?["party"] as? String == "third")
                #expect(warnings.contains { $0.hasPrefix("first-party could not be judged") }, "\(warnings)")
            } else {
                #expect(cdn?["party"] as? String == "first", "\(name): \(String(describing: cdn))")
                #expect(!warnings.contains { $0.contains("first-party") })
            }
        }
    }
}
