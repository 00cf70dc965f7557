import Foundation
import Testing
import TagwatchTestSupport

/// `tagwatch config check`: what the unit's ExecStartPre and ExecReload run.
@Suite struct ConfigCheckTests {
    func config(_ dir: String, _ extra: String = "", state: String? = nil) -> String {
        """
        targets:
          - url: http://127.0.0.1:9/
        rules: \(Repo.rules)
        registry: \(Repo.rules)/approved.example.yaml
        state: \(state ?? dir + "/var/state.sqlite")
        alerts:
          log: \(dir)/log/alerts.log
          feed: \(dir)/feed.json
        \(extra)
        """
    }

    @Test func aGoodConfigPassesAndSaysWhatItChecked() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try config(dir).write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let r = try runTagwatch(["config", "check", dir + "/c.yaml"], cwd: "/")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("catalog: built-in catalog + \(Repo.rules)/vendors"))
        #expect(r.stdout.contains("registry: \(Repo.rules)/approved.example.yaml"))
        #expect(r.stdout.contains("writes state: \(dir)/var/state.sqlite"))
        #expect(r.stdout.contains("writes alert log: \(dir)/log/alerts.log"))
        #expect(r.stdout.contains("\(dir)/c.yaml: ok"))
        // Nothing was created by the check.
        #expect(!FileManager.default.fileExists(atPath: dir + "/var"))
    }

    @Test func brokenConfigsExitTwoWithFileAndLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An unknown key.
        try config(dir, "intervall: 6h").write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let a = try runTagwatch(["config", "check", dir + "/a.yaml"])
        #expect(a.status == 2)
        #expect(a.stdout.contains("\(dir)/a.yaml:9:"), "\(a.stdout)")
        // A registry that names a vendor the catalog lacks: the registry's own file and line.
        try "vendors:\n  no-such-vendor: {status: approved}\n".write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        try config(dir).replacingOccurrences(of: "\(Repo.rules)/approved.example.yaml", with: dir + "/approved.yaml")
            .write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        let b = try runTagwatch(["config", "check", dir + "/b.yaml"])
        #expect(b.status == 2)
        #expect(b.stdout.contains("\(dir)/approved.yaml:2:"), "\(b.stdout)")
        // A state path that cannot be created (its folder would be inside a regular file): the config's line.
        try "x".write(toFile: dir + "/plain", atomically: true, encoding: .utf8)
        try config(dir, state: dir + "/plain/state.sqlite").write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let c = try runTagwatch(["config", "check", dir + "/c.yaml"])
        #expect(c.status == 2)
        #expect(c.stdout.contains("\(dir)/c.yaml:5: state '\(dir)/plain/state.sqlite' cannot be created: '\(dir)/plain' is not a folder"), "\(c.stdout)")
        // A missing config file.
        let d = try runTagwatch(["config", "check", dir + "/none.yaml"])
        #expect(d.status == 2)
        #expect(d.stdout.contains("none.yaml"))
    }

    /// Paths are judged as the user that runs the check: as the service user does under systemd.
    @Test func pathsTheServiceUserCannotWriteAreErrors() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            Issue.record("needs root and setpriv (util-linux) to run the check as another user")
            return
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        try config(dir).write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let asNobody = try runCommand("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                           Repo.binary, "config", "check", dir + "/c.yaml"])
        #expect(asNobody.status == 2, "\(asNobody.stdout)\(asNobody.stderr)")
        #expect(asNobody.stdout.contains("c.yaml:5: state '\(dir)/var/state.sqlite' cannot be created: this user (uid 65534) cannot write in '\(dir)'"), "\(asNobody.stdout)")
        #expect(asNobody.stdout.contains("c.yaml:7: alert log"))
        #expect(asNobody.stdout.contains("c.yaml:8: feed"))
        // Given the folders, the same user passes.
        for sub in ["var", "log"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
            chown(dir + "/" + sub, 65534, 65534)
        }
        chown(dir, 65534, 65534)
        let owned = try runCommand("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                        Repo.binary, "config", "check", dir + "/c.yaml"])
        #expect(owned.status == 0, "\(owned.stdout)\(owned.stderr)")
    }
}

/// Runs any program, collecting its output (for tests that need another user, or a system tool).
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runCommand(_ executable: String, _ arguments: [String], cwd: String? = nil, environment: [String: String]? = nil) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    nonisolated(unsafe) var errData = Data()
    let t = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    t.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !t.isFinished { usleep(1000) }
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}
