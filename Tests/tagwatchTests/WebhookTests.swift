import Foundation
import Testing
import TagwatchTestSupport

/// `alerts.webhook`: a loopback receiver that is down for one cycle and up for the next gets
/// every event exactly once, in order, across separate processes (each `run --once` is a restart).
@Suite(.serialized) struct WebhookTests {
    final class Receiver {
        let process = Process()
        let out: String

        init(port: Int, out: String, failFirst: Int = 0) throws {
            self.out = out
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Repo.path("Tests/Fixtures/webhook_receiver.py"), "--port", "\(port)", "--out", out,
                                 "--fail-first", "\(failFirst)"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let line = pipe.fileHandleForReading.availableData
            guard String(decoding: line, as: UTF8.self).contains("READY") else { throw TestFailure("receiver did not start") }
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        func received() throws -> [[String: Any]] {
            guard FileManager.default.fileExists(atPath: out) else { return [] }
            return try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }

        deinit { stop() }
    }

    static func page(hotjar: Bool, unknown: Bool) -> String {
        var head = "<script src=\"https://www.googletagmanager.com/gtm.js?id=GTM-TEST1\"></script>"
        if hotjar { head += "<script src=\"https://static.hotjar.com/c/hotjar-1.js\"></script>" }
        if unknown { head += "<script src=\"https://cdn.nobody-claims.test/w.js\"></script>" }
        return "<!doctype html><html><head>\(head)</head><body></body></html>"
    }

    func setUp(_ dir: String, hookPort: Int, format: String = "json") throws -> TestServer {
        let site = dir + "/site"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try Self.page(hotjar: true, unknown: false).write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        let server = try TestServer(root: site)
        try "vendors:\n  google-tag-manager: {status: approved}\n".write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        try """
            targets:
              - url: \(server.url("/index.html"))
            first_party: [127.0.0.1]
            rules: \(Repo.rules)
            registry: approved.yaml
            state: state.sqlite
            follow: {enabled: false}
            alerts:
              log: alerts.log
              webhook:
                url: http://127.0.0.1:\(hookPort)/hook
                format: \(format)
                timeout: 5s
                headers: {Authorization: "Bearer test-token"}
            """.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        return server
    }

    @Test func aReceiverDownForOneCycleGetsEveryEventExactlyOnceNextCycle() throws {
        let dir = try temporaryDirectory("tw-webhook")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let server = try setUp(dir, hookPort: port)
        defer { server.stop() }
        let config = dir + "/tagwatch.yaml"

        // Cycle 1, receiver down: the Hotjar alert is raised, logged, and waits in the outbox.
        let c1 = try runTagwatch(["run", "--once", "--config", config])
        #expect(c1.status == 3, "a sink that fails fails the run: \(c1.stderr)")
        #expect(c1.stderr.contains("webhook http://127.0.0.1:\(port)/hook: event 1"), "\(c1.stderr)")
        let waiting = try runTagwatch(["alerts", "--undelivered", "--format", "json", "--config", config])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(waiting.stdout.utf8)) as? [String: Any])
        let entries = try #require(doc["undelivered"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["attempts"] as? Int == 1)
        let lastError = (entries.first?["last_error"] as? String ?? "").lowercased()
        #expect(lastError.contains("connect"), "\(entries)")
        let logged = try String(contentsOfFile: dir + "/alerts.log", encoding: .utf8)
        #expect(logged.contains("unapproved-vendor"), "the log does not wait for the webhook")

        // Cycle 2, receiver up; the page changed: Hotjar gone (resolved), an unknown host (raised).
        let receiver = try Receiver(port: port, out: dir + "/received.jsonl")
        defer { receiver.stop() }
        try Self.page(hotjar: false, unknown: true).write(toFile: dir + "/site/index.html", atomically: true, encoding: .utf8)
        let c2 = try runTagwatch(["run", "--once", "--config", config])
        #expect(c2.status == 0, "\(c2.stderr)")
        #expect(!c2.stderr.contains("not delivered"), "\(c2.stderr)")

        // Cycle 3, nothing new: nothing is sent again.
        let c3 = try runTagwatch(["run", "--once", "--config", config])
        #expect(c3.status == 0)
        let got = try receiver.received()
        let seqs = got.compactMap { ($0["body"] as? [String: Any])?["seq"] as? Int }
        #expect(seqs == [1, 2, 3], "every event once, in order: \(got)")
        #expect(got.map { $0["key"] as? String ?? "" } == ["tagwatch-event-1", "tagwatch-event-2", "tagwatch-event-3"])
        #expect(got.allSatisfy { $0["auth"] as? String == "Bearer test-token" && $0["path"] as? String == "/hook" })
        let kinds = got.map { (($0["body"] as? [String: Any])?["alert"] as? [String: Any])?["kind"] as? String ?? "" }
        #expect(kinds.first == "unapproved-vendor")
        #expect(Set(kinds.dropFirst()) == ["unapproved-vendor", "unknown-third-party"], "\(kinds)")
        #expect(got.map { $0["event"] as? String ?? "" }.sorted() == ["raised", "raised", "resolved"])
        let empty = try runTagwatch(["alerts", "--undelivered", "--config", config])
        #expect(empty.stdout.contains("no undelivered webhook events"))
    }

    /// The daemon retries between cycles with backoff: no SIGUSR1, no new cycle (interval 6h).
    @Test func theDaemonRetriesWithBackoffUntilTheReceiverTakesTheEvents() throws {
        let dir = try temporaryDirectory("tw-webhook")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let server = try setUp(dir, hookPort: port)
        defer { server.stop() }
        let config = try String(contentsOfFile: dir + "/tagwatch.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    timeout: 5s", with: "    timeout: 5s\n    retry: 1s")
        try config.write(toFile: dir + "/tagwatch.yaml", atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(["run", "--config", dir + "/tagwatch.yaml"])
        #expect(daemon.waitForLog("retrying in 1s", timeout: 60), "\(daemon.stderr)")
        #expect(daemon.waitForLog("retrying in 2s", timeout: 30), "the second failure doubles the delay: \(daemon.stderr)")
        let receiver = try Receiver(port: port, out: dir + "/received.jsonl")
        defer { receiver.stop() }
        #expect(daemon.waitForLog("delivered on retry", timeout: 30), "\(daemon.stderr)")
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(timeout: 30) == 0)
        let got = try receiver.received()
        #expect(got.compactMap { ($0["body"] as? [String: Any])?["seq"] as? Int } == [1])
        #expect(daemon.occurrences("scan finished") == 1, "one cycle only: \(daemon.stderr)")
    }

    @Test func slackFormatAndAReceiverThatAnswers503() throws {
        let dir = try temporaryDirectory("tw-webhook")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let server = try setUp(dir, hookPort: port, format: "slack")
        defer { server.stop() }
        let receiver = try Receiver(port: port, out: dir + "/received.jsonl", failFirst: 1)
        defer { receiver.stop() }
        let c1 = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        #expect(c1.status == 3)
        #expect(c1.stderr.contains("not delivered: HTTP 503"), "\(c1.stderr)")
        let text = try runTagwatch(["alerts", "--undelivered", "--config", dir + "/tagwatch.yaml"])
        #expect(text.stdout.contains("1 attempt"), "\(text.stdout)")
        #expect(text.stdout.contains("last error: HTTP 503"))
        _ = try runTagwatch(["run", "--once", "--config", dir + "/tagwatch.yaml"])
        let got = try receiver.received()
        #expect(got.count == 1)
        let message = (got.first?["body"] as? [String: Any])?["text"] as? String ?? ""
        #expect(message.contains("*unapproved-vendor* raised [medium]") && message.contains("Hotjar"), "\(message)")
    }
}
