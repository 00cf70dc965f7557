import Foundation
import Testing
import TagwatchTestSupport

/// The HTML report in a real browser: Debian's chromium, headless, renders what the built
/// binary wrote after a real cycle; the dumped DOM must hold the state's vendors, a page URL
/// carrying `<script>` must show as text, and the page's own strict CSP must allow its style.
@Suite(.serialized) struct ReportTests {
    static let chromium = "/usr/bin/chromium"

    /// Runs chromium headless with `arguments` on `url`; a hang becomes a failure after 120 s.
    func browser(_ arguments: [String], url: String, profile: String) throws -> (stdout: String, stderr: String, status: Int32) {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "scripts/install-deps installs chromium")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium)
        p.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                       "--enable-logging=stderr", "--v=0", "--user-data-dir=\(profile)"] + arguments + [url]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        nonisolated(unsafe) var errData = Data()
        let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let watchdog = DispatchWorkItem { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        while !errThread.isFinished { usleep(1000) }
        return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self), p.terminationStatus)
    }

    @Test func chromiumRendersTheReportWithTheStatesVendorsAndEscapedPageURLs() throws {
        let dir = try temporaryDirectory("tw-report")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        for page in ["index.html", "product.html", "checkout/index.html"] {
            let target = site + "/" + page
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Repo.path("examples/site/" + page), toPath: target)
        }
        // The GTM container the pages load, as the demo keeps it beside them (read offline).
        try FileManager.default.copyItem(atPath: Repo.path("examples/site/www.googletagmanager.com"),
                                         toPath: site + "/www.googletagmanager.com")
        // A page whose URL carries markup: the report must show it, not run it.
        let hostile = "<script>document.title='pwned'<:script><b>bold<:b>.html"
        try FileManager.default.copyItem(atPath: Repo.path("examples/site/index.html"), toPath: site + "/" + hostile)
        try """
            targets:
              - file: site
                base_url: https://shop.acme-outfitters.example/
              - file: site/checkout/index.html
                base_url: https://shop.acme-outfitters.example/checkout/
                labels: [payment]
            first_party: [acme-outfitters.example]
            rules: \(Repo.rules)
            registry: \(Repo.path("rules/approved.example.yaml"))
            state: state.sqlite
            alerts:
              feed: feed.json
              feed_title: "Tags on <our> shop"
              report: report.html
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let run = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let byCommand = try runTagwatch(["report", "--config", dir + "/tagwatch.yaml", "--out", dir + "/by-command.html"])
        #expect(byCommand.status == 0, "\(byCommand.stderr)")

        // The vendors the state holds, read through the binary.
        let inv = try runTagwatch(["inventory", "--by", "vendor", "--format", "json", "--config", dir + "/tagwatch.yaml"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inv.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["vendors"] as? [[String: Any]])
        let names = rows.compactMap { ($0["vendor"] as? [String: Any])?["name"] as? String }
        #expect(names.count >= 8, "\(names)")
        #expect(names.contains("Hotjar"))
        // How each got there: TikTok only through the GTM container; Hotjar also in a page's own HTML.
        let gtm = "https://www.googletagmanager.com/gtm.js?id=GTM-ACME123"
        let tiktok = try #require(rows.first { ($0["vendor"] as? [String: Any])?["id"] as? String == "tiktok-pixel" })
        #expect(tiktok["via"] as? [String] == [gtm] && tiktok["in_page_html"] as? Bool == false, "\(tiktok)")
        let hotjar = try #require(rows.first { ($0["vendor"] as? [String: Any])?["id"] as? String == "hotjar" })
        #expect(hotjar["in_page_html"] as? Bool == true)

        for file in ["report.html", "by-command.html"] {
            let path = dir + "/" + file
            let html = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!html.contains("<script"), "no script element, and nothing from a page written as markup")
            #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url("), "no external asset")
            let perms = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(perms == 0o640, "readable by the owner's group, as the README says")
        }

        let profile = dir + "/chromium-profile"
        let dom = try browser(["--dump-dom"], url: "file://" + dir + "/report.html", profile: profile)
        #expect(dom.status == 0, "\(dom.stderr.suffix(2000))")
        for name in names { #expect(dom.stdout.contains(HTMLText.escape(name)), "vendor \(name) is in the rendered report") }
        let hostileURL = "https://shop.acme-outfitters.example/" + hostile
        #expect(dom.stdout.contains(HTMLText.escape(hostileURL)), "the hostile page URL shows as text")
        #expect(!dom.stdout.contains("<script"), "the browser built no script element from it")
        #expect(!dom.stdout.contains("<b>bold"), "nor a <b> element")
        #expect(dom.stdout.contains("<title>Tags on &lt;our&gt; shop"), "the title is escaped too, and not 'pwned'")
        #expect(dom.stdout.contains("<svg"), "the history chart is inline SVG")
        #expect(dom.stdout.contains(HTMLText.escape(gtm)), "the via column names the container")
        #expect(!dom.stderr.contains("Content Security Policy"), "the report's own strict CSP allows its stylesheet: \(dom.stderr.suffix(2000))")

        let png = dir + "/report.png"
        let shot = try browser(["--window-size=1280,2000", "--screenshot=\(png)"], url: "file://" + dir + "/report.html", profile: profile)
        #expect(shot.status == 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        try #require(bytes.count > 24)
        #expect(Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280)
    }
}

/// The escaping chromium's DOM serializer applies to text: what the report's text must read as.
enum HTMLText {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\u{A0}", with: "&nbsp;")
    }
}
