import Foundation

/// One daemon per state file: an exclusive `flock` on `STATE.lock` beside the state, held for
/// the life of the process (the kernel drops it when the process dies, however it dies). The
/// holder's PID is written into the lock file so the one refused can name it.
public final class StateLock: Sendable {
    public let path: String
    private let fd: Int32

    public struct Held: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Takes the lock for `statePath`, or throws `Held` naming the PID that has it.
    public init(statePath: String) throws {
        path = statePath + ".lock"
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else {
            let e = errno
            throw Held(description: "cannot open the state lock \(path): \(String(cString: strerror(e))) (errno \(e))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, buf.count, 0)
            close(fd)
            let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            if e == EWOULDBLOCK {
                let who = Int(holder).map { "tagwatch (PID \($0))" } ?? "another process"
                throw Held(description: "\(who) already runs on the state \(statePath) (it holds \(path)); one daemon per state file")
            }
            throw Held(description: "cannot lock \(path): \(String(cString: strerror(e))) (errno \(e))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { close(fd) }
}
