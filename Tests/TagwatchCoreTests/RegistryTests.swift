import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

@Suite struct RegistryTests {
    static let catalog = try! CatalogLoader.load(directory: Repo.rules + "/vendors")

    func registry(_ yaml: String) throws -> Registry {
        let dir = try temporaryDirectory()
        try yaml.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        return try RegistryLoader.load(file: dir + "/approved.yaml", catalog: Self.catalog)
    }

    func error(_ yaml: String) throws -> SourceError {
        do {
            _ = try registry(yaml)
        } catch let e as SourceError {
            return e
        }
        throw TestFailure("expected an error")
    }

    @Test func globsAndLabels() throws {
        let s = try Scope("*/checkout*")
        #expect(s.matches(url: "https://shop.example/checkout/", labels: []))
        #expect(s.matches(url: "https://shop.example/en/checkout", labels: []))
        #expect(!s.matches(url: "https://shop.example/cart", labels: []))
        let host = try Scope("https://www.example.com/*")
        #expect(host.matches(url: "https://www.example.com/a/b", labels: []))
        #expect(!host.matches(url: "https://shop.example.com/a", labels: []))
        let q = try Scope("https://www.example.com/p?.html")
        #expect(q.matches(url: "https://www.example.com/p1.html", labels: []))
        let label = try Scope("label:payment")
        #expect(label.matches(url: "https://x/", labels: ["payment"]))
        #expect(!label.matches(url: "https://x/", labels: []))
    }

    @Test func rejectsEachClassOfBadEntryWithItsLine() throws {
        let unknownField = try error("vendors:\n  hotjar:\n    status: approved\n    ower: me\n")
        #expect(unknownField.line == 4 && unknownField.message.contains("unknown field 'ower'"))
        let unknownVendor = try error("vendors:\n  hotjr:\n    status: approved\n")
        #expect(unknownVendor.line == 2 && unknownVendor.message.contains("catalog lacks") && unknownVendor.message.contains("'hotjar'"))
        let badGlob = try error("vendors:\n  hotjar:\n    status: approved\n    on: [\"https://x/[ab]\"]\n")
        #expect(badGlob.line == 4 && badGlob.message.contains("bad glob"))
        let badDate = try error("vendors:\n  hotjar:\n    status: approved\n    expires: 2027-02-30\n")
        #expect(badDate.line == 4 && badDate.message.contains("bad date"))
        let badStatus = try error("categories:\n  fonts: maybe\n")
        #expect(badStatus.line == 2 && badStatus.message.contains("approved, required or denied"))
    }

    func page(_ url: String, _ resources: [(String, String?)]) -> PageReport {
        let rs = resources.map { (u, vendorID) -> Resource in
            let v = vendorID.flatMap { Self.catalog.vendor(id: $0)?.ref }
            return Resource(url: u, host: URLResolver.host(of: u)!, kind: .script, party: .third, vendor: v)
        }
        return PageReport(target: Target(source: .url(url)), url: url, status: 200, error: nil, resources: rs)
    }

    @Test func findingsForEachKind() throws {
        let r = try registry("""
            vendors:
              hotjar: {status: approved, not_on: ["label:payment"]}
              google-tag-manager: {status: approved, expires: 2020-01-01}
              meta-pixel: {status: denied}
              stripe-js: {status: required, on: ["*/checkout*"]}
            categories:
              fonts: approved
            """)
        let policy = Policy(registry: r, catalog: Self.catalog)
        let p = page("https://shop.example/checkout/", [
            ("https://static.hotjar.com/c/hotjar-1.js", "hotjar"),
            ("https://www.googletagmanager.com/gtm.js?id=GTM-X", "google-tag-manager"),
            ("https://connect.facebook.net/en_US/fbevents.js", "meta-pixel"),
            ("https://fonts.googleapis.com/css", "google-fonts"),
            ("https://static.chartbeat.com/js/chartbeat.js", "chartbeat"),
            ("https://cdn.nobody.test/x.js", nil),
            ("http://insecure.nobody.test/y.js", nil),
        ])
        let f = policy.evaluate(p, labels: ["payment"], today: "2026-11-25")
        let kinds = f.map { "\($0.kind.rawValue) \($0.subject)" }
        #expect(kinds.contains("out-of-scope hotjar"))
        #expect(kinds.contains("approval-expired google-tag-manager"))
        #expect(kinds.contains("denied-vendor meta-pixel"))
        #expect(kinds.contains("unapproved-vendor chartbeat"))
        #expect(kinds.contains("unknown-third-party cdn.nobody.test"))
        #expect(kinds.contains("insecure-resource http://insecure.nobody.test/y.js"))
        #expect(kinds.contains("required-vendor-missing stripe-js"))
        #expect(!kinds.contains { $0.hasSuffix("google-fonts") })
        // Off the payment label and the checkout path, hotjar is fine and stripe is not required.
        let home = page("https://shop.example/", [("https://static.hotjar.com/c/hotjar-1.js", "hotjar")])
        #expect(policy.evaluate(home, labels: [], today: "2026-11-25").isEmpty)
    }

    @Test func theExampleRegistryAndTheBundledRulesCheckClean() throws {
        #expect(Rules.check(directory: Repo.rules).errors.isEmpty)
    }
}
