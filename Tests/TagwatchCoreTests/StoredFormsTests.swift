import Foundation
import Testing
@testable import TagwatchCore
import TagwatchTestSupport

/// The stored forms a steady-state cycle reads back: page observations (`page_cache`, JSON read
/// by `StoredReportReader`) and followed scripts' analyses (`script_cache`, `ScriptAnalysis.encoded`).
struct StoredFormsTests {
    static func report(_ source: Target.Source) -> PageReport {
        let gtm = "https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234"
        var r = PageReport(target: Target(source: source, labels: ["payment", "ünï"]), url: "https://shop.example/a?b=c&d=/e",
                           status: 200, error: nil,
                           warnings: ["body is not valid UTF-8 \"quoted\" \\ back\tslash\n", "emoji 😀 and \u{1} control, CJK 漢字"],
                           resources: [
                               Resource(url: gtm, host: "www.googletagmanager.com", kind: .script, party: .third,
                                        vendor: VendorRef(id: "google-tag-manager", name: "Google Tag Manager", company: "Google", category: "tag-manager")),
                               Resource(url: "https://static.hotjar.com/c/hotjar-1.js", host: "static.hotjar.com", kind: .inlineScript, party: .third,
                                        vendor: nil, integrity: "sha384-abc", tagIDs: ["1", "G-X"], via: gtm,
                                        tag: TagRef(type: "__hjtc", id: "12", consent: ["analytics_storage"], container: "GTM-ABC1234")),
                               Resource(url: "https://shop.example/x.png", host: "shop.example", kind: .noscriptImg, party: .first, vendor: nil,
                                        tag: TagRef(type: "__html")),
                           ])
        r.scripts = [ScriptRecord(url: gtm, kind: "script", integrity: nil, digest: ScriptDigest(of: Array("x".utf8)),
                                  containerVersion: "GTM-ABC1234 version 3", containerTags: ["__hjtc #12"]),
                     ScriptRecord(url: "https://shop.example/gone.js", kind: "script", error: "HTTP 404", via: gtm)]
        r.securityHeaders = ["content-security-policy": "script-src 'self' https://a.example/", "x-frame-options": "DENY"]
        r.validators = PageValidators(etag: "\"abc\"", lastModified: nil, bodySHA256: String(repeating: "0f", count: 32))
        return r
    }

    /// The same value as `JSONDecoder` makes of it, compared through a canonical encoding.
    static func canonical(_ r: PageReport) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(r), as: UTF8.self)
    }

    @Test func readsWhatJSONEncoderWritesAsJSONDecoderDoes() throws {
        for source in [Target.Source.url("https://shop.example/a"), .file(path: "/srv/a b.html", baseURL: nil),
                       .file(path: "/srv/c.html", baseURL: "https://c.example/")] {
            var bare = Self.report(source)
            bare.status = nil
            bare.validators = nil
            bare.error = "timed out"
            for value in [Self.report(source), bare] {
                for formatting in [JSONEncoder.OutputFormatting(), .withoutEscapingSlashes, .prettyPrinted] {
                    let e = JSONEncoder()
                    e.outputFormatting = formatting
                    let json = try e.encode(value)
                    let ours = try StoredReportReader.decode(Array(json))
                    let foundation = try JSONDecoder().decode(PageReport.self, from: json)
                    #expect(try Self.canonical(ours) == Self.canonical(foundation))
                    #expect(ours.resources == value.resources && ours.scripts == value.scripts)
                }
            }
        }
        // Escapes JSONEncoder does not write but JSON allows: \u escapes and surrogate pairs.
        let json = #"{"target":{"source":{"url":{"_0":"u"}},"labels":[]},"url":"\u0041\ud83d\ude00\/","warnings":[],"resources":[],"scripts":[],"securityHeaders":{},"extra":[1.5e3,true,null,{"k":"v"}]}"#
        #expect(try StoredReportReader.decode(Array(json.utf8)).url == "A😀/")
    }

    /// What a cycle stores (`StoredReportWriter`) reads back, through `StoredReportReader` and
    /// through `JSONDecoder`, as the value `JSONEncoder` wrote: every field, nil optionals,
    /// both kinds of target, escapes and control characters.
    @Test func writesWhatJSONEncoderWrites() throws {
        for source in [Target.Source.url("https://shop.example/a"), .file(path: "/srv/a b.html", baseURL: nil),
                       .file(path: "/srv/c.html", baseURL: "https://c.example/")] {
            var bare = Self.report(source)
            bare.status = nil
            bare.validators = nil
            bare.error = "timed out \u{0} \u{1F} \u{7F} \u{2028} \"\\/"
            bare.securityHeaders = [:]
            bare.scripts = []
            var onlyModified = Self.report(source)
            onlyModified.validators = PageValidators(etag: nil, lastModified: "Mon, 30 Nov 2026 19:20:41 GMT", bodySHA256: "ab")
            onlyModified.resources[1].tag?.id = nil
            onlyModified.resources[1].tag?.container = nil
            for value in [Self.report(source), bare, onlyModified] {
                let ours = StoredReportWriter.encode(value)
                let theirs = try JSONEncoder().encode(value)
                let foundation = try JSONDecoder().decode(PageReport.self, from: Data(ours.utf8))
                let read = try StoredReportReader.decode(Array(ours.utf8))
                let expected = try Self.canonical(try JSONDecoder().decode(PageReport.self, from: theirs))
                #expect(try Self.canonical(foundation) == expected)
                #expect(try Self.canonical(read) == expected)
                #expect(try Self.canonical(value) == expected)
                #expect(ours.contains("\"https://shop.example/a?b=c&d=/e\""), "slashes are not escaped")
            }
        }
    }

    @Test func malformedCopiesAreRefused() throws {
        let json = Array(try JSONEncoder().encode(Self.report(.url("https://shop.example/"))))
        for bad in [Array(json.dropLast()), Array(json) + Array(" x".utf8), Array(String(decoding: json, as: UTF8.self)
                        .replacingOccurrences(of: "\"host\"", with: "\"hostname\"").utf8),
                    Array(#"{"target":{"source":{"url":{"_0":"u"}},"labels":[]},"url":"\ud83d","warnings":[],"resources":[],"scripts":[],"securityHeaders":{}}"#.utf8),
                    []] {
            #expect(throws: StoredReportReader.Malformed.self) { try StoredReportReader.decode(bad) }
            #expect(throws: (any Error).self) { try JSONDecoder().decode(PageReport.self, from: Data(bad)) }
        }
    }

    @Test func scriptAnalysesReadBackWhole() throws {
        var a = ScriptAnalysis()
        a.found = [ExtractedResource(url: "https://static.hotjar.com/c/hotjar-1.js", kind: .script, integrity: "sha384-x", inlineIndex: -1,
                                     via: "https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234",
                                     tag: TagRef(type: "__hjtc", id: "12", consent: ["analytics_storage", "ad_storage"], container: "GTM-ABC1234"),
                                     vendorID: "hotjar", tagIDs: ["1", "2"]),
                   ExtractedResource(url: "https://e.example/ü 😀", kind: .img)]
        a.follow = ["https://cdn.segment.com/v1/projects/K/settings"]
        a.warnings = ["tag types nothing maps: __cvt_1"]
        a.kind = "GTM-ABC1234 version 7"
        a.size = 123_456_789
        a.digest = ScriptDigest(of: Array("body".utf8))
        a.containerVersion = a.kind
        a.containerTags = ["__hjtc #12", "__qpx #21"]
        let bytes = a.encoded(hashOnly: false)
        let back = try #require(ScriptAnalysis(encoded: bytes, hashOnly: false))
        #expect(back.found == a.found && back.follow == a.follow && back.warnings == a.warnings && back.kind == a.kind)
        #expect(back.size == a.size && back.digest == a.digest && back.containerVersion == a.containerVersion && back.containerTags == a.containerTags)
        #expect(back.error == nil)
        // Stored for the other use (a stylesheet hashed for its pin), cut short, or longer: not used.
        #expect(ScriptAnalysis(encoded: bytes, hashOnly: true) == nil)
        for n in [0, 1, bytes.count / 2, bytes.count - 1] { #expect(ScriptAnalysis(encoded: Array(bytes.prefix(n)), hashOnly: false) == nil) }
        #expect(ScriptAnalysis(encoded: bytes + [0], hashOnly: false) == nil)
        var empty = ScriptAnalysis()
        empty.size = 0
        #expect(ScriptAnalysis(encoded: empty.encoded(hashOnly: true), hashOnly: true)?.found.isEmpty == true)
        // Negative and large numbers survive the varints.
        var w = ByteWriter()
        for v in [0, -1, 1, Int.min, Int.max, 300, -300] { w.int(v) }
        var r = ByteReader(w.bytes)
        for v in [0, -1, 1, Int.min, Int.max, 300, -300] { #expect(try r.int() == v) }
        #expect(r.atEnd)
    }
}

/// A script an ordinary page and a payment page both load, in one cycle: the ordinary page asks
/// conditionally and gets a 304; the payment page does not take that answer but fetches the
/// script whole (here its bytes changed in between, so the whole fetch is what sees them).
@Suite(.serialized) struct ConditionalScriptTests {
    @Test func aPaymentPageFetchesWholeWhatAnotherPageGotA304For() throws {
        _ = confineNetworkToLoopback
        let site = try TempDir("tw-shared-script")
        let server = try TestServer(root: site.path)
        defer { server.stop() }
        try "/* shared v1 */ window.s = 1;\n".write(toFile: site.path + "/shared.js", atomically: true, encoding: .utf8)
        let url = server.url("/shared.js")
        let catalog = Catalog()
        let detector = Detector(catalog: catalog, firstPartyDomains: ["127.0.0.1"])
        func follow(_ f: ScriptFollower, whole: Bool) -> ScriptRecord? {
            var job = ScanJob(target: Target(source: .url(server.url("/p.html"))), url: server.url("/p.html"), path: nil)
            job.fetchScriptsWhole = whole
            var report = PageReport(target: job.target, url: job.url, status: 200, error: nil, warnings: [],
                                    resources: [Resource(url: url, host: "127.0.0.1", kind: .script, party: .first, vendor: nil)])
            f.follow(&report, job: job)
            return report.scripts.first { $0.url == url }
        }
        // An earlier cycle stored the script.
        let first = ScriptFollower(catalog: catalog, detector: detector, fetchOptions: FetchOptions(), options: FollowOptions(),
                                   storedScript: { _ in nil })
        let v1 = try #require(follow(first, whole: false)?.digest)
        let stored = try #require(first.cacheUpdates().first { $0.url == url }?.stored)
        #expect(stored.etag != nil && stored.bodySHA256 == v1.sha256)

        let cycle = ScriptFollower(catalog: catalog, detector: detector, fetchOptions: FetchOptions(), options: FollowOptions(),
                                   storedScript: { $0 == url ? stored : nil })
        #expect(follow(cycle, whole: false)?.digest == v1)
        #expect(cycle.reusedOnNotModified == 1, "the ordinary page asked conditionally and got a 304")
        try "/* shared v2 */ window.s = 2;\n".write(toFile: site.path + "/shared.js", atomically: true, encoding: .utf8)
        let v2 = try #require(follow(cycle, whole: true)?.digest)
        #expect(v2 != v1, "the payment page fetched the script whole")
        #expect(v2 == ScriptDigest(of: Array("/* shared v2 */ window.s = 2;\n".utf8)))
        #expect(cycle.cacheUpdates().first { $0.url == url }?.stored.bodySHA256 == v2.sha256, "and its new bytes are stored")
        // Once read whole, the cycle's copy serves the next ordinary page as is.
        #expect(follow(cycle, whole: false)?.digest == v2)
        #expect(cycle.reusedOnNotModified == 1)
    }
}
