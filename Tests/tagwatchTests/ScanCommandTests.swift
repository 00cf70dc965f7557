import Foundation
import Testing
import TagwatchTestSupport

/// The built `tagwatch` binary, end to end, against a real HTTP server on 127.0.0.1.
@Suite(.serialized) struct ScanCommandTests {
    let server: TestServer
    let tmp: TempDir

    init() throws {
        server = try TestServer(root: Repo.path("examples/site"))
        tmp = try TempDir("tw-scan")
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

    /// Targets from a file (100,000 URLs do not fit on a command line): comments and blank lines
    /// skipped, command-line targets first, and more than one chunk of jobs (1,000) printed in the
    /// order given as one JSON document.
    @Test func targetsFromAFileAreScannedInOrderAcrossChunks() throws {
        let site = tmp.path + "/tiny"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try "<!doctype html><title>t</title><script src=\"https://static.hotjar.com/c/hotjar-1.js\"></script>"
            .write(toFile: site + "/t.html", atomically: true, encoding: .utf8)
        let tiny = try TestServer(root: site)
        defer { tiny.stop() }
        let listed = (0..<1_004).map { tiny.url("/t.html?n=\($0)") }
        try (["# pages of the tiny site", ""] + listed.map { "  \($0)  " } + [""]).joined(separator: "\n")
            .write(toFile: tmp.path + "/targets.txt", atomically: true, encoding: .utf8)
        let first = tiny.url("/t.html?n=first")
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--no-follow", "--targets-from",
                                 tmp.path + "/targets.txt", first], timeout: 300)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let pages = try pages(r)
        #expect(pages.map { $0["target"] as? String } == ([first] + listed).map { Optional($0) })
        #expect(pages.allSatisfy { ($0["resources"] as? [[String: Any]])?.contains { $0["host"] as? String == "static.hotjar.com" } == true })

        let missing = try runTagwatch(["scan", "--targets-from", tmp.path + "/no-such-file.txt"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--targets-from"))
    }

    @Test func badTargetsGetClearErrorsAndTheOthersAreStillScanned() throws {
        let missing = "/nonexistent/page.html"
        // The good pages come from a server of their own, and the whole-transfer limit (8 s) is
        // one a small loopback page cannot reach however loaded the machine is.
        let good = try TestServer(root: Repo.path("examples/site"))
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--timeout", "8",
                                 "--max-page-bytes", "1000000",
                                 good.url("/index.html"),
                                 server.url("/status/500"),
                                 server.url("/status/404"),
                                 server.url("/png"),
                                 server.url("/slow?seconds=60"),
                                 server.url("/big?mb=3"),
                                 "http://127.0.0.1:1/",
                                 "http://exa mple.com/",
                                 missing,
                                 good.url("/nul")])
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
        let dir = tmp.path
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

    func resources(_ page: [String: Any]) -> [[String: Any]] { page["resources"] as? [[String: Any]] ?? [] }

    @Test func everyContentEncodingGivesTheSameResources() throws {
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", server.url("/index.html"),
                                 server.url("/gzip/index.html"), server.url("/encoded/deflate/index.html"),
                                 server.url("/encoded/br/index.html"), server.url("/encoded/zstd/index.html")])
        #expect(r.status == 0, "\(r.stderr)")
        let pages = try pages(r)
        let plain = resources(pages[0]).compactMap { $0["url"] as? String }
        #expect(plain.count > 10)
        for page in pages.dropFirst() {
            #expect(resources(page).compactMap { $0["url"] as? String } == plain, "\(page["target"] ?? "")")
        }
    }

    @Test func redirectsAreFollowedUpToTen() throws {
        // /redirect/N is N + 1 redirects.
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", server.url("/redirect/9"), server.url("/redirect/10")])
        #expect(r.status == 3)
        let pages = try pages(r)
        #expect(pages[0]["error"] is NSNull)
        #expect(pages[0]["url"] as? String == server.url("/index.html"))
        #expect((pages[1]["error"] as? String)?.lowercased().contains("redirect") == true, "\(pages[1]["error"] ?? "")")
    }

    @Test func perHostLimitsConnectionsToOneHost() throws {
        let fresh = try TestServer(root: Repo.path("examples/site"))
        let targets = (0..<6).map { fresh.url("/slow?seconds=1&n=\($0)") }
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--concurrency", "8", "--per-host", "2"] + targets)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fresh.requests.count == 6)
        #expect(fresh.maxInFlight == 2 || fresh.maxInFlight == 1, "--per-host 2, saw \(fresh.maxInFlight) at once")
        let open = try TestServer(root: Repo.path("examples/site"))
        let r2 = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--concurrency", "8", "--per-host", "6"]
                                 + (0..<6).map { open.url("/slow?seconds=2&n=\($0)") })
        #expect(r2.status == 0)
        #expect(open.maxInFlight > 2, "without the limit they overlap: saw \(open.maxInFlight)")
    }

    @Test func inlineSnippetWithoutAURLIsAnInlineScriptResource() throws {
        let page = tmp.path + "/inline.html"
        try """
            <html><head><script>var first = 1;</script>
            <script type="application/ld+json">{"a": 1}</script>
            <script>window.optimizely = window.optimizely || []; window.optimizely.push({type: "page"});</script>
            </head></html>
            """.write(toFile: page, atomically: true, encoding: .utf8)
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--base-url", "https://shop.example/p", page])
        #expect(r.status == 0, "\(r.stderr)")
        let res = resources(try #require(try pages(r).first))
        let inline = try #require(res.first { $0["kind"] as? String == "inline-script" }, "\(res)")
        // N counts the page's inline scripts from 1 (JSON-LD is not a script).
        #expect(inline["url"] as? String == "https://shop.example/p#inline-script-2")
        #expect((inline["vendor"] as? [String: Any])?["id"] as? String == "optimizely")
    }

    /// Every finding kind of the README's table, end to end through the binary, with its severity.
    @Test func findingsWithTheirSeverities() throws {
        let site = tmp.path + "/site"
        try FileManager.default.createDirectory(atPath: site + "/checkout", withIntermediateDirectories: true)
        try """
            <html><head>
            <script src="https://static.hotjar.com/c/hotjar-1.js"></script>
            <script src="https://edge.fullstory.com/s/fs.js"></script>
            <script src="https://www.clarity.ms/tag/abcdef12"></script>
            <script src="https://www.googletagmanager.com/gtm.js?id=GTM-X1"></script>
            <script src="https://connect.facebook.net/en_US/fbevents.js"></script>
            <script src="http://cdn.plain-http.test/x.js"></script>
            <img src="http://px.plain-http.test/p.gif">
            </head></html>
            """.write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        try "<html><head><script src=\"https://www.googletagmanager.com/gtm.js?id=GTM-X1\"></script></head></html>"
            .write(toFile: site + "/checkout/index.html", atomically: true, encoding: .utf8)
        try """
            vendors:
              hotjar: {status: denied, justification: no session replay}
              fullstory: {status: approved, owner: ux@example.com}
              google-tag-manager: {status: approved, expires: 2020-01-31}
              meta-pixel: {status: approved, not_on: ["label:payment"]}
              stripe-js: {status: required, on: ["*/checkout*"]}
            categories:
              session-replay: denied
            """.write(toFile: tmp.path + "/approved.yaml", atomically: true, encoding: .utf8)
        func scan(_ extra: [String]) throws -> [[String: Any]] {
            let r = try runTagwatch(["scan", "--rules", Repo.rules, "--registry", tmp.path + "/approved.yaml", "--format", "json",
                                     "--base-url", "https://shop.example/", site] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try pages(r)
        }
        func findings(_ pages: [[String: Any]], _ url: String) -> Set<String> {
            let page = pages.first { $0["url"] as? String == url }
            return Set((page?["findings"] as? [[String: Any]] ?? []).map {
                "\($0["kind"] as? String ?? "") \($0["severity"] as? String ?? "") \($0["subject"] as? String ?? "")"
            })
        }
        let plain = try scan([])
        #expect(findings(plain, "https://shop.example/") == [
            "denied-vendor high hotjar",                     // its own entry
            "denied-vendor high microsoft-clarity",          // its category's entry
            // fullstory: its own approval beats its category's denial, so no finding
            "approval-expired medium google-tag-manager",
            "insecure-resource high http://cdn.plain-http.test/x.js",
            "insecure-resource medium http://px.plain-http.test/p.gif",
            "unknown-third-party medium cdn.plain-http.test",
            "unknown-third-party medium px.plain-http.test",
        ])
        #expect(findings(plain, "https://shop.example/checkout/") == [
            "approval-expired medium google-tag-manager",
            "required-vendor-missing high stripe-js",
        ])
        // --label gives every target a label, which the registry's scopes see.
        let labelled = try scan(["--label", "payment"])
        #expect(findings(labelled, "https://shop.example/").contains("out-of-scope high meta-pixel"))
        #expect(!findings(plain, "https://shop.example/").contains("out-of-scope high meta-pixel"))
    }
}
