import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// `RegexSyntax` lets a tag-id pattern be compiled on first use instead of at load, so it must
/// pass only patterns ICU compiles (a bad one must still be reported when the catalog loads).
@Suite struct RegexSyntaxTests {
    static func compiles(_ p: String) -> Bool { (try? NSRegularExpression(pattern: p)) != nil }

    @Test func everyPatternItPassesCompiles() {
        let tokens = ["a", "Z", "0", "-", "_", " ", "'", "\"", "/", ":", "=", "#", ",", ".", "^", "$", "|", "?", "*", "+", "{", "}",
                      "{2}", "{2,}", "{2,5}", "{5,2}", "{,3}", "{12345}", "[", "]", "[^", "[a-z]", "[z-a]", "[\\w-]", "[-a]", "[a-]",
                      "[]", "[^]", "[&&]", "[}]", "[$]", "[{]", "[ ]", "[(|)]", "[*+?.]", "[[a]]", "[\\d\\s]", "(", ")", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?i)", "(?<n>",
                      "\\", "\\d", "\\w", "\\s", "\\b", "\\B", "\\.", "\\(", "\\)", "\\[", "\\{", "\\<", "\\-", "\\/", "\\'", "\\\"",
                      "\\Q", "\\E", "\\p", "\\p{L}", "\\1", "\\k", "\\x41", "\\u0041", "\\N", "\\t", "\\n", "\\r", "é", "\u{0}", "\t"]
        var rng = FuzzTests.Rng(state: FuzzTests.seed ^ 0x4E6E)
        var passed = 0
        for _ in 0..<40_000 {
            let n = Int(rng.next() % 10) + 1
            let p = (0..<n).map { _ in tokens[Int(rng.next() % UInt64(tokens.count))] }.joined()
            if RegexSyntax.isPlainlyValid(p) {
                passed += 1
                #expect(Self.compiles(p), "RegexSyntax passed '\(p)', which ICU rejects")
            }
        }
        #expect(passed > 2_000)
    }

    @Test func theCatalogsPatternsMostlyPassAndTheRestCompileAtLoad() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let patterns = catalog.vendors.flatMap(\.tagIDPatterns)
        let plain = patterns.filter(RegexSyntax.isPlainlyValid)
        #expect(patterns.allSatisfy(Self.compiles))
        #expect(plain.count * 10 >= patterns.count * 8, "\(patterns.count - plain.count) of \(patterns.count) compiled at load")
        for p in ["(", "a{3,1}", "[z-a]", "\\", "*a", "a**", "(?<=a+)b", "[]"] {
            #expect(!RegexSyntax.isPlainlyValid(p), "'\(p)'")
        }
        for p in ["\\bAW-(\\d{6,12})\\b", "(?<![\\w-])(pub-\\d{16})\\b", "fbq\\(\\s*['\"]init['\"]", "a|b", "x{2,}?", "[A-Za-z0-9_-]{8,12}", "\\{[^}]*\\bti", "(?<![A-Za-z_$])a"] {
            #expect(RegexSyntax.isPlainlyValid(p), "'\(p)'")
        }
    }

    /// A bad pattern is still an error when the catalog loads, with its file and line.
    @Test func aBadPatternIsStillReportedAtLoad() throws {
        var catalog = Catalog()
        let v = Vendor(id: "x", name: "X", company: "X", category: "analytics", website: nil, hosts: ["x.test"], patterns: [],
                       signatures: [], tagIDPatterns: ["ok-(\\d+)", "bad(("], file: "f.yaml", line: 3)
        #expect(throws: SourceError.self) { try catalog.add(v) }
        let w = Vendor(id: "w", name: "W", company: "W", category: "analytics", website: nil, hosts: ["w.test"], patterns: [],
                       signatures: [], tagIDPatterns: ["\\bW-(\\d{3,5})\\b"], file: "f.yaml", line: 9)
        try catalog.add(w)
        let index = try #require(catalog.vendors.firstIndex { $0.id == "w" })
        #expect(catalog.tagIDs(vendor: index, in: "x W-1234 y W-99 W-5678") == ["1234", "5678"])
    }
}
