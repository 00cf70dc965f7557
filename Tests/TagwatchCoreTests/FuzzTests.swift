import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// Seeded random-mutation fuzzing of the extractor and of the rules and config parsers,
/// over the real pages and rules in the repository. A crash fails the run; any input that
/// ever crashed belongs in `Tests/Fixtures/fuzz-regressions/` and is replayed here.
/// `TAGWATCH_FUZZ_ITERATIONS` and `TAGWATCH_FUZZ_SEED` run it longer by hand.
@Suite struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["TAGWATCH_FUZZ_ITERATIONS"] ?? "") ?? 150
    static let seed = UInt64(ProcessInfo.processInfo.environment["TAGWATCH_FUZZ_SEED"] ?? "") ?? 20261125

    /// SplitMix64: small, seeded, the same sequence on every machine.
    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    static let tokens: [[UInt8]] = ["<script src=\"", "</script>", "<noscript>", "<!--", "-->", "<iframe src=//", "<base href=",
                                    "<![CDATA[", "\u{0}", "\u{FFFD}", "https://", "'//", "<", ">", "\"", "&amp;", "<meta charset=utf-16>",
                                    "{", "}", ":", "- ", "\n", "  ", "*", "&anchor ", "*anchor", "!!binary ", "%", "\t"].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], _ rng: inout Rng) -> [UInt8] {
        var b = input
        let edits = Int.random(in: 1...8, using: &rng)
        for _ in 0..<edits {
            if b.isEmpty { b = tokens.randomElement(using: &rng)!; continue }
            let at = Int.random(in: 0..<b.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: b[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: b.remove(at: at)
            case 2: b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
            case 3:  // duplicate a slice
                let end = min(b.count, at + Int.random(in: 1...512, using: &rng))
                b.insert(contentsOf: b[at..<end], at: at)
            case 4:  // cut the rest
                b.removeSubrange(at...)
            default:  // swap two slices
                let other = Int.random(in: 0..<b.count, using: &rng)
                b.swapAt(at, other)
            }
        }
        return b
    }

    @Test func extractorSurvivesMutatedPages() throws {
        let corpus = Repo.fixtures + "/corpus/pages"
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted().prefix(20)
        let seeds = try files.map { try Array(FileSource.read(corpus + "/" + $0, maxBytes: 50_000_000).prefix(60_000)) }
            + [Array(try String(contentsOfFile: Repo.path("examples/site/index.html"), encoding: .utf8).utf8)]
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let detector = Detector(catalog: catalog)
        let extractor = Extractor()
        var rng = Rng(state: Self.seed)
        for _ in 0..<Self.iterations {
            let input = Self.mutate(seeds.randomElement(using: &rng)!, &rng)
            let e = extractor.extract(body: input, pageURL: "https://www.example.com/a/")
            let resources = detector.detect(e, pageURL: "https://www.example.com/a/")
            #expect(resources.count <= input.count)
        }
    }

    /// Every saved hostile page goes through the extractor and detector; the folder is not empty.
    @Test func extractorRegressionsReplay() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let detector = Detector(catalog: catalog)
        let extractor = Extractor()
        let files = Self.regressions(ext: "html")
        var replayed = 0
        for file in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            let e = extractor.extract(body: bytes, pageURL: "https://www.example.com/")
            _ = detector.detect(e, pageURL: "https://www.example.com/")
            replayed += 1
        }
        #expect(replayed == files.count)
        #expect(replayed >= 7, "Tests/Fixtures/fuzz-regressions holds the saved .html inputs: found \(replayed)")
    }

    /// Every saved YAML input goes through the catalog, registry and config loaders: each one
    /// loads or is rejected with an error naming the file, never a crash.
    @Test func parserRegressionsReplay() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let files = Self.regressions(ext: "yaml")
        var replayed = 0, rejected = 0
        for file in files {
            for parser in 0..<3 {
                do {
                    switch parser {
                    case 0:
                        var c = Catalog()
                        try CatalogLoader.load(file: file, into: &c)
                    case 1: _ = try RegistryLoader.load(file: file, catalog: catalog)
                    default: _ = try Config.load(file: file)
                    }
                } catch let e as SourceError {
                    rejected += 1
                    #expect(e.file == file, "\(e)")
                }
                replayed += 1
            }
        }
        #expect(replayed == files.count * 3)
        #expect(files.count >= 9, "Tests/Fixtures/fuzz-regressions holds the saved .yaml inputs: found \(files.count)")
        #expect(rejected > 0)
    }

    @Test func rulesAndConfigParsersSurviveMutatedFiles() throws {
        let dir = try temporaryDirectory("tw-fuzz")
        let seeds: [[UInt8]] = try ["rules/vendors/analytics.yaml", "rules/approved.example.yaml", "systemd/tagwatch.example.yaml",
                                    "examples/tagwatch.yaml"].map { Array(try Data(contentsOf: URL(fileURLWithPath: Repo.path($0))).prefix(8000)) }
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        var rng = Rng(state: Self.seed ^ 0xABCDEF)
        var rejected = 0
        for i in 0..<Self.iterations {
            let which = i % seeds.count
            let input = Self.mutate(seeds[which], &rng)
            let path = dir + "/f\(which).yaml"
            try Data(input).write(to: URL(fileURLWithPath: path))
            do {
                switch which {
                case 0:
                    var c = Catalog()
                    try CatalogLoader.load(file: path, into: &c)
                case 1: _ = try RegistryLoader.load(file: path, catalog: catalog)
                default: _ = try Config.load(file: path)
                }
            } catch let e as SourceError {
                rejected += 1
                #expect(e.file == path)
            }
        }
        #expect(rejected > 0, "mutations produce invalid files, which must be rejected with an error, never a crash")
    }

    /// The URL parser over mutated web-platform-tests inputs: never a crash, and every URL it
    /// gives parses back to itself (the property the libFuzzer `url` target checks too).
    @Test func urlParserSurvivesMutatedURLs() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/url-tests/urltestdata.json"))
        let cases = (try JSONSerialization.jsonObject(with: data) as! [Any]).compactMap { $0 as? [String: Any] }
        let seeds = cases.compactMap { $0["input"] as? String }.map { Array($0.utf8) }
            + ["https://ad.doubleclick.net./x.js", "http:\\\\a.test", "https://[::1]:8080/", "http://0x7f.1/"].map { Array($0.utf8) }
        let bases = [WebURL("https://www.example.com/a/b?c#d"), WebURL("http://h.test"), nil]
        var rng = Rng(state: Self.seed ^ 0x5EED)
        var parsed = 0
        for i in 0..<(Self.iterations * 20) {
            let input = String(decoding: Self.mutate(seeds.randomElement(using: &rng)!, &rng), as: UTF8.self)
            guard let u = WebURL.parse(input, base: bases[i % bases.count]) else { continue }
            parsed += 1
            #expect(WebURL(u.href)?.href == u.href, "\(input.debugDescription) -> \(u.href.debugDescription)")
            #expect(!u.hostForMatching.isEmpty, "\(u.href.debugDescription)")
        }
        #expect(parsed > Self.iterations)
        for path in Self.regressions(ext: "url") {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            _ = WebURL.parse(text, base: bases[0])
        }
    }

    static func regressions(ext: String) -> [String] {
        let dir = Repo.fixtures + "/fuzz-regressions"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix("." + ext) }.map { dir + "/" + $0 }
    }
}
