import CZlib
import Foundation

/// Reads saved pages from disk (plain or gzip-compressed) and lists the pages of a built site.
public enum FileSource {
    /// The bytes of `path`, inflated when the file is gzip-compressed. Only regular files are
    /// read: a FIFO, socket or device (a FIFO named `page.html` in a scanned folder) is an error,
    /// not a read that never ends.
    public static func read(_ path: String, maxBytes: Int) throws -> [UInt8] {
        // O_NONBLOCK: opening a FIFO with no writer would otherwise block forever.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT { throw FileSourceError("no such file: \(path)") }
            throw FileSourceError("cannot open \(path): \(String(cString: strerror(e)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw FileSourceError("cannot read \(path): \(String(cString: strerror(e)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let kind: String
            switch st.st_mode & S_IFMT {
            case S_IFDIR: kind = "a folder"
            case S_IFIFO: kind = "a FIFO"
            case S_IFSOCK: kind = "a socket"
            case S_IFCHR, S_IFBLK: kind = "a device"
            default: kind = "not a regular file"
            }
            throw FileSourceError("\(path) is \(kind); only regular files are read")
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        defer { try? handle.close() }
        var bytes = [UInt8]((try? handle.read(upToCount: maxBytes + 1)) ?? Data())
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
            let rest = try? handle.readToEnd()
            if let rest { bytes.append(contentsOf: rest) }
            bytes = try gunzip(bytes, maxBytes: maxBytes, path: path)
        }
        if bytes.count > maxBytes {
            throw FileSourceError("\(path) is larger than the limit of \(maxBytes) bytes")
        }
        return bytes
    }

    static func gunzip(_ input: [UInt8], maxBytes: Int, path: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FileSourceError("cannot inflate \(path): zlib failed to start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var input = input
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR {
                    throw FileSourceError("\(path) is not a valid gzip file (zlib error \(status))")
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > maxBytes {
                    throw FileSourceError("\(path) inflates to more than the limit of \(maxBytes) bytes")
                }
                if produced == 0 && status == Z_BUF_ERROR { break }
            } while status != Z_STREAM_END
        }
        if status != Z_STREAM_END {
            throw FileSourceError("\(path) is a truncated gzip file")
        }
        return output
    }

    /// The HTML files under `directory`, sorted, as paths relative to it.
    public static func htmlFiles(in directory: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let f = e.nextObject() as? String {
            let lower = f.lowercased()
            if lower.hasSuffix(".html") || lower.hasSuffix(".htm") || lower.hasSuffix(".html.gz") {
                files.append(f)
            }
        }
        return files.sorted()
    }

    /// The URL a built file will be served at: `base` + relative path, `index.html` as its folder.
    public static func servedURL(base: String, relativePath: String) -> String {
        var rel = relativePath
        if rel.hasSuffix(".gz") { rel = String(rel.dropLast(3)) }
        if rel == "index.html" { rel = "" } else if rel.hasSuffix("/index.html") { rel = String(rel.dropLast("index.html".count)) }
        let b = base.hasSuffix("/") ? base : base + "/"
        return b + rel
    }
}

public struct FileSourceError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
