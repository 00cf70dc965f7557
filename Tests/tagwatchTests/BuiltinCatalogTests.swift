import Foundation
import Testing
import TagwatchTestSupport

/// The catalog travels inside the binary: no rules folder is needed, and a folder adds to or
/// replaces it file by file, as the README says.
@Suite struct BuiltinCatalogTests {
    @Test func scanFromTheRootFolderWithNoRulesUsesTheBuiltInCatalog() throws {
        let page = Repo.path("examples/site/checkout/index.html")
        let r = try runTagwatch(["scan", "--format", "json", page], cwd: "/")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"id\" : \"hotjar\"") || r.stdout.contains("\"id\": \"hotjar\""), "\(r.stdout)")
        #expect(r.stdout.contains("\"id\" : \"stripe-js\"") || r.stdout.contains("\"id\": \"stripe-js\""))
        let lookup = try runTagwatch(["rules", "lookup", "static.hotjar.com"], cwd: "/")
        #expect(lookup.status == 0)
        #expect(lookup.stdout.contains("catalog: built-in catalog"), "\(lookup.stdout)")
        let check = try runTagwatch(["rules", "check"], cwd: "/")
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("built-in catalog"))
    }

    @Test func aRulesFolderAddsFilesAndReplacesBuiltInFilesOfTheSameName() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/vendors", withIntermediateDirectories: true)
        // An added file: a vendor of the company's own.
        try "vendors:\n  - {id: acme-widgets, name: Acme Widgets, company: Acme, category: other, hosts: [widgets.acme.test]}\n"
            .write(toFile: dir + "/vendors/local.yaml", atomically: true, encoding: .utf8)
        // A replacing file: session-replay.yaml now holds only one made-up vendor, so Hotjar is gone.
        try "vendors:\n  - {id: replay-test, name: Replay Test, company: Test, category: session-replay, hosts: [replay.test]}\n"
            .write(toFile: dir + "/vendors/session-replay.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["rules", "lookup", "--rules", dir, "widgets.acme.test", "www.googletagmanager.com", "replay.test"], cwd: "/")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("catalog: built-in catalog + \(dir)/vendors (1 file added; replacing built-in session-replay.yaml)"), "\(r.stdout)")
        #expect(r.stdout.contains("at \(dir)/vendors/local.yaml:2"))
        #expect(r.stdout.contains("at built-in:vendors/tag-managers.yaml:"))
        let gone = try runTagwatch(["rules", "lookup", "--rules", dir, "static.hotjar.com"], cwd: "/")
        #expect(gone.status == 1)
        #expect(gone.stdout.contains("no vendor claims static.hotjar.com"))
        // Without the built-in catalog only the folder's two files count.
        let only = try runTagwatch(["rules", "check", "--no-builtin-catalog", dir], cwd: "/")
        #expect(only.status == 0, "\(only.stdout)\(only.stderr)")
        #expect(only.stdout.contains("2 vendors from the \(dir)/vendors only (built-in catalog off)"), "\(only.stdout)")
        let missing = try runTagwatch(["rules", "lookup", "--no-builtin-catalog", "--rules", dir, "www.googletagmanager.com"], cwd: "/")
        #expect(missing.status == 1)
    }

    @Test func aFolderVendorClashingWithTheBuiltInCatalogIsAnErrorWithFileAndLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/vendors", withIntermediateDirectories: true)
        try "vendors:\n  - {id: my-hotjar, name: Mine, company: Me, category: other, hosts: [hotjar.com]}\n"
            .write(toFile: dir + "/vendors/mine.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["rules", "check", dir], cwd: "/")
        #expect(r.status == 2)
        #expect(r.stdout.contains("mine.yaml:2: host 'hotjar.com' of 'my-hotjar' is already claimed by 'hotjar'"), "\(r.stdout)")
    }
}
