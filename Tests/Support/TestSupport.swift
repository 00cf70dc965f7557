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

// MARK: - Temporary files

/// Every temporary file a test process makes lives under one folder of its own, removed when the
/// process exits (tests that finish early remove their own folders too), so a run leaves nothing
/// in the system's temporary folder.
public enum Scratch {
    nonisolated(unsafe) private static var rootPath: String?
    private static let lock = NSLock()

    /// `$TMPDIR/tagwatch-tests-PID`, made on first use.
    public static var root: String {
        lock.lock()
        defer { lock.unlock() }
        if let r = rootPath { return r }
        let r = FileManager.default.temporaryDirectory.appendingPathComponent("tagwatch-tests-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: r, withIntermediateDirectories: true)
        rootPath = r
        atexit {
            if let r = Scratch.rootPathForExit { try? FileManager.default.removeItem(atPath: r) }
        }
        return r
    }

    fileprivate static var rootPathForExit: String? { rootPath }

    /// A fresh path under the scratch root (nothing is created).
    public static func path(_ name: String) -> String {
        root + "/\(name)-\(UUID().uuidString.prefix(12))"
    }
}

/// A fresh temporary folder for one test, under `Scratch.root` (removed at exit).
public func temporaryDirectory(_ name: String = "tagwatch-test") throws -> String {
    let dir = Scratch.path(name)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), for a
/// server or a closed port a test needs.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw TestFailure("no free port on 127.0.0.1") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A temporary folder removed as soon as its owner lets go of it (a suite instance, a test).
public final class TempDir: @unchecked Sendable {
    public let path: String
    public init(_ name: String = "tagwatch-test") throws { path = try temporaryDirectory(name) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

// MARK: - Reading a pipe with a deadline

/// Reads lines from a file descriptor on a thread of its own, so callers can wait with a deadline.
final class LineReader: @unchecked Sendable {
    private let lock = NSCondition()
    private var lines: [String] = []
    private var partial = Data()
    private(set) var closed = false

    init(fd: Int32) {
        let thread = Thread { [self] in
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fd, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock()
                partial.append(contentsOf: buf[0..<n])
                while let nl = partial.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: partial[partial.startIndex..<nl], as: UTF8.self))
                    partial = Data(partial[(nl + 1)...])
                }
                lock.broadcast()
                lock.unlock()
            }
            close(fd)
            lock.lock()
            closed = true
            lock.broadcast()
            lock.unlock()
        }
        thread.start()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// Waits until some line satisfies `match`, the stream closes, or `timeout` passes.
    func wait(timeout: Double, for match: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let l = lines.first(where: match) { return l }
            if closed || !lock.wait(until: deadline) { return lines.first(where: match) }
        }
    }
}

// MARK: - The loopback test server

/// The Python loopback HTTP server of `Tests/Fixtures/server`, on 127.0.0.1 and a free port.
/// It reports every request it receives (`REQ <in-flight> <path>`), which tests use as a
/// readiness signal ("the transfer is in flight now") and to count concurrent requests.
public final class TestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process
    private let output: LineReader

    /// `tls`: a certificate and key (PEM) to serve HTTPS with.
    public init(root: String, tls: (cert: String, key: String)? = nil, startTimeout: Double = 30) throws {
        _ = confineNetworkToLoopback
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Repo.path("Tests/Fixtures/server/testserver.py"), "--root", root, "--port", "0", "--log-requests"]
            + (tls.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? [])
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        process = p
        output = LineReader(fd: dup(out.fileHandleForReading.fileDescriptor))
        try? out.fileHandleForReading.close()
        guard let line = output.wait(timeout: startTimeout, for: { $0.hasPrefix("PORT ") }),
              let n = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces)) else {
            p.terminate()
            throw TestFailure("test server did not report its port within \(Int(startTimeout)) s; output: \(output.all)")
        }
        port = n
    }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    public func httpsURL(_ path: String) -> String { "https://127.0.0.1:\(port)\(path)" }

    /// Paths requested so far, in order.
    public var requests: [String] {
        output.all.filter { $0.hasPrefix("REQ ") }.map { String($0.split(separator: " ", maxSplits: 2).last ?? "") }
    }

    /// The most requests that were in flight at once so far.
    public var maxInFlight: Int {
        output.all.filter { $0.hasPrefix("REQ ") }.compactMap { Int($0.split(separator: " ")[1]) }.max() ?? 0
    }

    /// Waits until a request whose path starts with `prefix` has arrived.
    public func waitForRequest(_ prefix: String, timeout: Double) -> Bool {
        output.wait(timeout: timeout) { $0.hasPrefix("REQ ") && $0.split(separator: " ", maxSplits: 2).last?.hasPrefix(prefix) == true } != nil
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

// MARK: - Running the built binary

/// What a run of the built binary printed and how it exited.
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// This one process's peak resident set (from its own `wait4` rusage), in bytes.
    public var peakRSS: Int
}

private let pipeLock = NSLock()

/// A pipe whose ends are closed on exec, so no other child inherits them (and holds them open).
func makePipe() throws -> [Int32] {
    var fds: [Int32] = [0, 0]
    pipeLock.lock()
    defer { pipeLock.unlock() }
    guard pipe(&fds) == 0 else { throw TestFailure("pipe failed: \(errno)") }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fds
}

/// Spawns `executable` with `arguments`; the child starts with no signals blocked or ignored.
func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?, cwd: String?,
           stdoutFD: Int32, stderrFD: Int32, closing: [Int32]) throws -> pid_t {
    _ = confineNetworkToLoopback
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, stdoutFD, 1)
    posix_spawn_file_actions_adddup2(&actions, stderrFD, 2)
    for fd in closing { posix_spawn_file_actions_addclose(&actions, fd) }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    // A working folder is set by the shell, which then becomes the program (exec keeps the pid).
    let argv0 = cwd == nil ? [executable] + arguments : ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd!, executable] + arguments
    let env = environment ?? ProcessInfo.processInfo.environment
    let cArgs = argv0.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    var pid: pid_t = 0
    pipeLock.lock()
    defer { pipeLock.unlock() }
    let rc = posix_spawn(&pid, argv0[0], &actions, &attr, cArgs, cEnv)
    guard rc == 0 else { throw TestFailure("cannot start \(argv0[0]): \(String(cString: strerror(rc)))") }
    return pid
}

/// Runs the built `tagwatch` with `arguments`, collecting its output. A run that has not ended
/// after `timeout` seconds is killed and reported as a failure naming the command.
public func runTagwatch(_ arguments: [String], cwd: String? = nil, environment: [String: String]? = nil,
                        timeout: Double = 300) throws -> RunResult {
    let outPipe = try makePipe(), errPipe = try makePipe()
    let pid: pid_t
    do {
        pid = try spawn(Repo.binary, arguments, environment: environment, cwd: cwd, stdoutFD: outPipe[1], stderrFD: errPipe[1],
                        closing: [outPipe[0], errPipe[0]])
    } catch {
        outPipe.forEach { close($0) }; errPipe.forEach { close($0) }
        throw error
    }
    close(outPipe[1]); close(errPipe[1])
    // Read both pipes while the process runs, so a large output cannot block it.
    let out = PipeCollector(fd: outPipe[0]), err = PipeCollector(fd: errPipe[0])
    var status: Int32 = 0
    var usage = rusage()
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while true {
        let r = wait4(pid, &status, WNOHANG, &usage)
        if r == pid { break }
        if r < 0 && errno != EINTR { throw TestFailure("wait4 failed: \(errno)") }
        if Date() > deadline && !timedOut {
            timedOut = true
            kill(pid, SIGKILL)
        }
        usleep(5_000)
    }
    let stdout = out.finish(), stderr = err.finish()
    let command = "tagwatch " + arguments.joined(separator: " ")
    if timedOut {
        throw TestFailure("\(command) did not finish within \(Int(timeout)) s and was killed; stderr: \(stderr.suffix(2000))")
    }
    // Exit code as a shell reports it: the code, or 128 + the signal that ended it.
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return RunResult(status: code, stdout: stdout, stderr: stderr, peakRSS: usage.ru_maxrss * 1024)
}

/// Collects everything written to a pipe, on a thread of its own.
final class PipeCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32) {
        let thread = Thread { [self] in
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fd, &buf, buf.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                data.append(contentsOf: buf[0..<n])
            }
            close(fd)
            done.signal()
        }
        thread.start()
    }

    func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs a helper program (python3, openssl, …) to completion; a hang past `timeout` is a failure.
@discardableResult
public func runProgram(_ arguments: [String], timeout: Double = 120) throws -> RunResult {
    let outPipe = try makePipe(), errPipe = try makePipe()
    let pid = try spawn("/usr/bin/env", arguments, environment: nil, cwd: nil, stdoutFD: outPipe[1], stderrFD: errPipe[1],
                        closing: [outPipe[0], errPipe[0]])
    close(outPipe[1]); close(errPipe[1])
    let out = PipeCollector(fd: outPipe[0]), err = PipeCollector(fd: errPipe[0])
    var status: Int32 = 0
    var usage = rusage()
    let deadline = Date().addingTimeInterval(timeout)
    var timedOut = false
    while wait4(pid, &status, WNOHANG, &usage) != pid {
        if Date() > deadline && !timedOut { timedOut = true; kill(pid, SIGKILL) }
        usleep(5_000)
    }
    let o = out.finish(), e = err.finish()
    if timedOut { throw TestFailure("\(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s; stderr: \(e)") }
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return RunResult(status: code, stdout: o, stderr: e, peakRSS: usage.ru_maxrss * 1024)
}

/// Runs SQL on a state database with Python's sqlite3 (an independent reader); returns rows as text.
/// The state's resources, each with `seen_scan`: the last scan that saw it. A page found
/// unchanged records that sighting once, in `pages.resources_scan`, for its current resources
/// (schema step 8), so a test asks this rather than `resources.last_scan` alone.
public let resourcesSeen = """
    (SELECT r.*, CASE WHEN p.resources_scan IS NOT NULL
                       AND r.last_scan = (SELECT MAX(r2.last_scan) FROM resources r2 WHERE r2.page = r.page)
                      THEN p.resources_scan ELSE r.last_scan END AS seen_scan
     FROM resources r LEFT JOIN pages p ON p.url = r.page)
    """

/// The state's page_scripts rows, each with `seen_at` and `seen_scan`: when a cycle last wrote or
/// saw it. A page found unchanged with the same script rows records that sighting once, in
/// `pages.scripts_seen` and `pages.scripts_scan`, for its current rows (schema step 9).
public let pageScriptsSeen = """
    (SELECT s.*, CASE WHEN p.scripts_scan IS NOT NULL AND s.last_scan = m.latest THEN p.scripts_seen ELSE s.last_seen END AS seen_at,
                 CASE WHEN p.scripts_scan IS NOT NULL AND s.last_scan = m.latest THEN p.scripts_scan ELSE s.last_scan END AS seen_scan
     FROM page_scripts s LEFT JOIN pages p ON p.url = s.page
     JOIN (SELECT page, MAX(last_scan) AS latest FROM page_scripts GROUP BY page) m ON m.page = s.page)
    """

public func sqlite(_ database: String, _ sql: String) throws -> [String] {
    let r = try runProgram(["python3", "-c", """
        import sqlite3, sys
        c = sqlite3.connect(sys.argv[1])
        for row in c.execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in row))
        c.commit()
        """, database, sql])
    guard r.status == 0 else { throw TestFailure("sqlite \(sql): \(r.stderr)") }
    return r.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

// MARK: - systemd's notify socket

/// A `$NOTIFY_SOCKET` listener standing in for systemd (which is not PID 1 here).
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init() throws {
        path = Scratch.path("notify")
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw TestFailure("socket path too long: \(path)") }
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

    /// Waits up to `timeout` seconds for a datagram containing `text` (or one already received); returns it.
    public func waitFor(_ text: String, after seen: Int = 0, timeout: Double) -> String? {
        if let m = received.dropFirst(seen).first(where: { $0.contains(text) }) { return m }
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

// MARK: - The daemon as a process

/// A long-running `tagwatch` process with its stderr collected in a file, for signal tests.
/// A process still running when the test lets go of it is killed; its log file is removed.
public final class DaemonProcess: @unchecked Sendable {
    public let pid: pid_t
    public let stderrPath: String
    private var exitStatus: Int32?

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        _ = confineNetworkToLoopback
        stderrPath = Scratch.path("daemon") + ".log"
        let fd = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestFailure("cannot create \(stderrPath)") }
        defer { close(fd) }
        let devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(devnull) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        pid = try spawn(Repo.binary, arguments, environment: env, cwd: nil, stdoutFD: devnull, stderrFD: fd, closing: [])
    }

    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { reap(); return exitStatus == nil }

    public func signal(_ sig: Int32) { if isRunning { kill(pid, sig) } }

    private func reap() {
        guard exitStatus == nil else { return }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    /// Waits until stderr contains `text` `count` times (or the process exits, or the timeout passes).
    @discardableResult
    public func waitForLog(_ text: String, count: Int = 1, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if occurrences(text) >= count { return true }
            if !isRunning { return occurrences(text) >= count }
            usleep(20_000)
        }
        return false
    }

    public func occurrences(_ text: String) -> Int { stderr.components(separatedBy: text).count - 1 }

    /// Waits for exit; nil if it is still running after `timeout` seconds. The code is the exit
    /// status, or 128 + the signal that ended the process.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(10_000) }
        return exitStatus
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        unlink(stderrPath)
    }
}

/// A TCP listener on 127.0.0.1 that accepts nothing: a test can check that nobody connected.
public final class IdleListener: @unchecked Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        guard rc == 0, listen(fd, 8) == 0 else { throw TestFailure("cannot listen on 127.0.0.1") }
    }

    /// How many connections arrived (and are accepted and closed now).
    public func connectionsSoFar() -> Int {
        var n = 0
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { return n }
            close(c)
            n += 1
        }
    }

    deinit { close(fd) }
}

/// The state's schema as the first release wrote it (schema 1), frozen here so migration tests
/// build an old state file with the SQL of that release, whatever Store.swift says today.
public enum StateFixtures {
    public static let schemaOne = """
        CREATE TABLE scans(id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT NOT NULL,
                           pages INTEGER NOT NULL, failed INTEGER NOT NULL, resources INTEGER NOT NULL);
        CREATE TABLE pages(url TEXT PRIMARY KEY, target TEXT NOT NULL, labels TEXT NOT NULL, first_seen TEXT NOT NULL,
                           last_scan INTEGER, last_status INTEGER, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE resources(page TEXT NOT NULL, url TEXT NOT NULL, kind TEXT NOT NULL, host TEXT NOT NULL,
                           party TEXT NOT NULL, vendor_id TEXT, vendor_name TEXT, company TEXT, category TEXT,
                           tag_ids TEXT NOT NULL, integrity TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                           last_scan INTEGER NOT NULL, PRIMARY KEY(page, url, kind));
        CREATE TABLE alerts(id TEXT PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL, page TEXT NOT NULL,
                           subject TEXT NOT NULL, vendor_id TEXT, vendor_name TEXT, company TEXT, category TEXT,
                           resource_url TEXT, message TEXT NOT NULL, first_seen TEXT NOT NULL, state TEXT NOT NULL,
                           raised_at TEXT NOT NULL, resolved_at TEXT);
        CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES alerts(id),
                           event TEXT NOT NULL, at TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX alerts_state ON alerts(state);
        CREATE INDEX events_undelivered ON events(delivered) WHERE delivered = 0;
        PRAGMA user_version = 1;
        """
}
