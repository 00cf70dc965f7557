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

/// Confines libcurl to loopback for the whole test process and every `tagwatch` it starts: a
/// fetch of any other host (a third-party script a test page names, followed by default) goes to
/// a proxy on a closed loopback port and fails at once, so no test reaches the internet.
/// libcurl reads these variables itself; the product has no test switch.
public let confineNetworkToLoopback: Void = {
    setenv("ALL_PROXY", "http://127.0.0.1:9", 1)
    setenv("NO_PROXY", "127.0.0.1,localhost,::1", 1)
    unsetenv("HTTPS_PROXY"); unsetenv("https_proxy"); unsetenv("HTTP_PROXY"); unsetenv("http_proxy")
}()

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The Python loopback HTTP server of `Tests/Fixtures/server`, on 127.0.0.1 and a free port.
public final class TestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// `tls`: a certificate and key (PEM) to serve HTTPS with.
    public init(root: String, tls: (cert: String, key: String)? = nil) throws {
        _ = confineNetworkToLoopback
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Repo.path("Tests/Fixtures/server/testserver.py"), "--root", root, "--port", "0"]
            + (tls.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? [])
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
    public func httpsURL(_ path: String) -> String { "https://127.0.0.1:\(port)\(path)" }

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
    _ = confineNetworkToLoopback
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

/// A `$NOTIFY_SOCKET` listener standing in for systemd (which is not PID 1 here).
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("tw-notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard rc == 0 else { throw TestFailure("bind \(path) failed") }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Waits up to `timeout` seconds for a datagram containing `text`; returns it.
    public func waitFor(_ text: String, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 {
                let msg = String(decoding: buf[0..<n], as: UTF8.self)
                received.append(msg)
                if msg.contains(text) { return msg }
            }
        }
        return nil
    }

    public private(set) var received: [String] = []
}

/// A long-running `tagwatch` process with its stderr collected in a file, for signal tests.
public final class DaemonProcess: @unchecked Sendable {
    public let process = Process()
    public let stderrPath: String

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        stderrPath = FileManager.default.temporaryDirectory.appendingPathComponent("tw-daemon-\(UUID().uuidString.prefix(8)).log").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        _ = confineNetworkToLoopback
        process.executableURL = URL(fileURLWithPath: Repo.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits until stderr contains `text` `count` times (or the timeout passes).
    @discardableResult
    public func waitForLog(_ text: String, count: Int = 1, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.components(separatedBy: text).count - 1 >= count { return true }
            if !process.isRunning { return stderr.components(separatedBy: text).count - 1 >= count }
            usleep(50_000)
        }
        return false
    }

    /// Waits for exit; nil if it is still running after `timeout` seconds.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
