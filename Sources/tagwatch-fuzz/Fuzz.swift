import Foundation
import TagwatchCore

// Fuzz targets for libFuzzer (scripts/fuzz builds this with -sanitize=fuzzer,address and
// -DFUZZING). TAGWATCH_FUZZ_TARGET picks one: `extractor` (default) feeds the input to the
// HTML extractor and detector as a page; `rules` writes it to a file and loads it as a vendor
// catalog file, a registry and a config; `script` analyses it as a followed script (tag-manager
// containers served and exported, Segment settings, Tealium, loader snippets); `url` reads the
// input as `reference\nbase` and runs the WHATWG URL parser (WebURL), trapping when a parsed URL
// does not parse back to itself. Without -DFUZZING the same binary replays files
// given on the command line through the chosen target, so crashes found become regressions.

private let target = ProcessInfo.processInfo.environment["TAGWATCH_FUZZ_TARGET"] ?? "extractor"
private let extractor = Extractor()
private let detector: Detector = {
    var catalog = Catalog()
    let dir = ProcessInfo.processInfo.environment["TAGWATCH_FUZZ_RULES"] ?? "rules/vendors"
    catalog = (try? CatalogLoader.load(directory: dir)) ?? Catalog()
    return Detector(catalog: catalog)
}()
private let analyzer = ScriptAnalyzer(catalog: detector.catalog)
private let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tagwatch-fuzz-\(getpid()).yaml").path

func runOne(_ bytes: [UInt8]) {
    switch target {
    case "rules":
        _ = FileManager.default.createFile(atPath: scratch, contents: Data(bytes))
        var c = Catalog()
        _ = try? CatalogLoader.load(file: scratch, into: &c)
        _ = try? RegistryLoader.load(file: scratch, catalog: detector.catalog)
        _ = try? Config.load(file: scratch)
    case "script":
        let a = analyzer.analyse(body: bytes, url: "https://www.googletagmanager.com/gtm.js?id=GTM-FUZZ1")
        _ = detector.detectFollowed(a.found, pageURL: "https://www.example.com/a/")
    case "url":
        checkURL(bytes)
    default:
        let e = extractor.extract(body: bytes, pageURL: "https://www.example.com/a/")
        _ = detector.detect(e, pageURL: "https://www.example.com/a/")
        _ = SitemapExtractor.extract(bytes)
    }
}

/// The URL parser's properties, checked on every input: no crash, an http(s) result has a
/// host, and serializing is idempotent (the href parses back to the same href), as the URL
/// Standard promises for special URLs.
func checkURL(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let reference = String(parts[0])
    let base = parts.count > 1 ? WebURL(String(parts[1])) : WebURL("https://www.example.com/a/b?c#d")
    guard let u = WebURL.parse(reference, base: base) else { return }
    let href = u.href
    guard let again = WebURL(href) else { fatalError("href does not parse again: \(href.debugDescription) from \(reference.debugDescription)") }
    if again.href != href { fatalError("href not idempotent: \(href.debugDescription) -> \(again.href.debugDescription)") }
    if u.isHTTP && u.hostForMatching.isEmpty { fatalError("http(s) URL without a host: \(href.debugDescription)") }
    _ = u.resolve("../x?y#z")
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    runOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM names an executable's entry point after its module; hand control to libFuzzer's driver.
@_cdecl("tagwatch_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzzOne)
}
#else
@main
enum Replay {
    static func main() {
        let files = CommandLine.arguments.dropFirst()
        if files.isEmpty {
            FileHandle.standardError.write(Data("usage: tagwatch-fuzz FILE... (replays inputs through TAGWATCH_FUZZ_TARGET=\(target))\n".utf8))
            exit(2)
        }
        for f in files {
            guard let d = FileManager.default.contents(atPath: f) else {
                FileHandle.standardError.write(Data("cannot read \(f)\n".utf8))
                exit(2)
            }
            runOne(Array(d))
        }
        print("replayed \(files.count) input(s) through \(target): no crash")
    }
}
#endif
