import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// One case of the web-platform-tests URL data.
private struct URLCase {
    var input: String
    var base: String?
    var href: String?
    var proto: String?
    var hostname: String?
    var pathname: String?

    static func load() throws -> [URLCase] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/url-tests/urltestdata.json"))
        let list = try JSONSerialization.jsonObject(with: data) as! [Any]
        return list.compactMap { item in
            guard let d = item as? [String: Any], let input = d["input"] as? String else { return nil }
            let failure = d["failure"] as? Bool ?? false
            return URLCase(input: input, base: d["base"] as? String, href: failure ? nil : (d["href"] as? String),
                           proto: d["protocol"] as? String, hostname: d["hostname"] as? String,
                           pathname: d["pathname"] as? String)
        }
    }
}

private let unicode15_1Changes: Set<UInt32> = [0x180E, 0x206B, 0x04C0, 0x2F868, 0x2183, 0x1E9E]

private let ourProtocols: Set<String> = ["http:", "https:", "ws:", "wss:", "ftp:"]

@Suite struct WebURLTests {
    /// Every case of urltestdata.json: where a browser gets an http(s)/ws(s)/ftp URL we must get
    /// the same href; where it fails or gets another scheme we must give nil.
    @Test func webPlatformTestsURLData() throws {
        let cases = try URLCase.load()
        #expect(cases.count > 800)
        var checked = 0, ours = 0
        var failures: [String] = []
        for c in cases {
            let base: WebURL?
            if let b = c.base {
                base = WebURL(b)
                // A base in a scheme we do not parse (file:, about:, data:, made-up ones) can only
                // give results in that scheme for relative input; absolute input is still ours.
            } else {
                base = nil
            }
            let got = WebURL.parse(c.input, base: base)
            let expected: String? = (c.href != nil && ourProtocols.contains(c.proto ?? "")) ? c.href : nil
            if expected != nil { ours += 1 }
            checked += 1
            if got?.href != expected {
                failures.append("input \(c.input.debugDescription) base \(c.base.debugDescription): expected \(expected.debugDescription), got \(got?.href.debugDescription ?? "nil")")
            }
        }
        #expect(ours > 250)
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) of \(checked) cases differ:\n" + failures.joined(separator: "\n")))
    }

    /// toascii.json: host to-ASCII conversion, through an http URL as the data's notes say.
    @Test func webPlatformTestsToASCII() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repo.fixtures + "/url-tests/toascii.json"))
        let list = try JSONSerialization.jsonObject(with: data) as! [Any]
        var failures: [String] = []
        var checked = 0
        for item in list {
            guard let d = item as? [String: Any], let input = d["input"] as? String else { continue }
            let output = d["output"] as? String
            // Out of scope: code points whose UTS #46 mapping changed in Unicode 15.1/16, newer
            // than the system ICU 72 (Unicode 15.0) we convert with. README.md, "URLs".
            if input.unicodeScalars.contains(where: { unicode15_1Changes.contains($0.value) }) { continue }
            checked += 1
            let got = WebURL("https://" + input + "/x")
            if got?.host != output {
                failures.append("\(input.debugDescription): expected \(output.debugDescription), got \(got?.host.debugDescription ?? "nil")")
            }
        }
        #expect(checked > 50)
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) of \(checked) differ:\n" + failures.joined(separator: "\n")))
    }

    /// The spellings of the issue: each loads from ad.doubleclick.net in a browser.
    @Test func evasiveSpellingsResolveToTheHostABrowserLoads() {
        let page = "https://www.shop.test/a/page.html"
        for ref in ["https://ad.doubleclick.net./x.js", "https://ad.doubleclick%2Enet/x.js", "https:\\\\ad.doubleclick.net/x.js",
                    "http:ad.doubleclick.net/x.js", "HTTPS://AD.DOUBLECLICK.NET/x.js", "https://ad.double\u{AD}click.net/x.js",
                    "https://ａｄ．ｄｏｕｂｌｅｃｌｉｃｋ．ｎｅｔ/x.js", "https://ad。doubleclick。net/x.js", " \t//ad.doubleclick.net/x.js\n",
                    "/\\ad.doubleclick.net/x.js", "\\\\ad.doubleclick.net/x.js", "https://u:p@ad.doubleclick.net:443/x.js",
                    "ht\ttps://ad.double\nclick.net/x.js", "https://ad.doubleclick.net.:443/x.js", "https://%61d.doubleclick.net/x.js"] {
            let resolved = URLResolver.resolve(ref, against: page)
            #expect(resolved.flatMap { URLResolver.hostAndPath($0)?.host } == "ad.doubleclick.net", "\(ref.debugDescription) -> \(resolved ?? "nil")")
        }
        // Same scheme as the page: `https:x` is relative to it.
        #expect(URLResolver.resolve("https:ad.doubleclick.net/x.js", against: page) == "https://www.shop.test/a/ad.doubleclick.net/x.js")
    }

    @Test func ipv4AndIPv6HostsAreCanonical() {
        #expect(URLResolver.hostAndPath("http://0x7f.1/")?.host == "127.0.0.1")
        #expect(URLResolver.hostAndPath("http://2130706433/")?.host == "127.0.0.1")
        #expect(URLResolver.hostAndPath("http://0177.0.0.01/")?.host == "127.0.0.1")
        #expect(URLResolver.hostAndPath("http://[0:0::1]:8080/p")?.host == "::1")
        #expect(URLResolver.hostAndPath("http://[::ffff:127.0.0.1]/")?.host == "::ffff:7f00:1")
        #expect(URLResolver.hostAndPath("http://1.2.3.4.5/") == nil)
    }

    @Test func otherSchemesAndBrokenHostsGiveNil() {
        for ref in ["javascript:alert(1)", "data:text/javascript,1", "mailto:a@b.test", "file:///etc/passwd", "#top", "  #x",
                    "blob:https://a.test/1", "https://", "https://a b.test/", "https://[::1/", "http://a%00b.test/", "about:blank",
                    "https://x:99999/", "https://%ZZ.test/"] {
            #expect(URLResolver.resolve(ref, against: "https://www.shop.test/") == nil, "\(ref.debugDescription)")
        }
    }

    /// Paths: dot segments, percent-encoding, backslashes, as a browser writes them.
    @Test func pathsAreNormalised() {
        let base = WebURL("https://a.test/x/y/z.html?q")!
        #expect(base.resolve("../b/./c.js")?.href == "https://a.test/x/b/c.js")
        #expect(base.resolve("%2e%2E/c.js")?.href == "https://a.test/x/c.js")
        #expect(base.resolve("a\\b c.js?x y#f g")?.href == "https://a.test/x/y/a/b%20c.js?x%20y#f%20g")
        #expect(base.resolve("?only")?.href == "https://a.test/x/y/z.html?only")
        #expect(base.resolve("")?.href == "https://a.test/x/y/z.html?q")
        #expect(base.resolve("//B.test")?.path == "/")
    }
}
