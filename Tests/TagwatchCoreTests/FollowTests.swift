import Foundation
import Testing
@testable import TagwatchCore
import TagwatchTestSupport

/// Script following: loader snippets, tag-manager containers (served and exported), Segment,
/// Tealium, and the follower's fetching, caching and bounds against a loopback server.
@Suite struct FollowTests {
    static let catalog: Catalog = try! CatalogLoader.load(directory: Repo.rules + "/vendors")
    let analyzer = ScriptAnalyzer(catalog: FollowTests.catalog)

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/follow/" + name)))
    }

    func detected(_ a: ScriptAnalysis, page: String = "https://www.shop.example/") -> [Resource] {
        Detector(catalog: Self.catalog).detectFollowed(a.found, pageURL: page)
    }

    // MARK: snippets

    @Test func snippetsYieldWholeURLs() {
        let gtm = "(function(w,d,s,l,i){w[l]=w[l]||[];var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-ABC1234');"
        #expect(InlineURLScanner.loadedURLs(in: gtm) == ["https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234"])

        let hotjar = "(function(h,o,t,j,a,r){h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};h._hjSettings={hjid:1234567,hjsv:6};a=o.getElementsByTagName('head')[0];r=o.createElement('script');r.async=1;r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;a.appendChild(r);})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');"
        #expect(InlineURLScanner.loadedURLs(in: hotjar) == ["https://static.hotjar.com/c/hotjar-1234567.js?sv=6"])

        let segment = #"!function(){var analytics=window.analytics=window.analytics||[];analytics.load=function(key,e){var t=document.createElement("script");t.type="text/javascript";t.async=!0;t.src="https://cdn.segment.com/analytics.js/v1/" + key + "/analytics.min.js";var n=document.getElementsByTagName("script")[0];n.parentNode.insertBefore(t,n)};analytics.SNIPPET_VERSION="4.15.3";analytics.load("AbC123xyz");analytics.page();}}();"#
        #expect(InlineURLScanner.loadedURLs(in: segment) == ["https://cdn.segment.com/analytics.js/v1/AbC123xyz/analytics.min.js"])

        // The id passed as a variable assigned earlier.
        let byName = "let gtmID = 'GTM-XYZ9876';(function(w,d,s,l,i){var j=d.createElement(s);j.src='https://www.googletagmanager.com/gtm.js?id='+i;})(window,document,'script','dataLayer',gtmID);"
        #expect(InlineURLScanner.loadedURLs(in: byName) == ["https://www.googletagmanager.com/gtm.js?id=GTM-XYZ9876"])

        // A piece known only at run time ends the URL there; a plain literal stays as it is.
        let runtime = "var u='https://cdn.vendor.test/p.js?u='+location.href; var v='https://cdn.other.test/x.js';"
        #expect(Set(InlineURLScanner.loadedURLs(in: runtime)) == ["https://cdn.vendor.test/p.js?u=", "https://cdn.other.test/x.js"])
    }

    @Test func snippetEvaluatorSurvivesHostileCode() {
        for text in ["'http://a.test/'+", "(function(a,b){'https://x.test/'+a})(", "'//x.test/'+'", String(repeating: "(function(a){", count: 2000),
                     "`https://t.test/${a}`+b", "'https://x.test/'+'\\x", String(repeating: "'https://a.test/'+", count: 5000)] {
            _ = SnippetEvaluator.urls(in: text)
        }
    }

    @Test func gtagConfigCallsNameTheirProducts() {
        let html = #"<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script><script>gtag("js", new Date()); gtag("config", "G-ABC123"); gtag( 'config' , 'AW-987654' );</script>"#
        let e = Extractor().extract(body: Array(html.utf8), pageURL: "https://shop.example/")
        let rs = Detector(catalog: Self.catalog).detect(e, pageURL: "https://shop.example/")
        // The GA4 script once (the page names it), and Google Ads for the AW- destination gtag.js loads.
        #expect(rs.filter { $0.url == "https://www.googletagmanager.com/gtag/js?id=G-ABC123" }.count == 1)
        let ads = rs.filter { $0.vendor?.id == "google-ads" }
        #expect(!ads.isEmpty && ads.allSatisfy { $0.tagIDs == ["AW-987654"] })
    }

    // MARK: containers

    @Test func servedContainerExpandsEveryTagFamily() throws {
        let url = "https://www.googletagmanager.com/gtm.js?id=GTM-TEST123"
        let a = analyzer.analyse(body: try fixture("gtm-served.js"), url: url)
        #expect(a.kind == "GTM-TEST123 version 42")
        let rs = detected(a)
        let vendors = Set(rs.compactMap { $0.vendor?.id })
        #expect(vendors.isSuperset(of: ["google-analytics", "google-ads", "google-campaign-manager-360", "microsoft-advertising-uet",
                                        "linkedin-insight", "hotjar", "hubspot", "meta-pixel", "microsoft-clarity", "tiktok-pixel"]))
        #expect(rs.allSatisfy { $0.via == url && $0.tag?.container == "GTM-TEST123" })
        // Tag type, id and consent list travel with what the tag loads.
        let hotjar = try #require(rs.first { $0.vendor?.id == "hotjar" })
        #expect(hotjar.url == "https://static.hotjar.com/c/hotjar-3333333.js")
        #expect(hotjar.tag == TagRef(type: "__hjtc", id: "12", consent: ["analytics_storage"], container: "GTM-TEST123"))
        // A constant variable fills a template value; a GA4 id from a macro is resolved.
        #expect(rs.contains { $0.url == "https://www.googletagmanager.com/gtag/js?id=G-TESTMEAS01" })
        #expect(rs.contains { $0.url.hasPrefix("https://www.googleadservices.com/pagead/conversion/123456789/") })
        // A Google tag with an AW- id is Google Ads, not Analytics.
        let aw = try #require(rs.first { $0.tag?.id == "4" })
        #expect(aw.vendor?.id == "google-ads")
        // Custom HTML: data-gtmsrc script, the <noscript> pixel, and the script its code builds.
        let html = rs.filter { $0.tag?.type == "__html" }
        #expect(html.contains { $0.host == "js.hs-scripts.com" && $0.kind == .script })
        #expect(html.contains { $0.host == "www.facebook.com" && $0.kind == .noscriptImg })
        #expect(html.contains { $0.url == "https://connect.facebook.net/en_US/fbevents.js" })
        #expect(html.first { $0.url == "https://connect.facebook.net/en_US/fbevents.js" }?.tag?.consent == ["ad_storage", "analytics_storage"])
        #expect(html.contains { $0.url == "https://www.clarity.ms/tag/abcdef1234" })
        // Custom Image and a custom template's permitted URLs (its pixel host goes with its script's vendor).
        #expect(rs.contains { $0.tag?.type == "__img" && $0.host == "px.ads.linkedin.com" })
        let tiktok = rs.filter { $0.tag?.type == "__cvt_12345_67" }
        #expect(tiktok.count == 2 && tiktok.allSatisfy { $0.vendor?.id == "tiktok-pixel" })
        // The paused tag (17) and trigger helpers load nothing; the unknown type is named in a warning.
        #expect(!rs.contains { ["17", "18", "19"].contains($0.tag?.id ?? "") })
        #expect(a.warnings.contains { $0.contains("__zz_unknown") })
        // GTM's own library code names Google hosts in every container: none is reported.
        #expect(!rs.contains { $0.host == "googleads.g.doubleclick.net" || $0.host == "td.doubleclick.net" || $0.host == "www.google.com" || $0.host == "stats.g.doubleclick.net" })
        #expect(rs.allSatisfy { $0.tag != nil })
    }

    @Test func customHTMLIsTokenizedAsPagesAre() {
        // A tag's markup gets the page's browser-like reading: an HTML5 named reference in a host
        // and a `<!-->` comment do not hide the script.
        let html = #"<!--><script type="text/gtmscript" data-gtmsrc="https://static&period;hotjar&period;com/c/hotjar-9.js"></script>"#
        let fragment = Extractor().extractFragment(html: html, baseURL: "https://www.googletagmanager.com/gtm.js")
        #expect(fragment.resources.map(\.url) == ["https://static.hotjar.com/c/hotjar-9.js"])
    }

    @Test func exportedContainerIsReadToo() throws {
        let a = analyzer.analyse(body: try fixture("gtm-export.json"), url: "file:///tmp/export.json")
        let rs = detected(a)
        #expect(a.kind?.hasPrefix("GTM-EXPORT1") == true)
        let hotjar = try #require(rs.first { $0.vendor?.id == "hotjar" })
        #expect(hotjar.url == "https://static.hotjar.com/c/hotjar-4242424.js")
        #expect(hotjar.tag?.consent == ["analytics_storage"])
        #expect(hotjar.tag?.id == "3")
        #expect(rs.contains { $0.vendor?.id == "meta-pixel" && $0.tag?.type == "__html" })
        #expect(rs.contains { $0.vendor?.id == "tiktok-pixel" && $0.tag?.type == "__cvt_2_11" })
        // The paused UET tag loads nothing.
        #expect(!rs.contains { $0.vendor?.id == "microsoft-advertising-uet" })
    }

    @Test func badContainersEndInAWarningNotACrash() throws {
        let whole = try fixture("gtm-served.js")
        let truncated = Array(whole.prefix(whole.count / 3))
        let a = analyzer.analyse(body: truncated, url: "https://cdn.test/gtm.js")
        #expect(a.found.isEmpty)
        #expect(a.warnings.contains { $0.contains("truncated") })
        let malformed = Array("var data = {\"resource\": {\"tags\": [,,]} };".utf8)
        #expect(analyzer.analyse(body: malformed, url: "https://cdn.test/gtm.js").warnings.contains { $0.contains("not valid JSON") })
        // Not JavaScript at all.
        let binary = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        _ = analyzer.analyse(body: binary, url: "https://cdn.test/x.js")
    }

    @Test func tenThousandTagsAreExpanded() throws {
        var tags: [String] = []
        for i in 0..<10_000 {
            tags.append(i % 2 == 0 ? #"{"function":"__hjtc","tag_id":\#(i),"vtp_hotjar_site_id":"\#(i)"}"#
                                   : #"{"function":"__img","tag_id":\#(i),"vtp_url":"https://px\#(i % 50).pixel.test/p.gif"}"#)
        }
        let body = Array(("var data = {\"resource\": {\"version\":\"1\",\"macros\":[],\"tags\":[" + tags.joined(separator: ",") + "]}};").utf8)
        let a = analyzer.analyse(body: body, url: "https://cdn.test/gtm.js")
        // One resource per distinct URL: 5,000 Hotjar site ids and the 25 pixel hosts odd numbers give.
        #expect(a.found.count == 5_025)
    }

    @Test func mutatedContainersAndSettingsNeverCrash() throws {
        var rng = FuzzTests.Rng(state: FuzzTests.seed)
        let seeds = [try fixture("gtm-served.js"), try fixture("gtm-export.json"), try fixture("segment-settings.json")]
        var analysed = 0
        for i in 0..<(FuzzTests.iterations * 2) {
            let input = FuzzTests.mutate(seeds[i % seeds.count], &rng)
            let a = analyzer.analyse(body: input, url: "https://www.googletagmanager.com/gtm.js?id=GTM-FUZZ1")
            _ = detected(a)
            analysed += 1
        }
        #expect(analysed == FuzzTests.iterations * 2)
    }

    // MARK: other loaders

    @Test func segmentSettingsBecomeDestinations() throws {
        let a = analyzer.analyse(body: try fixture("segment-settings.json"), url: "https://cdn.segment.com/v1/projects/K/settings")
        let rs = detected(a)
        #expect(Set(rs.compactMap { $0.vendor?.id }) == ["hotjar", "meta-pixel", "mixpanel"])
        #expect(rs.first { $0.vendor?.id == "hotjar" }?.url == "https://static.hotjar.com/c/hotjar-8888888.js")
        #expect(a.warnings.contains { $0.contains("Some Unknown Destination") })
        // The library on any host (a proxy on the company's domain) leads to its settings.
        #expect(SegmentSettings.settingsURL(forLibrary: "https://t.shop.example/analytics.js/v1/AbC123/analytics.min.js")
                == "https://t.shop.example/v1/projects/AbC123/settings")
    }

    @Test func tealiumLoaderListsItsTags() {
        let utag = #"var utag={};utag.loader.cfg={"7":{load:1,send:1,v:201901,wait:1,tid:7100},"12":{load:4,send:1,v:201902,wait:1,tid:20064}};utag.loader.cfgsort=["7","12"];"#
        let a = analyzer.analyse(body: Array(utag.utf8), url: "https://tags.tiqcdn.com/utag/acme/main/prod/utag.js")
        #expect(a.kind == "Tealium iQ")
        #expect(a.found.filter { $0.kind == .script }.map(\.url) == ["https://tags.tiqcdn.com/utag/acme/main/prod/utag.7.js",
                                                                     "https://tags.tiqcdn.com/utag/acme/main/prod/utag.12.js"])
    }

    @Test func fourthPartiesAreFoundInOrdinaryScripts() {
        let vendorScript = "(function(){var s=document.createElement('script');s.src='https://static.hotjar.com/c/hotjar-42.js';var share='https://www.shop.example/share?u=1';})();"
        let rs = detected(analyzer.analyse(body: Array(vendorScript.utf8), url: "https://cdn.widget.test/w.js"))
        #expect(rs.map(\.url) == ["https://static.hotjar.com/c/hotjar-42.js"])
        #expect(rs.first?.via == "https://cdn.widget.test/w.js")
        #expect(rs.first?.tag == nil)
    }

    @Test func templatesDropUnknownQueryValues() {
        #expect(ScriptAnalyzer.fill("https://a.test/p?id={x}&b=1", [:]).url == "https://a.test/p?b=1")
        #expect(ScriptAnalyzer.fill("https://a.test/c/{x}.js", [:]).url == "https://a.test/c/{x}.js")
        #expect(ScriptAnalyzer.fill("https://a.test/c/{x}.js?v={vtp_y}", ["vtp_x": "1", "y": "a b"]).url == "https://a.test/c/1.js?v=a%20b")
    }

    // MARK: the follower

    @Test func followerFetchesEachScriptOncePerScanAndBoundsIt() throws {
        let site = try temporaryDirectory("tagwatch-follow")
        defer { try? FileManager.default.removeItem(atPath: site) }
        let server = try TestServer(root: site)
        defer { server.stop() }
        let container = try String(decoding: fixture("gtm-served.js"), as: UTF8.self)
        try container.write(toFile: site + "/gtm.js", atomically: true, encoding: .utf8)
        let snippet = "<script>(function(w,d,s,l,i){var j=d.createElement(s);j.src='\(server.url("/gtm.js?id="))'+i;})(window,document,'script','dataLayer','GTM-TEST123');</script>"
        for i in 0..<6 {
            try "<html><head>\(snippet)<script src=\"/app\(i % 2).js\"></script></head><body>page \(i)</body></html>"
                .write(toFile: site + "/p\(i).html", atomically: true, encoding: .utf8)
        }
        try "console.log('first-party app, loads nothing')".write(toFile: site + "/app0.js", atomically: true, encoding: .utf8)
        // app1.js is missing: a warning on the pages that load it, nothing else lost.
        let detector = Detector(catalog: Self.catalog, firstPartyDomains: ["127.0.0.1"])
        let follower = ScriptFollower(catalog: Self.catalog, detector: detector, fetchOptions: FetchOptions(), options: FollowOptions())
        let scanner = Scanner(detector: detector, fetchOptions: FetchOptions(), follower: follower)
        let reports = scanner.scanAll(Scanner.jobs(for: (0..<6).map { Target(source: .url(server.url("/p\($0).html"))) }))
        for (i, r) in reports.enumerated() {
            #expect(r.error == nil)
            #expect(r.resources.contains { $0.vendor?.id == "hotjar" && $0.via == server.url("/gtm.js?id=GTM-TEST123") })
            #expect(r.warnings.contains { $0.contains("app1.js not followed: HTTP 404") } == (i % 2 == 1))
        }
        // gtm.js, app0.js and app1.js once each for six pages (and what the container loads is not
        // fetched from the internet by this test: third-party hosts resolve nowhere here, so they are
        // not counted beyond their attempt).
        let fetched = follower.usage.scripts
        #expect(fetched >= 3)
        let thirdParty = Set(reports[0].resources.filter { $0.via != nil && $0.kind == .script }.map(\.url)).count
        #expect(fetched <= 3 + thirdParty)

        // A cap on script size turns the container into a warning, not a lost page.
        var small = FollowOptions()
        small.maxScriptBytes = 1024
        let capped = Scanner(detector: detector, fetchOptions: FetchOptions(),
                             follower: ScriptFollower(catalog: Self.catalog, detector: detector, fetchOptions: FetchOptions(), options: small))
        let r = capped.scanAll(Scanner.jobs(for: [Target(source: .url(server.url("/p0.html")))]))[0]
        #expect(r.error == nil)
        #expect(r.warnings.contains { $0.contains("gtm.js?id=GTM-TEST123 not followed") && $0.contains("max_script_bytes") })
        #expect(!r.resources.contains { $0.via != nil })

        // A budget of one script per scan: the rest are named as not followed.
        var budget = FollowOptions()
        budget.maxScripts = 1
        let budgeted = Scanner(detector: detector, fetchOptions: FetchOptions(),
                               follower: ScriptFollower(catalog: Self.catalog, detector: detector, fetchOptions: FetchOptions(), options: budget))
        let b = budgeted.scanAll(Scanner.jobs(for: [Target(source: .url(server.url("/p0.html")))]))[0]
        #expect(b.warnings.contains { $0.contains("follow budget") })
    }

    /// `per_host` holds over the whole scan: the follower threads (each fetching one page's
    /// scripts) share one count per host, so pages whose scripts all live on one slow host do
    /// not put followers × `per_host` requests on it at once.
    @Test func followedScriptsKeepPerHostOverAllFollowerThreads() throws {
        let pages = try TempDir("tagwatch-follow-perhost")
        let empty = try TempDir("tagwatch-follow-perhost-scripts")
        let scripts = try TestServer(root: empty.path)
        defer { scripts.stop() }
        // Twelve pages, three distinct scripts each, all on the scripts' host, each answered
        // after 0.1 s: with the pages fetched and parsed at once, the followers ask together.
        for p in 0..<12 {
            let tags = (0..<3).map { "<script src=\"\(scripts.url("/slow?seconds=0.1&s=\(p * 3 + $0)"))\"></script>" }.joined()
            try "<html><head>\(tags)</head><body>page \(p)</body></html>".write(toFile: pages.path + "/p\(p).html", atomically: true, encoding: .utf8)
        }
        let server = try TestServer(root: pages.path)
        defer { server.stop() }
        var fetch = FetchOptions()
        fetch.perHost = 2
        let detector = Detector(catalog: Self.catalog, firstPartyDomains: ["127.0.0.1"])
        let follower = ScriptFollower(catalog: Self.catalog, detector: detector, fetchOptions: fetch, options: FollowOptions())
        let scanner = Scanner(detector: detector, fetchOptions: fetch, follower: follower)
        let reports = scanner.scanAll(Scanner.jobs(for: (0..<12).map { Target(source: .url(server.url("/p\($0).html"))) }))
        #expect(reports.allSatisfy { $0.error == nil && $0.resources.filter { $0.kind == .script }.count == 3 })
        let asked = scripts.requests.filter { $0.hasPrefix("/slow") }
        #expect(Set(asked).count == 36 && asked.count == 36)
        // The server counts a request until its handler returns, a moment after libcurl has the
        // answer and the slot has gone to the next script: one more can show for that moment.
        #expect((2...3).contains(scripts.maxInFlight), "per_host (2) requests to the scripts' host at once, not one per follower thread")
        #expect(follower.hostSlots.running == 0)
    }

    @Test func savedPagesReadTheirScriptsFromDisk() throws {
        let dir = try temporaryDirectory("tagwatch-saved")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A page saved with its *_files folder, scripts rewritten to relative paths.
        try FileManager.default.createDirectory(atPath: dir + "/shop_files", withIntermediateDirectories: true)
        try Data(try fixture("gtm-served.js")).write(to: URL(fileURLWithPath: dir + "/shop_files/gtm.js"))
        try #"<html><head><script src="./shop_files/gtm.js"></script></head></html>"#.write(toFile: dir + "/shop.html", atomically: true, encoding: .utf8)
        // A mirror laid out by host, the page under its own host's folder.
        try FileManager.default.createDirectory(atPath: dir + "/mirror/www.shop.example", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/mirror/www.googletagmanager.com", withIntermediateDirectories: true)
        try Data(try fixture("gtm-served.js")).write(to: URL(fileURLWithPath: dir + "/mirror/www.googletagmanager.com/gtm.js"))
        try "<html><head><script>(function(w,d,s,l,i){var j=d.createElement(s);j.src='https://www.googletagmanager.com/gtm.js?id='+i;})(window,document,'script','dataLayer','GTM-TEST123');</script></head></html>"
            .write(toFile: dir + "/mirror/www.shop.example/index.html", atomically: true, encoding: .utf8)
        // A FIFO named like a script must not hang the scan (only regular files are read).
        mkfifo(dir + "/shop_files/fifo.js", 0o600)
        try #"<html><head><script src="shop_files/fifo.js"></script></head></html>"#.write(toFile: dir + "/fifo.html", atomically: true, encoding: .utf8)

        let detector = Detector(catalog: Self.catalog)
        let scanner = Scanner(detector: detector, fetchOptions: FetchOptions(),
                              follower: ScriptFollower(catalog: Self.catalog, detector: detector, fetchOptions: FetchOptions(), options: FollowOptions()))
        let saved = scanner.scanAll(Scanner.jobs(for: [Target(source: .file(path: dir + "/shop.html", baseURL: nil))]))[0]
        #expect(saved.resources.contains { $0.vendor?.id == "hotjar" && $0.tag?.container == "GTM-TEST123" })
        let mirror = scanner.scanAll(Scanner.jobs(for: [Target(source: .file(path: dir + "/mirror/www.shop.example/index.html",
                                                                              baseURL: "https://www.shop.example/"))]))[0]
        #expect(mirror.resources.contains { $0.vendor?.id == "hotjar" && $0.via == "https://www.googletagmanager.com/gtm.js?id=GTM-TEST123" })
        let fifo = scanner.scanAll(Scanner.jobs(for: [Target(source: .file(path: dir + "/fifo.html", baseURL: nil))]))[0]
        #expect(fifo.error == nil)
        #expect(!fifo.resources.contains { $0.via != nil })
    }
}
