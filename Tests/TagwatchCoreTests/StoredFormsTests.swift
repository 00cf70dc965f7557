import Foundation
import Testing
@testable import TagwatchCore

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
