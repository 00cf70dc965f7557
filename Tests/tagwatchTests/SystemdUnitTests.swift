import Foundation
import Testing
import TagwatchTestSupport

/// The unit file, checked with the real systemd-analyze (systemd is installed, though not PID 1 here).
@Suite struct SystemdUnitTests {
    func analyze(_ args: [String]) throws -> (Int32, String) {
        let r = try runProgram(["systemd-analyze"] + args)
        return (r.status, r.stdout + r.stderr)
    }

    @Test func exposureIsTwoOrLower() throws {
        // --threshold is in tenths: exit 0 only when the exposure is at most 2.0.
        let (status, out) = try analyze(["security", "--offline=true", "--threshold=20", Repo.path("systemd/tagwatch.service")])
        #expect(status == 0, "\(out)")
        #expect(out.contains("Overall exposure level for tagwatch.service"))
    }

    @Test func unitVerifies() throws {
        // verify needs ExecStart's binary to exist: point a copy of the unit at the built one.
        let tmp = try TempDir("tw-unit")
        let dir = tmp.path
        let unit = try String(contentsOfFile: Repo.path("systemd/tagwatch.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/tagwatch", with: Repo.binary)
        try unit.write(toFile: dir + "/tagwatch.service", atomically: true, encoding: .utf8)
        let (status, out) = try analyze(["verify", dir + "/tagwatch.service"])
        #expect(status == 0, "\(out)")
    }

    /// The feed, report and log are for group tagwatch: the unit runs as that static group (not a
    /// DynamicUser, whose directories no reader could reach) with UMask 0027, and the sysusers
    /// file scripts/install hands to systemd-sysusers creates it.
    @Test func readersOfFeedReportAndLogAreGroupTagwatch() throws {
        let unit = try String(contentsOfFile: Repo.path("systemd/tagwatch.service"), encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        #expect(lines.isSuperset(of: ["User=tagwatch", "Group=tagwatch", "UMask=0027", "StateDirectoryMode=0750", "LogsDirectoryMode=0750"]))
        #expect(!lines.contains("DynamicUser=yes"))
        let root = try temporaryDirectory("tw-sysusers")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["systemd-sysusers", "--dry-run", "--root=\(root)", Repo.path("systemd/tagwatch.sysusers")]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("Creating group 'tagwatch'") && text.contains("Creating user 'tagwatch'"), "\(text)")
    }
}
