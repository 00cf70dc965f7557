import Foundation
import Testing
import TagwatchTestSupport

/// `metrics:` through node_exporter's textfile collector: Debian's prometheus-node-exporter,
/// started on loopback with the metrics folder, scraped over HTTP after a real cycle.
@Suite struct MetricsTests {
    static let nodeExporter = "/usr/bin/prometheus-node-exporter"

    func scrape(_ port: Int) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:\(port)/metrics', timeout=5).read().decode())"]
        var env = ProcessInfo.processInfo.environment
        env["NO_PROXY"] = "127.0.0.1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    func value(_ text: String, _ sample: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }

    @Test func nodeExporterServesTheCyclesMetrics() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.nodeExporter), "scripts/install-deps installs prometheus-node-exporter")
        guard FileManager.default.isExecutableFile(atPath: Self.nodeExporter) else { return }
        let dir = try temporaryDirectory("tw-metrics")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let site = dir + "/site"
        let textfiles = dir + "/textfiles"
        for d in [site, textfiles] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try "<html><head><script src=\"https://static.hotjar.com/c/hotjar-1.js\"></script><script src=\"https://cdn.nobody-claims.test/x.js\"></script></head></html>"
            .write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        let server = try TestServer(root: site)
        defer { server.stop() }
        try """
            targets:
              - url: \(server.url("/index.html"))
              - url: \(server.url("/missing.html"))
            first_party: [127.0.0.1]
            rules: \(Repo.rules)
            registry: \(Repo.rules)/approved.example.yaml
            state: \(dir)/state.sqlite
            follow: {enabled: false}
            metrics: \(textfiles)/tagwatch.prom
            """.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let before = Date().timeIntervalSince1970
        let r = try runTagwatch(["run", "--once", "--config", dir + "/c.yaml"])
        #expect(r.status == 3, "one target is a 404: \(r.stdout)\(r.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: textfiles + "/tagwatch.prom")
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: textfiles) == ["tagwatch.prom"], "no temporary file left")

        let port = try freePort()
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: Self.nodeExporter)
        exporter.arguments = ["--collector.disable-defaults", "--collector.textfile",
                              "--collector.textfile.directory=\(textfiles)", "--web.listen-address=127.0.0.1:\(port)"]
        exporter.standardOutput = FileHandle.nullDevice
        exporter.standardError = FileHandle.nullDevice
        try exporter.run()
        defer { exporter.terminate(); exporter.waitUntilExit() }
        var text: String?
        for _ in 0..<100 where text == nil {
            text = scrape(port)
            if text == nil { usleep(100_000) }
        }
        let metrics = try #require(text, "node_exporter did not answer on 127.0.0.1:\(port)")
        #expect(value(metrics, "node_textfile_scrape_error") == 0, "\(metrics)")
        #expect(value(metrics, "tagwatch_pages_scanned") == 2)
        #expect(value(metrics, "tagwatch_pages_failed") == 1)
        #expect(value(metrics, "tagwatch_vendors") == 1)
        #expect(value(metrics, "tagwatch_unknown_hosts") == 1)
        #expect(value(metrics, "tagwatch_third_party_resources") == 2)
        // Open alerts by severity, as `tagwatch alerts --open` reads them from the state.
        let alerts = try runTagwatch(["alerts", "--open", "--format", "json", "--config", dir + "/c.yaml"])
        let object = try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [String: Any]
        let list = try #require(object?["alerts"] as? [[String: Any]], "\(alerts.stdout)")
        #expect(!list.isEmpty)
        for severity in ["info", "low", "medium", "high", "critical"] {
            let n = list.filter { ($0["severity"] as? String) == severity }.count
            #expect(value(metrics, "tagwatch_alerts_open{severity=\"\(severity)\"}") == Double(n), "\(severity): \(metrics)")
        }
        #expect((value(metrics, "tagwatch_cycle_duration_seconds") ?? -1) >= 0)
        let last = try #require(value(metrics, "tagwatch_last_success_timestamp_seconds"))
        #expect(last >= before.rounded(.down) && last <= Date().timeIntervalSince1970 + 1)
    }

    @Test func aMetricsPathMustEndInProm() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "targets:\n  - url: http://127.0.0.1:9/\nstate: \(dir)/s.sqlite\nmetrics: \(dir)/tagwatch.txt\n"
            .write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["config", "check", dir + "/c.yaml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("c.yaml:4: 'metrics' must be a file ending in .prom"), "\(r.stdout)")
    }
}
