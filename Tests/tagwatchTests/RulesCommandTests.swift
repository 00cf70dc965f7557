import Foundation
import Testing
import TagwatchTestSupport
import TagwatchCore

@Suite struct RulesCommandTests {
    @Test func checkPassesOnTheBundledRules() throws {
        let r = try runTagwatch(["rules", "check", Repo.rules])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("ok"))
    }

    @Test func checkReportsEveryProblemWithFileAndLine() throws {
        let tmp = try TempDir()
        let dir = tmp.path
        try FileManager.default.createDirectory(atPath: dir + "/vendors", withIntermediateDirectories: true)
        try """
            vendors:
              - id: one
                name: One
                company: One Inc
                category: analytics
                hosts: [shared.test]
              - id: two
                name: Two
                company: Two Inc
                category: analytics
                hosts: [shared.test]
                colour: blue
            """.write(toFile: dir + "/vendors/a.yaml", atomically: true, encoding: .utf8)
        try """
            vendors:
              one: {status: approved, expires: 2027-13-01}
              three: {status: approved}
              two: {status: approved, on: ["https://x/{a,b}"]}
            """.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["rules", "check", dir])
        #expect(r.status == 2)
        #expect(r.stdout.contains("a.yaml:12: unknown field 'colour'"))
        #expect(r.stdout.contains("approved.yaml:2: bad date"))
        #expect(r.stdout.contains("approved.yaml:3: the registry names vendor 'three'"))
        // 'two' never loaded (its entry is invalid), so the registry's mention of it is reported too.
        #expect(r.stdout.contains("approved.yaml:4:"))
    }

    @Test func duplicateHostAcrossFilesIsReported() throws {
        let tmp = try TempDir()
        let dir = tmp.path
        try FileManager.default.createDirectory(atPath: dir + "/vendors", withIntermediateDirectories: true)
        try "vendors:\n  - {id: one, name: One, company: O, category: cdn, hosts: [dup.test]}\n"
            .write(toFile: dir + "/vendors/a.yaml", atomically: true, encoding: .utf8)
        try "vendors:\n  - {id: two, name: Two, company: T, category: cdn, hosts: [dup.test]}\n"
            .write(toFile: dir + "/vendors/b.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["rules", "check", dir])
        #expect(r.status == 2)
        #expect(r.stdout.contains("b.yaml:2: host 'dup.test' of 'two' is already claimed by 'one'"))
    }

    @Test func importEachFormatIntoRulesThatCheckClean() throws {
        let tmp = try TempDir()
        let dir = tmp.path
        try FileManager.default.createDirectory(atPath: dir + "/vendors", withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Repo.rules + "/vendors") {
            try FileManager.default.copyItem(atPath: Repo.rules + "/vendors/" + f, toPath: dir + "/vendors/" + f)
        }
        for (format, file) in [(ImportFormat.disconnect, "services.json"), (.ddg, "tds.json"), (.wappalyzer, "technologies.json"),
                               (.whotracksme, "trackerdb.sql")] {
            // What the library makes of the file against the catalog as it stands (earlier imports included).
            let expected = try CatalogImporter.importCatalog(format: format, path: Repo.fixtures + "/importers/" + file,
                                                             existing: CatalogLoader.load(directory: dir + "/vendors"))
            let r = try runTagwatch(["rules", "import", "--rules", dir, "--from", format.rawValue, "--verbose",
                                     Repo.fixtures + "/importers/" + file])
            #expect(r.status == 0, "\(format): \(r.stderr)")
            let out = dir + "/vendors/imported-\(format.rawValue).yaml"
            #expect(r.stdout.contains("imported \(expected.vendors.count) vendors from"), "\(format): \(r.stdout)")
            #expect(r.stdout.contains("into \(out); skipped \(expected.skipped.count) items"), "\(format): \(r.stdout)")
            #expect(!expected.vendors.isEmpty && !expected.skipped.isEmpty)
            // --verbose names every skipped item with its reason.
            for s in expected.skipped {
                #expect(r.stdout.contains("  skipped \(s.item): \(s.reason)"), "\(format): \(s.item)")
            }
            // The file holds exactly the vendors reported.
            var written = Catalog()
            try CatalogLoader.load(file: out, into: &written)
            #expect(written.vendors.map(\.id) == expected.vendors.map(\.id), "\(format)")
        }
        let check = try runTagwatch(["rules", "check", dir])
        #expect(check.status == 0, "\(check.stdout)")
        let bad = try runTagwatch(["rules", "import", "--rules", dir, "--from", "ddg", Repo.fixtures + "/importers/README.md"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("README.md"))
    }

    @Test func importOutputGoesWhereItIsTold() throws {
        let tmp = try TempDir()
        let target = tmp.path + "/elsewhere/wappalyzer.yaml"
        try FileManager.default.createDirectory(atPath: tmp.path + "/elsewhere", withIntermediateDirectories: true)
        let r = try runTagwatch(["rules", "import", "--rules", Repo.rules, "--from", "wappalyzer", "--output", target,
                                 Repo.fixtures + "/importers/technologies.json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("into \(target)"))
        var written = Catalog()
        try CatalogLoader.load(file: target, into: &written)
        #expect(written.vendors.map(\.id) == ["acme-chat", "beacon-metrics", "shared-widget"])
        #expect(!FileManager.default.fileExists(atPath: Repo.rules + "/vendors/imported-wappalyzer.yaml"), "nothing written into the rules")
        // '-': the YAML on standard output, the report on standard error.
        let toStdout = try runTagwatch(["rules", "import", "--rules", Repo.rules, "--from", "wappalyzer", "--output", "-",
                                        Repo.fixtures + "/importers/technologies.json"])
        #expect(toStdout.status == 0)
        #expect(toStdout.stdout == (try String(contentsOfFile: target, encoding: .utf8)))
        #expect(toStdout.stderr.contains("imported 3 vendors"))
    }

    @Test func lookupSaysWhichVendorAndWhy() throws {
        let r = try runTagwatch(["rules", "lookup", "--rules", Repo.rules, "https://www.google.com/recaptcha/api.js", "static.hotjar.com"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("pattern 'www.google.com/recaptcha/'"))
        #expect(r.stdout.contains("Contentsquare"))
        let none = try runTagwatch(["rules", "lookup", "--rules", Repo.rules, "cdn.nobody.test"])
        #expect(none.status == 1)
        #expect(none.stdout.contains("no vendor claims"))
    }

    @Test func demoCheckoutFailsOnHighWithTheExampleRegistry() throws {
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--registry", Repo.rules + "/approved.example.yaml",
                                 "--fail-on", "high", "--format", "json",
                                 "--base-url", "https://shop.acme-outfitters.example/", Repo.path("examples/site")])
        #expect(r.status == 1, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let pages = json["pages"] as! [[String: Any]]
        let checkout = try #require(pages.first { ($0["url"] as? String)?.hasSuffix("/checkout/") == true })
        let findings = checkout["findings"] as! [[String: Any]]
        #expect(findings.contains { $0["kind"] as? String == "out-of-scope" && ($0["vendor"] as? [String: Any])?["category"] as? String == "session-replay" })
        #expect(findings.contains { $0["kind"] as? String == "unknown-third-party" && $0["subject"] as? String == "cdn.quickcart-widgets.net" })
        // The home page's HTML carries only approved vendors; its findings are the tags marketing put
        // inside the GTM-ACME123 container (a denied Floodlight tag, an unapproved TikTok pixel).
        let home = try #require(pages.first { ($0["url"] as? String) == "https://shop.acme-outfitters.example/" })
        let homeFindings = home["findings"] as! [[String: Any]]
        #expect(Set(homeFindings.compactMap { $0["kind"] as? String }) == ["denied-vendor", "unapproved-vendor"])
        #expect(homeFindings.allSatisfy { ($0["message"] as? String)?.contains("inside GTM-ACME123") == true })
        // Without --fail-on, findings do not change the exit code.
        let r2 = try runTagwatch(["scan", "--rules", Repo.rules, "--registry", Repo.rules + "/approved.example.yaml",
                                  "--base-url", "https://shop.acme-outfitters.example/", Repo.path("examples/site")])
        #expect(r2.status == 0)
    }
}
