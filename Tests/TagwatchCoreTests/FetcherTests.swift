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

    @Test func onlyHTTPAndHTTPSEvenOnRedirects() {
        let r1 = fetch(["/redirect-to?url=file:///etc/passwd"])[0]
        #expect(r1.error != nil)
        #expect(r1.body.isEmpty)
        let r2 = fetch(["/redirect-to?url=gopher://127.0.0.1:70/"])[0]
        #expect(r2.error != nil)
        let r3 = fetch(["ftp://127.0.0.1/x"])[0]
        #expect(r3.error?.contains("not an http or https URL") == true)
    }

    @Test func decodesGzip() throws {
        let plain = fetch(["/index.html"])[0]
        let gz = fetch(["/gzip/index.html"])[0]
        #expect(gz.error == nil)
        #expect(gz.body == plain.body)
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
        let urls = (0..<5).map { _ in server.url("/never") }
        var results: [FetchResult] = []
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { cancellation.cancel() }
        Fetcher(options: options).fetch(urls, cancellation: cancellation) { _, r in results.append(r) }
        #expect(results.count == 5)
        #expect(results.allSatisfy { $0.error != nil })
    }
}
