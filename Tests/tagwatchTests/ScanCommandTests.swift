import Foundation
import Testing
import TagwatchTestSupport

/// The built `tagwatch` binary, end to end, against a real HTTP server on 127.0.0.1.
@Suite(.serialized) struct ScanCommandTests {
    let server: TestServer

    init() throws {
        server = try TestServer(root: Repo.path("examples/site"))
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func pages(_ r: RunResult) throws -> [[String: Any]] {
        try #require(try json(r.stdout)["pages"] as? [[String: Any]])
    }

    @Test func scansServedPagesAndAttributesVendors() throws {
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--first-party", "127.0.0.1",
                                 server.url("/index.html"), server.url("/gzip/checkout/index.html"), server.url("/redirect/2")])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let pages = try pages(r)
        #expect(pages.count == 3)
        // A redirected target is reported at the URL it ended on.
        #expect(pages[2]["url"] as? String == server.url("/index.html"))
        #expect(pages[2]["target"] as? String == server.url("/redirect/2"))
        let home = try #require(pages[0]["resources"] as? [[String: Any]])
        let vendors = Set(home.compactMap { ($0["vendor"] as? [String: Any])?["id"] as? String })
        #expect(vendors.contains("google-tag-manager"))
        #expect(vendors.contains("meta-pixel"))
        for res in home {
            #expect(Set(res.keys).isSuperset(of: ["url", "host", "kind", "party", "vendor"]))
        }
        let checkout = try #require(pages[1]["resources"] as? [[String: Any]])
        let hosts = Set(checkout.compactMap { $0["host"] as? String })
        #expect(hosts.contains("static.hotjar.com"))
        #expect(hosts.contains("cdn.quickcart-widgets.net"))
        let unknown = checkout.first { $0["host"] as? String == "cdn.quickcart-widgets.net" }
        #expect(unknown?["vendor"] is NSNull)
        #expect(unknown?["party"] as? String == "third")
    }

    @Test func badTargetsGetClearErrorsAndTheOthersAreStillScanned() throws {
        let missing = "/nonexistent/page.html"
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--timeout", "2",
                                 "--max-page-bytes", "1000000",
                                 server.url("/index.html"),
                                 server.url("/status/500"),
                                 server.url("/status/404"),
                                 server.url("/png"),
                                 server.url("/slow?seconds=10"),
                                 server.url("/big?mb=3"),
                                 "http://127.0.0.1:1/",
                                 "http://exa mple.com/",
                                 missing,
                                 server.url("/nul")])
        #expect(r.status == 3, "\(r.stderr)")
        let pages = try pages(r)
        #expect(pages.count == 10)
        func error(_ i: Int) -> String { (pages[i]["error"] as? String) ?? "" }
        #expect(pages[0]["error"] is NSNull)
        #expect(error(1).contains("HTTP 500"))
        #expect(error(2).contains("HTTP 404"))
        #expect(error(3).contains("not an HTML page") && error(3).contains("image/png"))
        #expect(error(4).lowercased().contains("timeout") || error(4).lowercased().contains("timed out"))
        #expect(error(5).contains("larger than the limit"))
        #expect(error(6).lowercased().contains("connect"))
        #expect(error(7).contains("malformed URL"))
        #expect(error(8).contains("no such file"))
        // NUL and invalid UTF-8: scanned, with a warning, not an error.
        #expect(pages[9]["error"] is NSNull)
        let warnings = pages[9]["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains("UTF-8") })
        let nulHosts = (pages[9]["resources"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String }
        #expect(nulHosts.contains("cdn.example-vendor.test"))
        // Every failure is also on stderr, naming its target.
        #expect(r.stderr.contains("/status/500"))
        #expect(r.stderr.contains(missing))
    }

    @Test func textReportGroupsVendorsWithCompanyAndCategory() throws {
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--base-url", "https://shop.acme-outfitters.example/",
                                 Repo.path("examples/site")])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("https://shop.acme-outfitters.example/checkout/"))
        #expect(r.stdout.contains("Hotjar"))
        #expect(r.stdout.contains("Contentsquare"))
        #expect(r.stdout.contains("unknown third-party hosts:"))
        #expect(r.stdout.contains("cdn.quickcart-widgets.net"))
        #expect(r.stdout.contains("4 pages scanned"))
    }

    @Test func usageAndRulesErrorsExitTwo() throws {
        let r1 = try runTagwatch(["scan"])
        #expect(r1.status == 2)
        let r2 = try runTagwatch(["scan", "--concurrency", "0", "x.html"])
        #expect(r2.status == 2)
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/vendors", withIntermediateDirectories: true)
        try "vendors:\n  - id: x\n    nme: X\n".write(toFile: dir + "/vendors/bad.yaml", atomically: true, encoding: .utf8)
        let r3 = try runTagwatch(["scan", "--rules", dir, Repo.path("examples/site/index.html")])
        #expect(r3.status == 2)
        #expect(r3.stderr.contains("bad.yaml:3"))
    }

    @Test func corpusPageThroughTheCLI() throws {
        let file = "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856.html.gz"
        let urls = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/corpus/urls.json"))) as! [String: String]
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--base-url", urls[file]!,
                                 Repo.fixtures + "/corpus/pages/" + file])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let resources = try #require(try pages(r).first?["resources"] as? [[String: Any]])
        #expect(resources.contains { $0["party"] as? String == "third" && $0["vendor"] is [String: Any] })
    }
}
