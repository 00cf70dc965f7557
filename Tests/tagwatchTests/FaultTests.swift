import Foundation
import Testing
import TagwatchTestSupport

/// A hostile loopback server: each fault ends in a per-target error or a bounded result within
/// the configured limits, memory stays bounded, and the other targets of the same scan finish.
@Suite(.serialized) struct FaultTests {
    let server: TestServer

    init() throws {
        server = try TestServer(root: Repo.path("examples/site"))
    }

    func selfSignedServer() throws -> TestServer {
        let dir = try temporaryDirectory("tw-tls")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                       "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "openssl could not make a certificate")
        return try TestServer(root: Repo.path("examples/site"), tls: (dir + "/cert.pem", dir + "/key.pem"))
    }

    /// Under AddressSanitizer (the sanitizer pass of scripts/test) memory is shadowed and quarantined,
    /// so the RSS bounds hold only for ordinary builds.
    static let sanitized = ProcessInfo.processInfo.environment["TAGWATCH_SANITIZED"] != nil

    /// The largest resident set of any child process waited for so far, in bytes.
    func childPeakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    @Test func everyFaultIsContainedAndTheRestStillFinish() throws {
        let tls = try selfSignedServer()
        let faults: [(String, (String) -> Bool)] = [
            (server.url("/never"), { $0.contains("imeout") || $0.contains("timed out") }),
            (server.url("/trickle?seconds=30"), { $0.contains("imeout") || $0.contains("timed out") }),
            (server.url("/reset"), { !$0.isEmpty }),
            (server.url("/short-body"), { !$0.isEmpty }),
            (server.url("/redirect-loop"), { $0.lowercased().contains("redirect") }),
            (server.url("/redirect-to?url=file:///etc/passwd"), { !$0.isEmpty }),
            (server.url("/redirect-to?url=gopher://127.0.0.1:70/"), { !$0.isEmpty }),
            (server.url("/gzip-bomb?mb=2048"), { $0.contains("larger than the limit") }),
            (server.url("/big?mb=2048"), { $0.contains("larger than the limit") }),
            (server.url("/big-chunked?mb=2048"), { $0.contains("larger than the limit") }),
            (tls.httpsURL("/index.html"), { $0.contains("SSL") || $0.contains("certificate") }),
            (server.url("/png"), { $0.contains("not an HTML page") }),
        ]
        let good = [server.url("/index.html"), server.url("/nul"), server.url("/deep?levels=100000"), server.url("/product.html")]
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--timeout", "3", "--connect-timeout", "2",
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
        let home = pages[faults.count]["resources"] as? [[String: Any]] ?? []
        #expect(home.contains { ($0["vendor"] as? [String: Any])?["id"] as? String == "google-tag-manager" })
        #expect(Self.sanitized || childPeakRSS() < 256 * 1024 * 1024, "peak RSS \(childPeakRSS())")
    }

    @Test func aFiftyMegabyteSingleLinePageIsBounded() throws {
        let r = try runTagwatch(["scan", "--rules", Repo.rules, "--format", "json", "--timeout", "60",
                                 "--max-page-bytes", "64000000", server.url("/oneline?mb=50")])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let page = try #require((json["pages"] as? [[String: Any]])?.first)
        let hosts = (page["resources"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String }
        #expect(hosts.contains("static.hotjar.com"))
        #expect(Self.sanitized || childPeakRSS() < 1024 * 1024 * 1024, "peak RSS \(childPeakRSS())")
    }
}
