import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// Real saved pages: every third-party `<script src>` and `<iframe src>` host that an independent,
/// simple extraction finds must be reported as a third-party resource.
@Suite struct CorpusTests {
    static let corpus = Repo.fixtures + "/corpus"

    static func pages() throws -> [(file: String, url: String)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: corpus + "/urls.json"))
        let map = try JSONSerialization.jsonObject(with: data) as! [String: String]
        return map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// A deliberately different extraction: a regular expression over the raw text, no HTML parser.
    /// HTML comments are cut first: commented-out tags and IE-only conditional comments load nothing
    /// in a current browser.
    static func independentHosts(_ raw: String, pageURL: URL) -> Set<String> {
        let comments = try! NSRegularExpression(pattern: "<!--.*?-->", options: [.dotMatchesLineSeparators])
        let html = comments.stringByReplacingMatches(in: raw, range: NSRange(location: 0, length: (raw as NSString).length), withTemplate: "")
        let regex = try! NSRegularExpression(pattern: #"<(script|iframe)\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#,
                                             options: [.caseInsensitive])
        var hosts = Set<String>()
        let ns = html as NSString
        for m in regex.matches(in: html, range: NSRange(location: 0, length: ns.length)) {
            var src = ""
            for g in 2...4 where m.range(at: g).location != NSNotFound { src = ns.substring(with: m.range(at: g)) }
            src = src.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "&amp;", with: "&")
            guard let u = URL(string: src, relativeTo: pageURL)?.absoluteURL,
                  let scheme = u.scheme, scheme == "http" || scheme == "https", let h = u.host else { continue }
            hosts.insert(h.lowercased())
        }
        return hosts
    }

    @Test func everyThirdPartyScriptAndIframeHostIsReported() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let detector = Detector(catalog: catalog)
        let extractor = Extractor()
        let psl = PublicSuffixList.shared
        let pages = try Self.pages()
        #expect(pages.count == 130)
        var checked = 0
        for (file, url) in pages {
            let body = try FileSource.read(Self.corpus + "/pages/" + file, maxBytes: 50_000_000)
            let html = String(decoding: body, as: UTF8.self)
            let pageURL = try #require(URL(string: url))
            let pageDomain = psl.registrableDomain(pageURL.host!.lowercased())
            let expected = Self.independentHosts(html, pageURL: pageURL).filter { psl.registrableDomain($0) != pageDomain }
            let resources = detector.detect(extractor.extract(body: body, pageURL: url), pageURL: url)
            // A tag written by inline code (document.write) is reported as an inline-script resource.
            let reported = Set(resources.filter { $0.party == .third }.map(\.host))
            let missing = expected.subtracting(reported)
            #expect(missing.isEmpty, "\(file) (\(url)): third-party hosts not reported: \(missing.sorted())")
            checked += expected.count
        }
        #expect(checked > 500)
    }

    /// The share of distinct third-party script hosts per page that the catalog attributes to a vendor.
    /// The README states the figure; this keeps it from sliding back.
    @Test func catalogCoverageOfCorpusScriptHosts() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let detector = Detector(catalog: catalog)
        let extractor = Extractor()
        var total = 0, attributed = 0
        for (file, url) in try Self.pages() {
            let body = try FileSource.read(Self.corpus + "/pages/" + file, maxBytes: 50_000_000)
            let resources = detector.detect(extractor.extract(body: body, pageURL: url), pageURL: url)
            var hosts: [String: Bool] = [:]
            for r in resources where r.party == .third && r.kind == .script {
                hosts[r.host] = (hosts[r.host] ?? false) || r.vendor != nil
            }
            total += hosts.count
            attributed += hosts.values.filter { $0 }.count
        }
        let share = Double(attributed) / Double(total)
        print("catalog coverage of corpus third-party script hosts: \(attributed)/\(total) = \(String(format: "%.1f", share * 100))%")
        #expect(share >= 0.80)
    }

    @Test func theMostCommonVendorsGetTheRightCompany() throws {
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        let expectations: [(String, String, String)] = [
            ("www.googletagmanager.com", "/gtm.js", "Google"),
            ("pagead2.googlesyndication.com", "/pagead/js/adsbygoogle.js", "Google"),
            ("securepubads.g.doubleclick.net", "/tag/js/gpt.js", "Google"),
            ("platform.twitter.com", "/widgets.js", "X Corp."),
            ("stats.wp.com", "/e-201947.js", "Automattic"),
            ("widgets.outbrain.com", "/outbrain.js", "Teads"),
            ("static.chartbeat.com", "/js/chartbeat.js", "Chartbeat"),
            ("assets.adobedtm.com", "/launch-x.min.js", "Adobe"),
            ("z.moatads.com", "/x/moatad.js", "Oracle"),
            ("cdn.blueconic.net", "/x.js", "BlueConic"),
        ]
        for (host, path, company) in expectations {
            let m = try #require(catalog.match(host: host, path: path), "\(host) not attributed")
            #expect(catalog.vendors[m.vendorIndex].company == company, "\(host)\(path)")
        }
    }
}
