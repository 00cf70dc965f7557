import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

@Suite struct BuiltinCatalogCoreTests {
    /// The build plugin embeds every file of rules/vendors byte for byte (escaping included).
    @Test func theEmbeddedFilesAreTheRulesFolderVerbatim() throws {
        let dir = Repo.rules + "/vendors"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(BuiltinCatalog.fileNames == names)
        for f in BuiltinCatalog.files {
            let disk = try String(contentsOfFile: dir + "/" + f.name, encoding: .utf8)
            #expect(f.text == disk, "\(f.name) differs from the file on disk")
        }
        let builtin = try CatalogLoader.load(source: CatalogSource(builtin: true)).catalog
        let folder = try CatalogLoader.load(directory: dir)
        #expect(builtin.count == folder.count)
        #expect(builtin.vendors.map(\.id) == folder.vendors.map(\.id))
    }

    @Test func aConfigWithoutRulesUsesTheBuiltInCatalog() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "targets:\n  - url: https://www.example.com/\n".write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let config = try Config.load(file: dir + "/c.yaml")
        let rules = try Rules.load(directory: config.rules, registryFile: config.registry, builtinCatalog: config.builtinCatalog)
        #expect(rules.catalog.vendor(id: "hotjar") != nil)
        #expect(rules.catalogDescription.hasPrefix("built-in catalog"))
        try "targets:\n  - url: https://www.example.com/\nbuiltin_catalog: false\n".write(toFile: dir + "/d.yaml", atomically: true, encoding: .utf8)
        if !FileManager.default.fileExists(atPath: Config.defaultRules) {
            #expect(throws: SourceError.self) { try Config.load(file: dir + "/d.yaml") }
        }
    }
}
