/// Escaping for text that goes into HTML: everything a page or a vendor controls passes here.
public enum HTML {
    /// Escapes `& < > " '` so the text can stand in element content and in quoted attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// A link when the URL is http(s), plain escaped text otherwise (no `javascript:` hrefs).
    public static func link(_ url: String, text: String? = nil) -> String {
        let l = url.lowercased()
        guard l.hasPrefix("http://") || l.hasPrefix("https://") else { return escape(text ?? url) }
        return "<a href=\"\(escape(url))\">\(escape(text ?? url))</a>"
    }
}
