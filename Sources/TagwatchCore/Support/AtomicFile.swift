import Foundation

/// Replaces a file whole (temporary file, fsync, rename), so a reader never sees half of it.
/// Mode 0640 whatever the umask: the people who read the feed, report and log are the owner's
/// group (see systemd/tagwatch.service's Group= and the README).
public enum AtomicFile {
    public static let readableMode: mode_t = 0o640

    /// `mode`: the file's mode whatever the umask (default 0640; a public feed asks for 0644).
    public static func write(_ text: String, to path: String, what: String, mode: mode_t = readableMode) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSourceError("cannot write \(what) \(tmp): \("\(String(cString: strerror(errno))) (errno \(errno))")") }
        var failure: String?
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = "\(String(cString: strerror(errno))) (errno \(errno))"
                break
            }
            bytes = bytes.dropFirst(n)
        }
        if failure == nil && fchmod(fd, mode) != 0 { failure = "\(String(cString: strerror(errno))) (errno \(errno))" }
        if failure == nil && fsync(fd) != 0 { failure = "\(String(cString: strerror(errno))) (errno \(errno))" }
        close(fd)
        if let failure {
            unlink(tmp)
            throw FileSourceError("cannot write \(what) \(tmp): \(failure)")
        }
        guard rename(tmp, path) == 0 else {
            let msg = "\(String(cString: strerror(errno))) (errno \(errno))"
            unlink(tmp)
            throw FileSourceError("cannot replace \(what) \(path): \(msg)")
        }
    }
}
