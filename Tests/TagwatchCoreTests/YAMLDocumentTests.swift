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
}
