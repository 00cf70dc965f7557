import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// The fetcher against a real HTTP server on 127.0.0.1.
@Suite(.serialized) struct FetcherTests {
    let server: TestServer

    init() throws {
        server = try TestServer(root: Repo.path("examples/site"))
    }

    func fetch(_ paths: [String], _ configure: (inout FetchOptions) -> Void = { _ in }) -> [FetchResult] {
        var options = FetchOptions()
        options.timeout = 5
        options.connectTimeout = 2
        configure(&options)
        var results = [FetchResult?](repeating: nil, count: paths.count)
        Fetcher(options: options).fetch(paths.map { $0.contains("://") ? $0 : server.url($0) }) { i, r in results[i] = r }
        return results.map { $0! }
    }

    @Test func fetchesManyPagesAtOnce() {
        let paths = (0..<40).map { $0 % 2 == 0 ? "/index.html" : "/product.html" }
        let results = fetch(paths) { $0.concurrency = 8; $0.perHost = 4 }
        #expect(results.allSatisfy { $0.error == nil && $0.status == 200 && !$0.body.isEmpty })
    }

    @Test func followsRedirectsAndRecordsTheFinalURL() {
        let r = fetch(["/redirect/3"])[0]
        #expect(r.error == nil)
        #expect(r.status == 200)
        #expect(r.finalURL == server.url("/index.html"))
    }

    @Test func tooManyRedirectsIsAnError() {
        let r = fetch(["/redirect-loop"]) { $0.maxRedirects = 5 }[0]
        #expect(r.error?.contains("redirect") == true)
    }

    /// /redirect/N is N + 1 redirects. The default limit is 10; `maxRedirects` changes it.
    @Test func theRedirectLimitIsExact() {
        let byDefault = fetch(["/redirect/9", "/redirect/10"])
        #expect(byDefault[0].error == nil && byDefault[0].status == 200, "10 redirects are followed: \(byDefault[0].error ?? "")")
        #expect(byDefault[1].error?.lowercased().contains("redirect") == true, "the 11th is refused: \(byDefault[1].error ?? "none")")
        let two = fetch(["/redirect/1", "/redirect/2"]) { $0.maxRedirects = 2 }
        #expect(two[0].error == nil && two[0].status == 200)
        #expect(two[1].error?.lowercased().contains("redirect") == true)
    }

    @Test func onlyHTTPAndHTTPSEvenOnRedirects() throws {
        // (Full URLs: the helper takes any path containing "://" as a URL of its own.)
        let r1 = fetch([server.url("/redirect-to?url=file:///etc/passwd")])[0]
        #expect(r1.status == 302, "the redirect itself was received")
        #expect(r1.error?.contains("file") == true, "\(r1.error ?? "none")")
        #expect(r1.body.isEmpty)
        // A listener the test owns: a followed gopher redirect would connect to it.
        let idle = try IdleListener()
        let r2 = fetch([server.url("/redirect-to?url=gopher://127.0.0.1:\(idle.port)/")]) { $0.timeout = 5 }[0]
        #expect(r2.status == 302, "the redirect itself was received")
        #expect(r2.error?.contains("gopher") == true, "refused for its protocol: \(r2.error ?? "none")")
        #expect(idle.connectionsSoFar() == 0, "the gopher redirect was followed")
        let r3 = fetch(["ftp://127.0.0.1/x"])[0]
        #expect(r3.error?.contains("not an http or https URL") == true)
    }

    @Test func decodesGzip() throws {
        let plain = fetch(["/index.html"])[0]
        let gz = fetch(["/gzip/index.html"])[0]
        #expect(gz.error == nil)
        #expect(gz.body == plain.body)
    }

    @Test(arguments: ["deflate", "br", "zstd"])
    func decodesEveryContentEncoding(coding: String) throws {
        let plain = fetch(["/index.html"])[0]
        let encoded = fetch(["/encoded/\(coding)/index.html"])[0]
        #expect(encoded.error == nil, "\(encoded.error ?? "")")
        #expect(!plain.body.isEmpty)
        #expect(encoded.body == plain.body)
    }

    @Test func perHostLimitsConcurrentRequests() {
        // Six one-second requests to one host: never more than `perHost` at a time.
        let paths = (0..<6).map { "/slow?seconds=1&n=\($0)" }
        let limited = fetch(paths) { $0.concurrency = 8; $0.perHost = 2 }
        #expect(limited.allSatisfy { $0.error == nil })
        #expect(server.maxInFlight >= 1 && server.maxInFlight <= 2, "at most 2 at once, saw \(server.maxInFlight)")
    }

    @Test func withoutAPerHostLimitRequestsOverlap() {
        // The measure above can see overlap: with room for all six, more than two run at once.
        let paths = (0..<6).map { "/slow?seconds=2&n=\($0)" }
        let open = fetch(paths) { $0.concurrency = 8; $0.perHost = 6 }
        #expect(open.allSatisfy { $0.error == nil })
        #expect(server.maxInFlight > 2, "saw \(server.maxInFlight)")
    }

    /// A CA made here, a server certificate it signs for 127.0.0.1: trusted through `caFile`, the
    /// fetch succeeds; with the system's store it fails on the certificate (verification is on).
    @Test func httpsWithALocalCertificateAuthority() throws {
        let tmp = try TempDir("tw-ca")
        let d = tmp.path
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: d + "/ext.cnf", atomically: true, encoding: .utf8)
        for step in [
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tagwatch test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", d + "/ca.key", "-out", d + "/ca.pem"],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", d + "/key.pem", "-out", d + "/req.csr"],
            ["openssl", "x509", "-req", "-in", d + "/req.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", d + "/ext.cnf", "-out", d + "/cert.pem"],
        ] {
            let r = try runProgram(step)
            try #require(r.status == 0, "\(step.prefix(3).joined(separator: " ")): \(r.stderr)")
        }
        let tls = try TestServer(root: Repo.path("examples/site"), tls: (d + "/cert.pem", d + "/key.pem"))
        let plain = fetch(["/index.html"])[0]
        var options = FetchOptions()
        options.timeout = 20
        options.caFile = d + "/ca.pem"
        var trusted: FetchResult?
        Fetcher(options: options).fetch([tls.httpsURL("/index.html")]) { _, r in trusted = r }
        #expect(trusted?.error == nil, "\(trusted?.error ?? "")")
        #expect(trusted?.status == 200)
        #expect(trusted?.body == plain.body)
        options.caFile = nil
        var untrusted: FetchResult?
        Fetcher(options: options).fetch([tls.httpsURL("/index.html")]) { _, r in untrusted = r }
        #expect(untrusted?.error?.contains("certificate") == true || untrusted?.error?.contains("SSL") == true, "\(untrusted?.error ?? "none")")
    }

    @Test func reportsHTTPErrorsWithTheirStatus() {
        let r = fetch(["/status/500"])[0]
        #expect(r.error == nil)
        #expect(r.status == 500)
    }

    @Test func aSlowServerTimesOut() {
        let r = fetch(["/slow?seconds=10"]) { $0.timeout = 1 }[0]
        #expect(r.error?.lowercased().contains("timeout") == true || r.error?.lowercased().contains("timed out") == true)
    }

    @Test func aBodyOverTheLimitIsAborted() {
        let r1 = fetch(["/big?mb=3"]) { $0.maxBodyBytes = 1_000_000 }[0]
        #expect(r1.error?.contains("larger than the limit") == true)
        let r2 = fetch(["/big-chunked?mb=3"]) { $0.maxBodyBytes = 1_000_000 }[0]
        #expect(r2.error?.contains("larger than the limit") == true)
        let r3 = fetch(["/gzip-bomb?mb=64"]) { $0.maxBodyBytes = 1_000_000 }[0]
        #expect(r3.error?.contains("larger than the limit") == true)
    }

    @Test func recordsHeadersThatMatterAndSendsOurUserAgent() {
        let r = fetch(["/headers"]) { $0.userAgent = "tagwatch-test/1.0" }[0]
        #expect(r.contentSecurityPolicy == "default-src 'self'")
        #expect(r.setCookieNames == ["sid", "_ga"])
        #expect(r.contentType?.hasPrefix("text/html") == true)
        let body = String(decoding: r.body, as: UTF8.self)
        #expect(body.contains("tagwatch-test/1.0"))
        #expect(body.lowercased().contains("gzip"))
    }

    @Test func unreachableHostIsAnError() {
        let r = fetch(["http://127.0.0.1:1/"])[0]
        #expect(r.error?.contains("connect") == true)
    }

    @Test func cancellationEndsEveryTransfer() {
        let cancellation = FetchCancellation()
        var options = FetchOptions()
        options.timeout = 60
        options.perHost = 5
        let testServer = server
        let urls = (0..<5).map { _ in testServer.url("/never") }
        var results: [FetchResult] = []
        // Cancel once the server holds a request: the transfers are in flight, waiting on it.
        DispatchQueue.global().async {
            _ = testServer.waitForRequest("/never", timeout: 30)
            cancellation.cancel()
        }
        let started = Date()
        Fetcher(options: options).fetch(urls, cancellation: cancellation) { _, r in results.append(r) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(results.count == 5)
        #expect(results.allSatisfy { $0.error?.hasPrefix("cancelled") == true }, "\(results.map { $0.error ?? "none" })")
        // A cancel that did not work would end only at the 60 s transfer timeout.
        #expect(elapsed < 30, "the fetch ended \(elapsed) s after it started, not at the cancel")
    }
}
