import Foundation
import Testing
import TagwatchTestSupport

/// `--proxy` and `proxy:` (CURLOPT_PROXY): every fetch goes through the proxy, whatever the
/// NO_PROXY the tests export, and a followed third-party script reaches only the proxy, which
/// refuses anything but loopback.
@Suite(.serialized) struct ProxyTests {
    final class Proxy {
        let process = Process()
        let log: String
        let port: Int

        init(dir: String) throws {
            log = dir + "/proxy.log"
            port = try freePort()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Repo.path("Tests/Fixtures/loopback_proxy.py"), "--port", "\(port)", "--log", log]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            guard String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self).contains("READY") else {
                throw TestFailure("proxy did not start")
            }
        }

        var url: String { "http://127.0.0.1:\(port)" }

        func lines() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    func site(_ dir: String) throws -> TestServer {
        let site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try "<html><head><script src=\"https://static.hotjar.com/c/hotjar-1.js\"></script></head></html>"
            .write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        return try TestServer(root: site)
    }

    @Test func scanFetchesThroughTheProxyGivenAndNothingLeavesLoopback() throws {
        let dir = try temporaryDirectory("tw-proxy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try site(dir)
        defer { server.stop() }
        let proxy = try Proxy(dir: dir)
        defer { proxy.stop() }
        let page = server.url("/index.html")
        let r = try runTagwatch(["scan", "--format", "json", "--proxy", proxy.url, page])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"hotjar\""))
        let lines = proxy.lines()
        #expect(lines.contains("GET \(page) -> 200"), "\(lines)")
        #expect(lines.contains("CONNECT static.hotjar.com:443 -> refused"), "\(lines)")
        #expect(r.stdout.contains("hotjar-1.js not followed"), "the refused script is a warning: \(r.stdout)")

        // --no-proxy sends that host direct; without --proxy the environment's NO_PROXY does.
        let before = proxy.lines().count
        let direct = try runTagwatch(["scan", "--no-follow", "--proxy", proxy.url, "--no-proxy", "127.0.0.1", page])
        #expect(direct.status == 0)
        let plain = try runTagwatch(["scan", "--no-follow", page])
        #expect(plain.status == 0)
        #expect(proxy.lines().count == before, "\(proxy.lines())")
        let bad = try runTagwatch(["scan", "--proxy", "not a url", page])
        #expect(bad.status == 2)
    }

    @Test func theConfigsProxyCarriesTheDaemonsFetches() throws {
        let dir = try temporaryDirectory("tw-proxy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try site(dir)
        defer { server.stop() }
        let proxy = try Proxy(dir: dir)
        defer { proxy.stop() }
        try """
            targets:
              - url: \(server.url("/index.html"))
            rules: \(Repo.rules)
            state: state.sqlite
            proxy: \(proxy.url)
            """.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["run", "--once", "--config", dir + "/c.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(proxy.lines().contains("GET \(server.url("/index.html")) -> 200"), "\(proxy.lines())")
        #expect(proxy.lines().contains("CONNECT static.hotjar.com:443 -> refused"))
        try "targets:\n  - url: http://127.0.0.1:9/\nproxy: \"ftp://x\"\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try runTagwatch(["config", "check", dir + "/bad.yaml"])
        #expect(bad.status == 2)
        #expect(bad.stdout.contains("bad.yaml:3: 'proxy' must be a proxy URL"), "\(bad.stdout)")
    }
}
