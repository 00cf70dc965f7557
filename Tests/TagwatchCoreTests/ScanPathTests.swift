import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// The scan path's byte-level rewrites give what the String-level code they replaced gave.
@Suite struct ScanPathTests {
    /// The String-based escape JSONValue used before it wrote bytes: the reference.
    static func referenceEscape(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) || u.value == 0x2028 || u.value == 0x2029:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static let tricky: [String] = [
        "", "plain", "q\"uote", "back\\slash", "\n\r\t", "\u{0}\u{1}\u{1F}\u{7F}", "\u{80}\u{85}\u{9F}\u{A0}",
        "a\u{2028}b\u{2029}c\u{2027}\u{202A}", "é日本語🎉", "\u{C2}\u{E2}", "x\u{2028}", "\u{2029}", "ends with \\",
        "https://www.googletagmanager.com/gtag/js?id=G-QY1YKBFLB3", String(repeating: "long ascii run ", count: 40) + "\u{1B}[31m",
        "e\u{301}", "\r\n", "€‚ƒ", "\u{FEFF}bom",
    ]

    @Test func jsonStringsAreEscapedAsBefore() {
        var rng = SystemRandomNumberGenerator()
        var inputs = Self.tricky
        let alphabet: [Unicode.Scalar] = ["a", "\"", "\\", "\n", "\u{0}", "\u{7F}", "\u{80}", "\u{85}", "\u{9F}", "\u{A0}",
                                          "\u{2028}", "\u{2029}", "\u{2030}", "\u{E000}", "\u{1F600}", "é", "\u{C2}", "\u{E2}"]
        for _ in 0..<500 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<24, using: &rng) { s.append(alphabet.randomElement(using: &rng)!) }
            inputs.append(String(s))
        }
        for s in inputs {
            #expect(JSONValue.string(s).serialized() == Self.referenceEscape(s), "\(s.debugDescription)")
        }
        // A bridged (non-native) string takes the copying path.
        let bridged = NSString(string: "nś\u{2028}\u{85}x") as String
        #expect(JSONValue.string(bridged).serialized() == Self.referenceEscape(bridged))
    }

    @Test func prettyAndCompactLayoutAsBefore() {
        let v = JSONValue.object([("a", .array([.int(0), .int(-12), .int(1234567), .null, .bool(true), .bool(false)])),
                                  ("b", .object([])), ("c", .array([])), ("d", .object([("e\n", .string("f"))]))])
        #expect(v.serialized() == "{\"a\":[0,-12,1234567,null,true,false],\"b\":{},\"c\":[],\"d\":{\"e\\n\":\"f\"}}")
        #expect(v.serialized(pretty: true, indent: 1) == """
            {
                "a": [
                  0,
                  -12,
                  1234567,
                  null,
                  true,
                  false
                ],
                "b": {},
                "c": [],
                "d": {
                  "e\\n": "f"
                }
              }
            """)
    }

    /// The Character-based check the byte-based `isDestinationID` replaced.
    static func referenceIsDestinationID(_ s: String) -> Bool {
        guard s.count >= 4, s.count <= 40, let dash = s.firstIndex(of: "-") else { return false }
        let prefix = s[..<dash]
        guard prefix.count >= 1, prefix.count <= 3, prefix.allSatisfy({ $0.isUppercase && $0.isASCII }) else { return false }
        return s[s.index(after: dash)...].allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" }
    }

    @Test func destinationIDsAsBefore() {
        var inputs = ["G-QY1YKBFLB3", "GTM-79OO7ID", "AW-123", "DC-1", "UA-1234-5", "G-", "-ABC", "ABCD-1", "g-abc1",
                      "G-ab_c-d", "G-é12", "É-123", "G-1-\u{301}", "G-123\r\n", "G1234", "AB-", "A-B", String(repeating: "A", count: 3) + "-" + String(repeating: "1", count: 36),
                      "AAA-" + String(repeating: "1", count: 37), "G-1 2", "G-1.2", "GT-ABC"]
        var rng = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["A", "Z", "a", "0", "9", "-", "_", " ", "é", ".", "G", "T", "M"]
        for _ in 0..<2000 {
            inputs.append(String((0..<Int.random(in: 0..<12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
        }
        for s in inputs {
            #expect(ScriptAnalyzer.isDestinationID(s) == Self.referenceIsDestinationID(s), "\(s.debugDescription)")
        }
    }

    /// The String-based meta charset sniff the byte path stands in for on ASCII heads.
    static func referenceMetaCharset(_ body: [UInt8]) -> String? {
        let head = String(decoding: body.prefix(2048), as: UTF8.self).lowercased()
        guard let r = head.range(of: "charset=") else { return nil }
        let rest = head[r.upperBound...].drop { $0 == "\"" || $0 == "'" || $0 == " " }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return name.isEmpty ? nil : String(name)
    }

    @Test func metaCharsetAsBefore() {
        var heads = ["<meta charset=\"UTF-8\">", "<meta http-equiv=content-type content='text/html; CharSet=ISO-8859-1'>",
                     "<meta charset= 'windows-1252'>", "<meta charset=>", "no charset here", "charset", "charset=",
                     "xcharset=shift_jis;", "<meta charset=\"utf-8é\">", "<title>é</title><meta charset=KOI8-R>",
                     "<meta charset=\"\" >", String(repeating: "a", count: 2040) + "charset=utf-8",
                     String(repeating: "a", count: 2045) + "charset=utf-8", "<META CHARSET=EUC_JP>", "charset=\t utf-8"]
        var rng = SystemRandomNumberGenerator()
        let pieces = ["charset=", "CHARSET=", "utf-8", "\"", "'", " ", "-", "_", "x", "é", "9", "=", ";", "C"]
        for _ in 0..<1000 { heads.append((0..<Int.random(in: 0..<8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()) }
        for h in heads {
            let body = Array(h.utf8)
            #expect(Scanner.metaCharset(body) == Self.referenceMetaCharset(body), "\(h.debugDescription)")
        }
    }

    /// The follower skips parsing a URL only where the parse could not make it a script path.
    @Test func scriptPathPrecheckNeverHidesAScript() {
        let urls = ["https://a.test/x.js", "https://a.test/x.mjs", "https://a.test/gtag/js?id=G-1", "https://a.test/x.js/y",
                    "https://a.test/x.j\ns", "https://a.test/x.j\ts", "https://a.test/x.j\r\ns?x", "https://a.test/page.html#inline-script-1",
                    "https://a.test/x.JS", "https://a.test/x%2Ejs", "https://a.test/x.php?f=a.js?", "https://a.test\\gtag\\js",
                    " https://a.test/x.js ", "https://a.test/a/../x.js", "https://a.test/%6As", "https://a.test/x.j%73"]
        for u in urls {
            let parsed = Detector.isScriptPath(URLResolver.hostAndPath(u)?.path ?? "", url: u)
            if parsed { #expect(ScriptFollower.mayBeScriptPath(u), "\(u.debugDescription)") }
        }
        #expect(!ScriptFollower.mayBeScriptPath("https://a.test/pages/0001.html#inline-script-3"))
    }

    /// The scanner's UTF-8 check answers for the extractor too (issue 12): the pages' warnings,
    /// pinned word for word, where the scanner's charset sniff (first `charset=` in 2 KB) and the
    /// extractor's prescan (a `<meta>` in the first 1 KB) agree and where they do not.
    @Test func utf8WarningAndExtractionWithOneCheck() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let scanner = Scanner(detector: Detector(catalog: catalog), fetchOptions: FetchOptions())
        let job = ScanJob(target: Target(source: .url("https://a.test/")), url: "https://a.test/", path: nil)
        let tag = "<script src=\"https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234\"></script>"
        func page(_ head: String, bad: Bool) -> [UInt8] {
            Array("<html><head>\(head)<title>caf".utf8) + (bad ? [0xE9] : [0xC3, 0xA9]) + Array("</title>\(tag)</head><body>x</body></html>".utf8)
        }
        let cases: [(head: String, header: String?, bad: Bool, warning: String?)] = [
            ("<meta charset=\"utf-8\">", nil, true, "body is not valid UTF-8 (first bad byte at offset 44); scanned with the bad bytes replaced"),
            ("", nil, true, "body is not valid UTF-8 (first bad byte at offset 22); scanned with the bad bytes replaced"),
            ("<meta charset=\"UTF8\">", nil, true, "body is not valid UTF-8 (first bad byte at offset 43); scanned with the bad bytes replaced"),
            ("<meta charset=\"utf-8\">", "text/html; charset=windows-1252", true, nil),
            ("<meta charset=\"windows-1252\">", nil, true, nil),
            ("<meta charset=\"utf-8\">", nil, false, nil),
            // The sniffs disagree: the scanner reads the comment, the prescan the <meta>.
            ("<!-- charset=utf-8 --><meta charset=\"windows-1252\">", nil, false, nil),
            ("<!-- charset=utf-8 --><meta charset=\"windows-1252\">", nil, true, "body is not valid UTF-8 (first bad byte at offset 73); scanned with the bad bytes replaced"),
            ("<!-- charset=windows-1252 --><meta charset=\"utf-8\">", nil, true, nil),
            (String(repeating: " ", count: 1100) + "<meta charset=\"windows-1252\">", nil, true, nil),
        ]
        for c in cases {
            let body = page(c.head, bad: c.bad)
            let report = scanner.analyse(job: job, url: job.url, status: 200, body: body, contentType: c.header).finish()
            #expect(report.warnings.filter { $0.hasPrefix("body is not valid UTF-8") } == (c.warning.map { [$0] } ?? []), "\(c.head)")
            #expect(report.resources.contains { $0.url == "https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234" }, "\(c.head)")
            // What the extractor parses is the same whether it checked the bytes or was told.
            let told = HTMLInput(body: body, headerCharset: Scanner.charset(of: c.header), isKnown: Extractor.isKnownCharset,
                                 validUTF8: HTMLInput.isValidUTF8(body))
            let checked = HTMLInput(body: body, headerCharset: Scanner.charset(of: c.header), isKnown: Extractor.isKnownCharset)
            #expect(told.bytes == checked.bytes && told.encoding == checked.encoding && told.notes == checked.notes, "\(c.head)")
        }
    }

    @Test func nulBytesAreFound() {
        #expect(!Scanner.containsNUL([]))
        #expect(!Scanner.containsNUL(Array("<html>".utf8)))
        #expect(Scanner.containsNUL([0]))
        #expect(Scanner.containsNUL(Array(repeating: 0x41, count: 10_000) + [0]))
    }

    /// An easy handle reused for the next transfer carries nothing of the last one: its extra
    /// request headers (a conditional GET's) are not sent again.
    @Test func aReusedTransferSendsOnlyItsOwnHeaders() throws {
        let server = try TestServer(root: Repo.path("examples/site"))
        var options = FetchOptions()
        options.concurrency = 1
        options.timeout = 5
        let url = server.url("/headers")
        var bodies = [String](repeating: "", count: 3)
        // One fetch, one transfer at a time: the second and third take the first's handle.
        Fetcher(options: options).fetch([url, url, url], requestHeaders: [["X-Probe: first"], [], ["X-Other: third"]]) { i, r in
            bodies[i] = String(decoding: r.body, as: UTF8.self)
        }
        #expect(bodies[0].contains("X-Probe: first"))
        #expect(!bodies[1].contains("X-Probe") && !bodies[1].contains("X-Other"))
        #expect(bodies[2].contains("X-Other: third") && !bodies[2].contains("X-Probe"))
        // And across fetches of one session (the follower's).
        let session = try #require(FetchSession())
        var first = "", second = ""
        Fetcher(options: options).fetch([url], requestHeaders: [["If-None-Match: \"abc\""]], session: session) { _, r in
            first = String(decoding: r.body, as: UTF8.self)
        }
        Fetcher(options: options).fetch([url], session: session) { _, r in second = String(decoding: r.body, as: UTF8.self) }
        #expect(first.contains("If-None-Match"))
        #expect(!second.contains("If-None-Match") && second.contains("tagwatch/"))
    }
}
