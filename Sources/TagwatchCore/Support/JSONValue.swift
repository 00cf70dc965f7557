/// A JSON value with ordered object keys, so output reads the same on every run.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

    public static func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    public static func num(_ i: Int?) -> JSONValue { i.map { .int($0) } ?? .null }

    /// Compact JSON, or indented with two spaces when `pretty`.
    public func serialized(pretty: Bool = false, indent: Int = 0) -> String {
        var out: [UInt8] = []
        write(into: &out, pretty: pretty, indent: indent)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON text's UTF-8 bytes to `out`: built on bytes, not through String
    /// appends (serializing through String.unicodeScalars was 14 % of a 1,000-page JSON scan).
    public func write(into out: inout [UInt8], pretty: Bool = false, indent: Int = 0) {
        switch self {
        case .null: out.append(contentsOf: JSONValue.nullBytes)
        case .bool(let b): out.append(contentsOf: b ? JSONValue.trueBytes : JSONValue.falseBytes)
        case .int(let i): JSONValue.writeInt(i, into: &out)
        case .string(let s): JSONValue.escape(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append(0x5B); out.append(0x5D); return }
            out.append(0x5B)
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(0x2C) }
                if pretty { JSONValue.newline(indent + 1, into: &out) }
                item.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSONValue.newline(indent, into: &out) }
            out.append(0x5D)
        case .object(let pairs):
            if pairs.isEmpty { out.append(0x7B); out.append(0x7D); return }
            out.append(0x7B)
            for (n, (k, v)) in pairs.enumerated() {
                if n > 0 { out.append(0x2C) }
                if pretty { JSONValue.newline(indent + 1, into: &out) }
                JSONValue.escape(k, into: &out)
                out.append(0x3A)
                if pretty { out.append(0x20) }
                v.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSONValue.newline(indent, into: &out) }
            out.append(0x7D)
        }
    }

    private static let nullBytes = Array("null".utf8), trueBytes = Array("true".utf8), falseBytes = Array("false".utf8)

    /// A line break and two spaces per level, copied from one buffer rather than a byte at a time.
    private static let lineBreak: [UInt8] = [0x0A] + [UInt8](repeating: 0x20, count: 64)

    private static func newline(_ level: Int, into out: inout [UInt8]) {
        let n = 1 + 2 * level
        if n <= lineBreak.count {
            out.append(contentsOf: lineBreak[..<n])
        } else {
            out.append(contentsOf: lineBreak)
            for _ in lineBreak.count..<n { out.append(0x20) }
        }
    }

    private static func writeInt(_ i: Int, into out: inout [UInt8]) {
        if i >= 0 && i < 10 { out.append(0x30 + UInt8(i)); return }
        out.append(contentsOf: String(i).utf8)
    }

    /// Bytes that end a run copied as is: `"`, `\`, C0 controls and DEL, and the lead bytes of
    /// the escaped non-ASCII characters (0xC2: C1 controls with NEL; 0xE2: U+2028 and U+2029).
    private static let stops: [Bool] = (0..<256).map { b in
        b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xC2 || b == 0xE2
    }

    /// `s` as a JSON string. Control characters (C0, DEL, C1 with NEL) and the Unicode line and
    /// paragraph separators are escaped, so a JSON line stays one line for every reader.
    /// Works on the UTF-8 bytes: runs that need no escape are copied whole.
    static func escape(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        if s.utf8.withContiguousStorageIfAvailable({ escape(bytes: $0, into: &out) }) == nil {
            Array(s.utf8).withUnsafeBufferPointer { escape(bytes: $0, into: &out) }
        }
        out.append(0x22)
    }

    private static func escape(bytes p: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let n = p.count
        var runStart = 0
        var i = 0
        stops.withUnsafeBufferPointer { stop in
            while i < n {
                let b = p[i]
                if !stop[Int(b)] { i += 1; continue }
                // Is it one of the escaped characters, and how many bytes is it?
                var escaped: UInt32?
                var width = 1
                switch b {
                case 0x22, 0x5C, 0x7F: escaped = UInt32(b)
                case 0xC2:
                    if i + 1 < n, p[i + 1] >= 0x80, p[i + 1] <= 0x9F { escaped = UInt32(p[i + 1]); width = 2 }
                case 0xE2:
                    if i + 2 < n, p[i + 1] == 0x80, p[i + 2] == 0xA8 || p[i + 2] == 0xA9 {
                        escaped = 0x2000 + UInt32(p[i + 2]) - 0x80; width = 3
                    }
                default: escaped = UInt32(b)  // a C0 control
                }
                guard let u = escaped else { i += 1; continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[runStart..<i])) }
                out.append(0x5C)
                switch u {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(0x6E)
                case 0x0D: out.append(0x72)
                case 0x09: out.append(0x74)
                default:
                    out.append(0x75)
                    for shift in stride(from: 12, through: 0, by: -4) {
                        let d = UInt8((u >> UInt32(shift)) & 0xF)
                        out.append(d < 10 ? 0x30 + d : 0x61 + d - 10)
                    }
                }
                i += width
                runStart = i
            }
        }
        if runStart < n { out.append(contentsOf: UnsafeBufferPointer(rebasing: p[runStart..<n])) }
    }
}
