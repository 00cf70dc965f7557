import Foundation
import Testing
import TagwatchTestSupport

/// A hostile loopback server: each fault ends in a per-target error or a bounded result within
/// the configured limits, memory stays bounded, and the other targets of the same scan finish.
/// The good pages come from a server of their own, so the hostile one's 2 GiB streams cannot
/// slow them down.
@Suite(.serialized) struct FaultTests {
    let server: TestServer
    let goodServer: TestServer
    let tmp: TempDir

    init() throws {
        server = try TestServer(root: Repo.path("examples/site"))
        goodServer = try TestServer(root: Repo.path("examples/site"))
        tmp = try TempDir("tw-tls")
    }

    func selfSignedServer() throws -> TestServer {
        let dir = tmp.path
        let r = try runProgram(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                                "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
        try #require(r.status == 0, "openssl could not make a certificate: \(r.stderr)")
        return try TestServer(root: Repo.path("examples/site"), tls: (dir + "/cert.pem", dir + "/key.pem"))
    }

    /// Under AddressSanitizer (the sanitizer pass of scripts/test) memory is shadowed and quarantined,
    /// so the RSS bounds hold only for ordinary builds.
    static let sanitized = ProcessInfo.processInfo.environment["TAGWATCH_SANITIZED"] != nil

    @Test func everyFaultIsContainedAndTheRestStillFinish() throws {
        let tls = try selfSignedServer()
        let idle = try IdleListener()  // where a followed gopher redirect would connect
        let faults: [(String, (String) -> Bool)] = [
            (server.url("/never"), { $0.contains("imeout") || $0.contains("timed out") }),
            (server.url("/trickle?seconds=30"), { $0.contains("imeout") || $0.contains("timed out") }),
            (server.url("/reset"), { !$0.isEmpty }),
            (server.url("/short-body"), { !$0.isEmpty }),
            (server.url("/redirect-loop"), { $0.lowercased().contains("redirect") }),
            (server.url("/redirect-to?url=file:///etc/passwd"), { $0.contains("file") }),
            (server.url("/redirect-to?url=gopher://127.0.0.1:\(idle.port)/"), { $0.contains("gopher") }),
            (server.url("/gzip-bomb?mb=2048"), { $0.contains("larger than the limit") }),
            (server.url("/big?mb=2048"), { $0.contains("larger than the limit") }),
            (server.url("/big-chunked?mb=2048"), { $0.contains("larger than the limit") }),
            (tls.httpsURL("/index.html"), { $0.contains("SSL") || $0.contains("certificate") }),
            (server.url("/png"), { $0.contains("not an HTML page") }),
        ]
        let good = [goodServer.url("/index.html"), goodServer.url("/nul"), goodServer.url("/deep?levels=100000"), goodServer.url("/product.html")]
        // 10 s for a whole transfer: the faults that hang need a limit, and a good page of a few
        // KiB from its own loopback server cannot take that long however loaded the machine is.
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--timeout", "10", "--connect-timeout", "5",
                                 "--max-page-bytes", "5000000", "--concurrency", "8", "--per-host", "8"]
                                + faults.map(\.0) + good)
        #expect(r.status == 3)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let pages = try #require(json["pages"] as? [[String: Any]])
        #expect(pages.count == faults.count + good.count)
        for (i, (url, check)) in faults.enumerated() {
            let error = pages[i]["error"] as? String ?? ""
            #expect(check(error), "\(url): \(error)")
        }
        for i in faults.count..<pages.count {
            #expect(pages[i]["error"] is NSNull, "\(good[i - faults.count]): \(pages[i]["error"] ?? "")")
        }
        #expect(idle.connectionsSoFar() == 0, "the gopher redirect was refused, not followed")
        let home = pages[faults.count]["resources"] as? [[String: Any]] ?? []
        #expect(home.contains { ($0["vendor"] as? [String: Any])?["id"] as? String == "google-tag-manager" })
        // The script hidden in the deepest of 100,000 nested divs is still found.
        let deep = (pages[faults.count + 2]["resources"] as? [[String: Any]] ?? []).compactMap { $0["url"] as? String }
        #expect(deep.contains("https://static.hotjar.com/c/hotjar-1.js"), "\(deep)")
        // This scan's own peak RSS (from wait4), not that of every child so far.
        #expect(Self.sanitized || r.peakRSS < 256 * 1024 * 1024, "peak RSS \(r.peakRSS)")
    }

    @Test func aFiftyMegabyteSingleLinePageIsBounded() throws {
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--timeout", "60",
                                 "--max-page-bytes", "64000000", server.url("/oneline?mb=50")])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let page = try #require((json["pages"] as? [[String: Any]])?.first)
        let hosts = (page["resources"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String }
        #expect(hosts.contains("static.hotjar.com"))
        #expect(Self.sanitized || r.peakRSS < 1024 * 1024 * 1024, "peak RSS \(r.peakRSS)")
    }
}
