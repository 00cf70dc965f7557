import Foundation

/// A `data:` URL's media type and bytes (RFC 2397 as the Fetch standard reads it). A page can
/// put a whole document in one (`<iframe src="data:text/html,…">`, `<object data="data:image/svg+xml;base64,…">`)
/// or a script (`<script src="data:text/javascript,…">`); what loads from inside is the page's.
enum DataURL {
    static func decode(_ url: String) -> (mediaType: String, body: [UInt8])? {
        var bytes = Array(url.utf8)
        bytes.removeAll { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var start = 0
        while start < bytes.count && bytes[start] <= 0x20 { start += 1 }
        guard bytes.count - start >= 5, String(decoding: bytes[start..<(start + 5)], as: UTF8.self).lowercased() == "data:" else { return nil }
        guard let comma = bytes[(start + 5)...].firstIndex(of: 0x2C) else { return nil }
        var header = String(decoding: bytes[(start + 5)..<comma], as: UTF8.self).lowercased().trimmingCharacters(in: .whitespaces)
        var base64 = false
        if header.hasSuffix("base64"), let semi = header.lastIndex(of: ";"),
           header[header.index(after: semi)...].trimmingCharacters(in: .whitespaces) == "base64" {
            base64 = true
            header = String(header[..<semi])
        }
        let mediaType = header.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let payload = HostParser.percentDecode(Array(bytes[(comma + 1)...]))
        if !base64 { return (mediaType.isEmpty ? "text/plain" : mediaType, payload) }
        var b64 = String(decoding: payload.filter { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0C || $0 == 0x0D) }, as: UTF8.self)
        while b64.hasSuffix("=") { b64.removeLast() }
        let padded = b64 + String(repeating: "=", count: (4 - b64.count % 4) % 4)
        guard let data = Data(base64Encoded: padded) else { return nil }
        return (mediaType.isEmpty ? "text/plain" : mediaType, [UInt8](data))
    }

    /// Whether a frame or object shows this media type as a document whose scripts run.
    static func isDocument(_ mediaType: String) -> Bool {
        mediaType.contains("html") || mediaType.contains("svg") || mediaType.contains("xml")
    }
}
