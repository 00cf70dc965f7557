import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

@Suite struct CatalogTests {
    func catalog(_ yaml: String) throws -> Catalog {
        let dir = try temporaryDirectory()
        try yaml.write(toFile: dir + "/v.yaml", atomically: true, encoding: .utf8)
        return try CatalogLoader.load(directory: dir)
    }

    func loadError(_ yaml: String) throws -> SourceError? {
        do {
            _ = try catalog(yaml)
            return nil
        } catch let e as SourceError {
            return e
        }
    }

    static let sample = """
        vendors:
          - id: google-ads
            name: Google Ads
            company: Google
            category: advertising
            hosts: [googleadservices.com]
            patterns: ["www.google.com/pagead/"]
          - id: google-recaptcha
            name: reCAPTCHA
            company: Google
            category: security
            patterns: ["www.google.com/recaptcha/"]
          - id: doubleclick
            name: Google Marketing Platform
            company: Google
            category: advertising
            hosts: [doubleclick.net]
          - id: google-ad-manager
            name: Google Ad Manager
            company: Google
            category: advertising
            hosts: [securepubads.g.doubleclick.net]
            tag_ids: ['/(\\d{4,12})/']
        """

    @Test func longestHostSuffixWins() throws {
        let c = try catalog(Self.sample)
        #expect(c.match(host: "securepubads.g.doubleclick.net").map { c.vendors[$0.vendorIndex].id } == "google-ad-manager")
        #expect(c.match(host: "ad.doubleclick.net").map { c.vendors[$0.vendorIndex].id } == "doubleclick")
        #expect(c.match(host: "doubleclick.net.evil.test") == nil)
        #expect(c.match(host: "notdoubleclick.net") == nil)
    }

    @Test func pathPatternsSplitASharedHost() throws {
        let c = try catalog(Self.sample)
        #expect(c.match(host: "www.google.com", path: "/recaptcha/api.js").map { c.vendors[$0.vendorIndex].id } == "google-recaptcha")
        #expect(c.match(host: "www.google.com", path: "/pagead/1p-conversion").map { c.vendors[$0.vendorIndex].id } == "google-ads")
        #expect(c.match(host: "www.google.com", path: "/maps/embed") == nil)
    }

    @Test func tagIDsUseTheFirstGroup() throws {
        let c = try catalog(Self.sample)
        let i = try #require(c.match(host: "securepubads.g.doubleclick.net")).vendorIndex
        #expect(c.tagIDs(vendor: i, in: "googletag.defineSlot('/1234567/top', [728, 90])") == ["1234567"])
    }

    @Test func aHostClaimedTwiceIsRejectedWithItsLine() throws {
        let e = try #require(try loadError("""
            vendors:
              - id: a-vendor
                name: A
                company: A Inc
                category: analytics
                hosts: [shared.test]
              - id: b-vendor
                name: B
                company: B Inc
                category: analytics
                hosts: [shared.test]
            """))
        #expect(e.line == 7)
        #expect(e.message.contains("already claimed by 'a-vendor'"))
    }

    @Test func unknownFieldsAreErrorsWithLineAndHint() throws {
        let e = try #require(try loadError("""
            vendors:
              - id: a-vendor
                name: A
                compnay: A Inc
                category: analytics
                hosts: [a.test]
            """))
        #expect(e.line == 4)
        #expect(e.message.contains("unknown field 'compnay'"))
        #expect(e.message.contains("did you mean 'company'"))
    }

    @Test func badCategoryAndIdAreRejected() throws {
        let e1 = try #require(try loadError("vendors:\n  - {id: x, name: X, company: X, category: spying, hosts: [x.test]}\n"))
        #expect(e1.message.contains("unknown category 'spying'"))
        let e2 = try #require(try loadError("vendors:\n  - {id: Bad_Id, name: X, company: X, category: cdn, hosts: [x.test]}\n"))
        #expect(e2.message.contains("lowercase words joined by hyphens"))
    }

    @Test func invalidYAMLNamesTheLine() throws {
        let e = try #require(try loadError("vendors:\n  - id: x\n   name: [unclosed\n"))
        #expect(e.line != nil)
        #expect(e.description.contains("v.yaml:"))
    }

    @Test func theBundledCatalogLoads() throws {
        let c = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        #expect(c.count >= 80)
        let gtm = try #require(c.match(host: "www.googletagmanager.com", path: "/gtm.js"))
        #expect(c.vendors[gtm.vendorIndex].company == "Google")
        let hotjar = try #require(c.match(host: "static.hotjar.com", path: "/c/hotjar-1.js"))
        #expect(c.vendors[hotjar.vendorIndex].company == "Contentsquare")
        let fb = try #require(c.match(host: "connect.facebook.net", path: "/en_US/fbevents.js"))
        #expect(c.vendors[fb.vendorIndex].company == "Meta")
    }
}

@Suite struct DetectorTests {
    @Test func byteSearchFindsTheNeedleAnywhere() {
        for (text, found) in [("gtag(", true), ("xgtag(", true), ("ggtag(", true), ("gtagtag(", true), ("gta g(", false), ("gtag", false),
                              ("", false), ("a gtag (", false), ("é gtag('config')", true), ("gtag(gtag(", true)] {
            #expect(Detector.contains(text, "gtag(") == found, "\(text)")
            #expect(text.containsBytes("gtag(") == found, "\(text)")
        }
    }

    @Test func registrableDomainsComeFromThePublicSuffixList() {
        let psl = PublicSuffixList.shared
        #expect(psl.registrableDomain("www.example.co.uk") == "example.co.uk")
        #expect(psl.registrableDomain("a.b.example.com") == "example.com")
        #expect(psl.registrableDomain("user.github.io") == "user.github.io")
        #expect(psl.registrableDomain("127.0.0.1") == "127.0.0.1")
    }

    @Test func partyAndVendor() throws {
        var catalog = Catalog()
        try catalog.add(Vendor(id: "hotjar", name: "Hotjar", company: "Contentsquare", category: "session-replay",
                               website: nil, hosts: ["hotjar.com"], patterns: [], signatures: ["_hjSettings"],
                               tagIDPatterns: ["hjid:(\\d+)"], file: "t", line: 1))
        let detector = Detector(catalog: catalog, firstPartyDomains: ["shopcdn.test"])
        let extraction = Extraction(resources: [
            ExtractedResource(url: "https://static.shop.example/app.js", kind: .script),
            ExtractedResource(url: "https://img.shopcdn.test/a.png", kind: .img),
            ExtractedResource(url: "https://static.hotjar.com/c/hotjar-1.js", kind: .script),
            ExtractedResource(url: "https://static.hotjar.com/c/hotjar-1.js", kind: .script),
            ExtractedResource(url: "https://unknown.test/x.js", kind: .script),
        ], inlineScripts: ["h._hjSettings={hjid:77,hjsv:6};"], baseURL: "https://www.shop.example/")
        let r = detector.detect(extraction, pageURL: "https://www.shop.example/")
        #expect(r.map(\.party) == [.first, .first, .third, .third, .third])
        #expect(r[2].vendor?.id == "hotjar")
        #expect(r[3].vendor == nil)
        #expect(r[4].kind == .inlineScript && r[4].vendor?.id == "hotjar" && r[4].tagIDs == ["77"])
    }
}

@Suite struct RequiredLiteralTests {
    /// The literal is read off the pattern's start, and stops where a character may be optional,
    /// repeated, or one of several.
    @Test func literalsStopWhereAMatchMayDiffer() {
        #expect(RequiredLiteral.of(#"\bAW-(\d{6,12})\b"#) == "AW-")
        #expect(RequiredLiteral.of(#"fbq\(\s*['"]init"#) == "fbq(")
        #expect(RequiredLiteral.of(#"cdn\.optimizely\.com/js/(\d{6,14})\.js"#) == "cdn.optimizely.com/js/")
        #expect(RequiredLiteral.of(#"\b(OPT-[A-Z0-9]{5,10})\b"#) == "OPT-")
        #expect(RequiredLiteral.of("(ab)cd") == "abcd")
        #expect(RequiredLiteral.of("abc?d") == "ab")
        #expect(RequiredLiteral.of("ab*") == nil)
        #expect(RequiredLiteral.of("(abc)?def") == nil)
        #expect(RequiredLiteral.of("(ab[)]c)?x") == nil, "a parenthesis in a class does not close the group")
        #expect(RequiredLiteral.of("abc|def") == nil)
        #expect(RequiredLiteral.of("(?i)abc") == nil)
        #expect(RequiredLiteral.of(#"(?<![\w-])(pub-\d{16})\b"#) == nil)
        #expect(RequiredLiteral.of(#"\d+abc"#) == nil)
    }

    /// With the bundled catalog, tag ids found with the literal check are the ids the patterns
    /// find when run on every text, on pages and snippets that carry ids and on ones that do not.
    @Test func theLiteralCheckChangesNoTagIDs() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let site = Repo.path("examples/site")
        var texts = try FileManager.default.contentsOfDirectory(atPath: site)
            .filter { $0.hasSuffix(".html") }.map { try String(contentsOfFile: site + "/" + $0, encoding: .utf8) }
        texts += ["gtag('config', 'AW-123456789'); gtag('config', 'DC-1234567');", "fbq('init', '1234567890123');",
                  "https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234", "ca-pub-1234567890123456 OPT-ABCDE12",
                  "_linkedin_partner_id = \"123456\";", "https://cdn.optimizely.com/js/12345678.js", "https://px.ads.linkedin.com/collect/?pid=1234",
                  "twq('init','o1abc'); ttq.load('C1234567890ABCDEFGHI');", ""]
        var withLiteral = 0
        for (index, vendor) in catalog.vendors.enumerated() where !vendor.tagIDPatterns.isEmpty {
            let regexes = try vendor.tagIDPatterns.map { try NSRegularExpression(pattern: $0) }
            withLiteral += vendor.tagIDPatterns.filter { RequiredLiteral.of($0) != nil }.count
            for text in texts {
                var expected: [String] = []
                let ns = text as NSString
                for r in regexes {
                    for m in r.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                        let range = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
                        let id = ns.substring(with: range)
                        if !expected.contains(id) { expected.append(id) }
                    }
                }
                #expect(catalog.tagIDs(vendor: index, in: text) == expected, "\(vendor.id) on \(String(text.prefix(60)).debugDescription)")
            }
        }
        #expect(withLiteral > 50, "most bundled patterns start with a literal")
    }
}

extension CatalogTests {
    /// The byte scan's filters (three-byte and two-byte) find a signature wherever it starts,
    /// including at the last bytes of a script, exactly where `String.contains` does.
    @Test func signaturesAreFoundAtEveryPosition() throws {
        let c = try catalog("""
            vendors:
              - {id: two, name: Two, company: T, category: other, hosts: [two.test], signatures: ["q9"]}
              - {id: three, name: Three, company: T, category: other, hosts: [three.test], signatures: ["zx!"]}
              - {id: long, name: Long, company: T, category: other, hosts: [long.test], signatures: ["_tw.push("]}
            """)
        let signatures = ["q9", "zx!", "_tw.push("]
        struct Seeded: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return state
            }
        }
        var rng = Seeded(state: 12)
        for _ in 0..<300 {
            var text = String((0..<Int.random(in: 0..<12, using: &rng)).map { _ in "abq9zx!_tw.push( ".randomElement(using: &rng)! })
            if Bool.random(using: &rng) { text += signatures.randomElement(using: &rng)! }
            let expected = signatures.indices.filter { text.contains(signatures[$0]) }
            #expect(c.signatureMatches(in: text) == expected, "\(text.debugDescription)")
        }
        #expect(c.signatureMatches(in: "var a=1;zx!") == [1])
        #expect(c.signatureMatches(in: "xq9") == [0])
        #expect(c.signatureMatches(in: "q") == [])
    }

    /// Signatures of four bytes or more are found by their first four bytes (one word): ones
    /// sharing those bytes, one that is a prefix of another, and matches at the very end.
    @Test func wordIndexedSignaturesAreFoundAtEveryPosition() throws {
        let signatures = ["cdn.", "cdn.a.js", "cdn.ab", "zzzz", "zzzzz", "q9", "zx!", "ab.c"]
        let c = try catalog("vendors:\n" + signatures.enumerated().map { i, s in
            "  - {id: v\(i), name: V, company: T, category: other, hosts: [v\(i).test], signatures: [\"\(s)\"]}"
        }.joined(separator: "\n") + "\n")
        struct Seeded: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return state
            }
        }
        var rng = Seeded(state: 7)
        for _ in 0..<2000 {
            var text = String((0..<Int.random(in: 0..<14, using: &rng)).map { _ in "abcdnz.jsq9x!é ".randomElement(using: &rng)! })
            if Bool.random(using: &rng) { text += signatures.randomElement(using: &rng)! }
            let expected = signatures.indices.filter { text.contains(signatures[$0]) }
            #expect(c.signatureMatches(in: text) == expected, "\(text.debugDescription)")
        }
        #expect(c.signatureMatches(in: "xcdn.ab") == [0, 2])
        #expect(c.signatureMatches(in: "zzzzz") == [3, 4])
        #expect(c.signatureMatches(in: "cdn") == [])
    }

    /// Tag ids are remembered per thread by text; two catalogs (or two copies of one that each
    /// added a different vendor at the same index) never read each other's.
    @Test func rememberedTagIDsBelongToTheirCatalog() throws {
        func vendor(_ id: String, _ pattern: String) -> Vendor {
            Vendor(id: id, name: id, company: "T", category: "other", website: nil, hosts: ["\(id).test"], patterns: [],
                   signatures: [], tagIDPatterns: [pattern], file: "t", line: 1)
        }
        let base = Catalog()
        var a = base, b = base
        try a.add(vendor("a", "A-(\\d+)"))
        try b.add(vendor("b", "B-(\\d+)"))
        let text = "x A-1 B-2 A-3"
        for _ in 0..<3 {
            #expect(a.tagIDs(vendor: 0, in: text) == ["1", "3"])
            #expect(b.tagIDs(vendor: 0, in: text) == ["2"])
        }
        var c = a
        try c.add(vendor("c", "C-(\\d+)"))
        #expect(c.tagIDs(vendor: 0, in: text) == ["1", "3"])
        #expect(c.tagIDs(vendor: 1, in: "C-9 " + text) == ["9"])
        #expect(a.tagIDs(vendor: 0, in: "A-4") == ["4"])
    }
}
