import Foundation

/// The project's folders, found from this file so tests run from any working directory.
public enum Repo {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    public static var fixtures: String { path("Tests/Fixtures") }
    public static var rules: String { path("rules") }

    /// The built `tagwatch` binary beside the test bundle (or `$TAGWATCH_BIN`).
    public static var binary: String {
        if let b = ProcessInfo.processInfo.environment["TAGWATCH_BIN"] { return b }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        let beside = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("tagwatch").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return path(".build/debug/tagwatch")
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The Python loopback HTTP server of `Tests/Fixtures/server`, on 127.0.0.1 and a free port.
public final class TestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public init(root: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Repo.path("Tests/Fixtures/server/testserver.py"), "--root", root, "--port", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        process = p
        var buffer = Data()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            if let text = String(data: buffer, encoding: .utf8), let line = text.split(separator: "\n").first,
               line.hasPrefix("PORT "), let n = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces)) {
                port = n
                return
            }
        }
        p.terminate()
        throw TestFailure("test server did not report its port; output: \(String(decoding: buffer, as: UTF8.self))")
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

/// What a run of the built binary printed and how it exited.
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs the built `tagwatch` with `arguments`, collecting its output.
public func runTagwatch(_ arguments: [String], cwd: String? = nil, environment: [String: String]? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Repo.binary)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes while the process runs, so a large output cannot block it.
    nonisolated(unsafe) var errData = Data()
    let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    errThread.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while errThread.isExecuting || !errThread.isFinished { usleep(1000) }
    return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// A fresh temporary folder for one test.
public func temporaryDirectory(_ name: String = "tagwatch-test") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}
