import Foundation
import Testing
import TagwatchTestSupport
import Yams
@testable import TagwatchCore

/// `YAMLDocument` builds nodes from libyaml's events and leaves tag-dependent documents to Yams:
/// every document must come out as Yams composes it, and every error as Yams words it.
@Suite struct YAMLDocumentTests {
    enum Composed: Equatable {
        case root(YAMLNode?)
        case error(String)
    }

    /// What Yams makes of `text`: the converted tree, or its error's description.
    static func viaYams(_ text: String) -> Composed {
        do { return .root(try Yams.compose(yaml: text).map(YAMLDocument.convert)) } catch { return .error("\(error)") }
    }

    static func viaDocument(_ text: String) -> Composed {
        do { return .root(try YAMLDocument.compose(text)) } catch { return .error("\(error)") }
    }

    static func expectSame(_ text: String, _ comment: Comment? = nil) {
        #expect(viaDocument(text) == viaYams(text), comment ?? "\(text.prefix(200))")
    }

    @Test func theRepositorysYAMLFilesComposeAsYamsDoes() throws {
        var paths = try FileManager.default.contentsOfDirectory(atPath: Repo.rules + "/vendors").map { Repo.rules + "/vendors/" + $0 }
        paths += ["rules/approved.example.yaml", "systemd/tagwatch.example.yaml", "examples/tagwatch.yaml"].map(Repo.path)
        let fixtures = Repo.fixtures + "/fuzz-regressions"
        paths += try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix(".yaml") }.map { fixtures + "/" + $0 }
        for p in paths {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: p)), as: UTF8.self)
            Self.expectSame(text, "\(p)")
        }
        // The catalog files take the fast path (no fallback to Yams).
        for f in BuiltinCatalog.files {
            guard case .document(let root?) = YAMLDocument.fastCompose(f.text) else {
                Issue.record("\(f.name) left to Yams")
                continue
            }
            #expect(.root(root) == Self.viaYams(f.text))
        }
    }

    @Test func tagDependentDocumentsAndErrorsComeOutAsYamsMakesThem() {
        let cases = [
            "", " ", "# only a comment\n", "---\n", "a: 1\n", "a: 1\na: 2\n", "1: x\n\"1\": y\n", "true: x\n'true': y\n",
            "a: &x [1, 2]\nb: *x\n", "a: *undefined\n", "=: x\n", "a: {=: v}\n", "!!str a: x\n", "? [k]\n: v\n", "? {k: 1}\n: v\n",
            "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: 'x\n", "\ta: 1\n", "a:\n  - b\n   - c\n", "key: \"\\u00e9\\x41\"\n",
            "k: |\n  line one\n  line two\n", "k: >\n  folded\n  text\n", "k: plain\n  continued\n", "- a\n- b: c\n  d: e\n",
            "x: ~\ny: null\nz:\n", "%YAML 1.1\n---\na: b\n", "a: !!binary aGVsbG8=\n", "a: !custom {id: x}\n",
            "dup: {a: 1, b: 2, a: 3}\n", "list: [{a: 1, a: 1}]\n", "a: 1\nb: [x, y, {c: d}]\n" + String(repeating: "k: v\n", count: 1),
            "keys:\n" + (0..<40).map { "  k\($0): v\n" }.joined(), "keys:\n" + (0..<40).map { "  k\($0 % 39): v\n" }.joined(),
            "\u{FEFF}a: b\n", "a: b\r\nc: d\r\n", "a: \"é\"\nb: 'ü'\n",
        ]
        for c in cases { Self.expectSame(c) }
    }

    @Test func mutatedFilesComposeAsYamsDoes() throws {
        let seeds: [[UInt8]] = try ["rules/vendors/analytics.yaml", "rules/approved.example.yaml", "systemd/tagwatch.example.yaml",
                                    "examples/tagwatch.yaml"].map { Array(try Data(contentsOf: URL(fileURLWithPath: Repo.path($0))).prefix(8000)) }
        var rng = FuzzTests.Rng(state: FuzzTests.seed ^ 0x5EED)
        for i in 0..<max(FuzzTests.iterations, 600) {
            let input = FuzzTests.mutate(seeds[i % seeds.count], &rng)
            Self.expectSame(String(decoding: input, as: UTF8.self))
        }
    }

    /// scripts/embed-catalog pre-parses the built-in files: each tree must be what libyaml makes
    /// of the text, and every shipped file must stay within the subset it pre-parses (a file
    /// outside it still loads, parsed at run time, but every start pays for that).
    @Test func thePreParsedCatalogTreesAreWhatLibyamlMakesOfTheText() {
        #expect(BuiltinCatalog.compiled.count == BuiltinCatalog.files.count)
        for (f, compiled) in zip(BuiltinCatalog.files, BuiltinCatalog.compiled) {
            guard let compiled else {
                Issue.record("\(f.name) is not pre-parsed: keep it to block mappings and lists, one-line flow lists and mappings, one-line scalars")
                continue
            }
            guard let tree = CompiledYAML.decode(compiled) else {
                Issue.record("\(f.name): the pre-parsed tree does not decode")
                continue
            }
            guard case .document(let root?) = YAMLDocument.fastCompose(f.text) else {
                Issue.record("\(f.name) left to Yams")
                continue
            }
            #expect(tree == root, "\(f.name)")
        }
        #expect(CompiledYAML.decode("TWY1S1,5:abc") == nil)
        #expect(CompiledYAML.decode("TWY1M1,1:S1,1:aS2,1:b") == .mapping([YAMLPair(key: .scalar("a", line: 1), keyString: "a", value: .scalar("b", line: 2))], string: nil, line: 1))
    }

    /// The catalog from the pre-parsed trees, from a rules folder holding the same files, and
    /// from parsing the folder's YAML are the same, vendor for vendor.
    @Test func preParsedAndParsedCatalogsAgree() throws {
        let dir = Repo.rules + "/vendors"
        let parsed = try CatalogLoader.load(directory: dir)
        let builtin = try CatalogLoader.load(source: CatalogSource(builtin: true)).catalog
        let folder = try CatalogLoader.load(source: .forRules(Repo.rules, builtin: true)).catalog
        func text(_ c: Catalog, dropFile prefix: String) -> [String] {
            c.vendors.map { v in
                var v = v
                v.file = String(v.file.dropFirst(prefix.count))
                return "\(v)"
            }
        }
        #expect(text(builtin, dropFile: "built-in:vendors/") == text(parsed, dropFile: dir + "/"))
        #expect(text(folder, dropFile: dir + "/") == text(parsed, dropFile: dir + "/"))
        #expect(folder.vendors.allSatisfy { $0.file.hasPrefix(dir + "/") })
    }

    /// A rules folder file that differs from the built-in one by a byte is read from disk.
    @Test func anEditedCopyOfABuiltInFileIsParsed() throws {
        let root = try temporaryDirectory("tw-compiled")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/vendors", withIntermediateDirectories: true)
        let analytics = try String(contentsOfFile: Repo.rules + "/vendors/analytics.yaml", encoding: .utf8)
        try analytics.replacingOccurrences(of: "name: Google Analytics (GA4", with: "name: Google Analytics edited (GA4")
            .write(toFile: root + "/vendors/analytics.yaml", atomically: true, encoding: .utf8)
        try String(contentsOfFile: Repo.rules + "/vendors/cdn.yaml", encoding: .utf8)
            .write(toFile: root + "/vendors/cdn.yaml", atomically: true, encoding: .utf8)
        let catalog = try CatalogLoader.load(source: .forRules(root, builtin: true)).catalog
        #expect(catalog.vendor(id: "google-analytics")?.name.hasPrefix("Google Analytics edited") == true)
        #expect(catalog.vendor(id: "google-analytics")?.file == root + "/vendors/analytics.yaml")
        #expect(catalog.vendor(id: "cdnjs")?.file == root + "/vendors/cdn.yaml")
        #expect(catalog.vendor(id: "hotjar")?.file == BuiltinCatalog.path("session-replay.yaml"))
        // A broken copy is reported at its own file and line.
        try (analytics + "  - id: Bad_Id\n").write(toFile: root + "/vendors/analytics.yaml", atomically: true, encoding: .utf8)
        var errors: [SourceError] = []
        _ = try CatalogLoader.load(source: .forRules(root, builtin: true), errors: &errors)
        #expect(errors.first?.file == root + "/vendors/analytics.yaml")
        #expect(errors.first?.line == analytics.split(separator: "\n", omittingEmptySubsequences: false).count)
    }
}
