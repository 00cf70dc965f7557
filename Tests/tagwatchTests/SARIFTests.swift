import Foundation
import Testing
import TagwatchTestSupport

/// `scan --format sarif`, read back by a real SARIF consumer (sarif-tools, from PyPI): the same
/// findings as `--format json`, at the same pages, with the right levels and rules.
@Suite struct SARIFTests {
    @Test func sarifToolsReadsEveryFinding() throws {
        let python = Repo.path(".build-pyenv/bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python), "scripts/install-deps creates \(python) with sarif-tools")
        let dir = try temporaryDirectory("tw-sarif")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pages = ["site/index.html", "site/checkout/index.html", "site/product.html"]
        let registry = Repo.path("rules/approved.example.yaml")
        let sarif = try runTagwatch(["scan", "--format", "sarif", "--registry", registry] + pages, cwd: Repo.path("examples"))
        #expect(sarif.status == 0, "\(sarif.stderr)")
        try sarif.stdout.write(toFile: dir + "/scan.sarif", atomically: true, encoding: .utf8)
        let json = try runTagwatch(["scan", "--format", "json", "--registry", registry] + pages, cwd: Repo.path("examples"))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        var expected: [String] = []
        for (i, page) in (doc["pages"] as? [[String: Any]] ?? []).enumerated() {
            for f in page["findings"] as? [[String: Any]] ?? [] {
                let severity = f["severity"] as? String ?? ""
                let level = ["critical": "error", "high": "error", "medium": "warning"][severity] ?? "note"
                expected.append("\(pages[i])|\(level)|\(f["kind"] as? String ?? "")|\(f["message"] as? String ?? "")")
            }
        }
        #expect(expected.count >= 4, "the demo pages carry findings with the example registry: \(json.stdout)")

        let reader = """
            import json, sys
            from sarif import loader
            s = loader.load_sarif_file(sys.argv[1])
            print(json.dumps({"count": s.get_result_count(), "tools": s.get_distinct_tool_names(),
                              "records": ["%s|%s|%s|%s" % (r["Location"], r["Severity"], r["Code"], r["Description"])
                                          for r in s.get_records()]}))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", reader, dir + "/scan.sarif"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let read = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(read["tools"] as? [String] == ["tagwatch"])
        #expect(read["count"] as? Int == expected.count)
        #expect((read["records"] as? [String] ?? []).sorted() == expected.sorted())

        // Its CLI gates a pipeline on the levels: the denied vendor and out-of-scope findings are errors.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: Repo.path(".build-pyenv/bin/sarif"))
        check.arguments = ["--check", "error", "summary", dir + "/scan.sarif"]
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus != 0)
        #expect(expected.contains { $0.contains("|error|denied-vendor|") })
    }

    @Test func pagesThatFailAreNotificationsNotResults() throws {
        let r = try runTagwatch(["scan", "--format", "sarif", Repo.path("examples/site/index.html"), "/nonexistent/page.html"])
        #expect(r.status == 3)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["version"] as? String == "2.1.0")
        let run = try #require((doc["runs"] as? [[String: Any]])?.first)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
        let notes = invocation["toolExecutionNotifications"] as? [[String: Any]] ?? []
        #expect(notes.contains { (($0["message"] as? [String: Any])?["text"] as? String ?? "").contains("/nonexistent/page.html") })
        #expect(notes.contains { (($0["message"] as? [String: Any])?["text"] as? String ?? "").hasPrefix("no registry") })
        #expect((run["results"] as? [Any])?.isEmpty == true)
    }
}
