import CPSL
import Foundation

/// Wappalyzer's technologies.json, either the old single file `{"technologies": {...}, "categories": {...}}`
/// or a plain `{"Name": {...}}` object (then the category names come from a `categories.json`
/// beside it, when there is one). Hosts are read out of the `scriptSrc` regular expressions.
enum WappalyzerImporter {
    static let categoryMap = [
        "Analytics": "analytics", "Advertising": "advertising", "Retargeting": "advertising",
        "Tag managers": "tag-manager", "Live chat": "support-chat", "Payment processors": "payments",
        "Buy now pay later": "payments", "Font scripts": "fonts", "CDN": "cdn", "Cookie compliance": "consent",
        "A/B Testing": "a-b-testing", "Feature management": "a-b-testing", "Video players": "video",
        "Marketing automation": "marketing-automation", "Email": "marketing-automation",
        "Customer data platform": "customer-data-platform", "Heatmaps": "session-replay",
        "Session replay": "session-replay", "Comment systems": "comments", "Maps": "maps",
        "Search engines": "search", "Reviews": "reviews", "Affiliate programs": "affiliate",
        "Accessibility": "accessibility", "Personalization": "personalization", "Security": "security",
    ]

    static func read(path: String, skipped: inout [ImportSkip]) throws -> [ImportCandidate] {
        guard let root = try readJSONFile(path) as? [String: Any] else {
            throw SourceError(file: path, line: nil, "not a Wappalyzer technologies.json: expected an object of technologies")
        }
        let technologies: [String: Any]
        var categories: [String: Any] = [:]
        if let techs = root["technologies"] as? [String: Any] {
            technologies = techs
            categories = root["categories"] as? [String: Any] ?? [:]
        } else {
            technologies = root
            let beside = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("categories.json")
            if FileManager.default.fileExists(atPath: beside) {
                guard let c = try readJSONFile(beside) as? [String: Any] else {
                    throw SourceError(file: beside, line: nil, "not a Wappalyzer categories.json: expected an object of categories")
                }
                categories = c
            }
        }
        for (name, value) in technologies where !(value is [String: Any]) {
            throw SourceError(file: path, line: nil, "not a Wappalyzer technologies.json: technology \"\(name)\" is not an object")
        }

        var candidates: [ImportCandidate] = []
        for name in technologies.keys.sorted() {
            let tech = technologies[name] as! [String: Any]
            let sources: [String]
            switch tech["scriptSrc"] {
            case let s as String: sources = [s]
            case let list as [Any]: sources = list.compactMap { $0 as? String }
            default:
                skipped.append(ImportSkip(item: name, reason: "no scriptSrc"))
                continue
            }
            var hosts: [String] = []
            var patterns: [String] = []
            for source in sources {
                for (host, dir) in ScriptSrcReader.hosts(in: source) {
                    if let dir {
                        if !patterns.contains(host + dir) { patterns.append(host + dir) }
                    } else if !hosts.contains(host) {
                        hosts.append(host)
                    }
                }
            }
            if hosts.isEmpty && patterns.isEmpty {
                skipped.append(ImportSkip(item: name, reason: "no host in scriptSrc"))
                continue
            }
            let cats = (tech["cats"] as? [Any] ?? []).map { "\($0)" }
            let category = cats.lazy.compactMap { categoryName(categories[$0]) }.compactMap { categoryMap[$0] }.first ?? "other"
            // Wappalyzer names no parent company: the technology stands for itself.
            candidates.append(ImportCandidate(name: name, company: name, category: category,
                                              website: trimmedString(tech["website"]), hosts: hosts, patterns: patterns))
        }
        return candidates
    }

    /// `{"name": "Analytics", ...}` in current files, a bare `"Analytics"` in old ones.
    static func categoryName(_ value: Any?) -> String? {
        if let s = value as? String { return s }
        return (value as? [String: Any])?["name"] as? String
    }
}

/// Reads literal hosts out of a Wappalyzer `scriptSrc` regular expression.
///
/// Groups of literal alternatives are expanded first (`adnxs\.(?:net|com)` is read as both
/// `adnxs\.net` and `adnxs\.com`). Then the expression is cut into literal characters and opaque
/// parts (classes, `.`, `\d`, optional characters). A run of host characters is a host when it
/// starts where a host can start (the beginning, `//`, a group or alternative, or `\.` after a
/// wildcard) and ends where one ends (`/`, `:`, `?`, the end), and its last label is a real
/// top-level domain, so `jquery\.min\.js` is not taken for a host. The literal path after the
/// host, cut at its last `/`, makes a `host/path/` pattern when it is more than `/`; a shared
/// suffix such as `s3.amazonaws.com` is only taken with such a path.
enum ScriptSrcReader {
    enum Token: Equatable {
        case lit(Character)
        case start  // ^ or (
        case alt  // |
        case close(boundary: Bool)  // ) of a group whose text ends in "." or "/"
        case optionalSeparator  // \.? or /? : a host may start after it
        case end  // $
        case opaque
    }

    static func tokens(_ regex: String) -> [Token] {
        let chars = Array(regex)
        var out: [Token] = []
        var i = 0
        func optionalLast() {
            if out.last == .lit(".") || out.last == .lit("/") {
                out[out.count - 1] = .optionalSeparator
            } else if case .lit = out.last {
                out[out.count - 1] = .opaque
            }
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\\":
                if i + 1 < chars.count {
                    let e = chars[i + 1]
                    out.append(e.isLetter || e.isNumber ? .opaque : .lit(e))
                }
                i += 2
                continue
            case "[":
                var j = i + 1
                if j < chars.count, chars[j] == "^" { j += 1 }
                if j < chars.count, chars[j] == "]" { j += 1 }
                while j < chars.count, chars[j] != "]" { j += chars[j] == "\\" ? 2 : 1 }
                out.append(.opaque)
                i = j + 1
                continue
            case "(":
                out.append(.start)
                i += 1
                if i < chars.count, chars[i] == "?" {
                    i += 1
                    if i < chars.count, chars[i] == "<", i + 1 < chars.count, chars[i + 1] != "=", chars[i + 1] != "!" {
                        while i < chars.count, chars[i] != ">" { i += 1 }
                    } else if i < chars.count, chars[i] == "<" {
                        i += 1
                    }
                    i += 1
                }
                continue
            case ")":
                out.append(.close(boundary: out.last == .lit(".") || out.last == .lit("/")))
            case "|": out.append(.alt)
            case "^": out.append(.start)
            case "$": out.append(.end)
            case "?", "*": optionalLast()
            case "+": if case .lit = out.last { out.append(.opaque) }
            case "{":
                while i < chars.count, chars[i] != "}" { i += 1 }
                optionalLast()
            case ".":
                // An unescaped dot between host characters still matches the dot of a host.
                if i + 1 < chars.count, isHostChar(chars[i + 1]), case .lit(let p) = out.last, isHostChar(p), p != "." {
                    out.append(.lit("."))
                } else {
                    out.append(.opaque)
                }
            default:
                out.append(.lit(Character(c.lowercased())))
            }
            i += 1
        }
        return out
    }

    static func isHostChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-")
    }

    static func isHostLit(_ t: Token) -> Bool {
        if case .lit(let c) = t { return isHostChar(c) }
        return false
    }

    /// The hosts of `regex` (Wappalyzer's `\;version:\1` suffix ignored), each with the literal
    /// directory prefix that follows it, if any.
    static func hosts(in regex: String) -> [(host: String, dir: String?)] {
        let expression = regex.components(separatedBy: "\\;").first ?? regex
        var found: [(host: String, dir: String?)] = []
        for variant in expandAlternatives(expression) {
            for h in hosts(inExpanded: variant) where !found.contains(where: { $0 == h }) {
                found.append(h)
            }
        }
        return found
    }

    /// `expression` with its groups of literal alternatives written out, each variant once;
    /// `expression` alone when that would give more than `limit` variants.
    static func expandAlternatives(_ expression: String, limit: Int = 32) -> [String] {
        var variants = [expression]
        var done: [String] = []
        while let v = variants.popLast() {
            guard let (range, options) = firstLiteralGroup(in: v) else {
                if !done.contains(v) { done.append(v) }
                continue
            }
            variants += options.map { v.replacingCharacters(in: range, with: $0) }
            if variants.count + done.count > limit { return [expression] }
        }
        return done.reversed()
    }

    /// The first group (with the `?` after it, if any) whose alternatives are all literal text,
    /// and those alternatives ("" too when the group is optional).
    static func firstLiteralGroup(in s: String) -> (Range<String.Index>, [String])? {
        var opens: [String.Index] = []
        var i = s.startIndex
        while i < s.endIndex {
            switch s[i] {
            case "\\":
                i = s.index(after: i)
                if i == s.endIndex { return nil }
            case "[":
                while i < s.endIndex, s[i] != "]" {
                    if s[i] == "\\" { i = s.index(after: i) }
                    if i < s.endIndex { i = s.index(after: i) }
                }
                if i == s.endIndex { return nil }
            case "(":
                opens.append(i)
            case ")":
                guard let open = opens.popLast() else { break }
                var body = s[s.index(after: open)..<i]
                if body.hasPrefix("?:") { body = body.dropFirst(2) }
                var end = s.index(after: i)
                let optional = end < s.endIndex && s[end] == "?"
                if optional { end = s.index(after: end) }
                let options = body.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                if options.allSatisfy(isLiteralText) {
                    return (open..<end, optional ? options + [""] : options)
                }
            default:
                break
            }
            i = s.index(after: i)
        }
        return nil
    }

    /// Letters, digits, `-`, `/`, `_` and escaped `.` `-` `/` only.
    static func isLiteralText(_ s: String) -> Bool {
        var escaped = false
        for c in s {
            if escaped {
                guard c == "." || c == "-" || c == "/" else { return false }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if !(c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "/" || c == "_")) {
                return false
            }
        }
        return !escaped
    }

    /// The hosts of an expression without literal alternatives left.
    static func hosts(inExpanded expression: String) -> [(host: String, dir: String?)] {
        let t = tokens(expression)
        var found: [(String, String?)] = []
        var i = 0
        while i < t.count {
            guard isHostLit(t[i]) else { i += 1; continue }
            let start = i
            var run = ""
            while i < t.count, case .lit(let c) = t[i], isHostChar(c) {
                run.append(c)
                i += 1
            }
            let j = i  // just after the run
            let before: Token? = start > 0 ? t[start - 1] : nil
            let startsOK = before == nil || before == .start || before == .alt || before == .close(boundary: true)
                || before == .optionalSeparator
                || (start >= 2 && t[start - 1] == .lit("/") && t[start - 2] == .lit("/")) || run.hasPrefix(".")
            let after: Token? = j < t.count ? t[j] : nil
            let endsOK: Bool
            switch after {
            case nil, .end, .alt, .close: endsOK = true
            case .lit(let c): endsOK = "/:?#".contains(c)
            default: endsOK = false
            }
            guard startsOK, endsOK, !run.hasSuffix("."), let host = CatalogImporter.normalisedHost(run),
                  KnownSuffixes.shared.hasKnownTLD(host) else { continue }
            // The literal path that follows, up to its last "/".
            var path = ""
            var k = j
            while k < t.count, case .lit(let c) = t[k] {
                path.append(c)
                k += 1
            }
            var dir: String?
            if path.hasPrefix("/"), let last = path.lastIndex(of: "/") {
                let prefix = String(path[...last])
                let urlSafe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@%/")
                if prefix.count > 1, prefix.unicodeScalars.allSatisfy({ urlSafe.contains($0) }) { dir = prefix }
            }
            // Nobody owns a shared suffix as a whole: only a path under it (a bucket) can be a vendor's.
            if KnownSuffixes.shared.isSharedSuffix(host) && dir == nil { continue }
            found.append((host, dir))
        }
        return found
    }
}

/// The Public Suffix List without its "*" default rule, to tell a host (`cdn.example.com`)
/// from a file name (`jquery.min.js`) and from a shared suffix (`appspot.com`).
final class KnownSuffixes: @unchecked Sendable {
    // psl_ctx_t is read-only after loading, which libpsl documents as safe across threads.
    private let ctx: OpaquePointer

    static let shared = KnownSuffixes()

    private init() {
        ctx = psl_latest(nil) ?? psl_builtin()
    }

    /// True when the last label of `host` is an ICANN top-level domain.
    func hasKnownTLD(_ host: String) -> Bool {
        guard let dot = host.lastIndex(of: ".") else { return false }
        let tld = String(host[host.index(after: dot)...])
        return tld.withCString { psl_is_public_suffix2(ctx, $0, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) } != 0
    }

    /// True when `host` is itself a public suffix (`appspot.com`, `s3.amazonaws.com`).
    func isSharedSuffix(_ host: String) -> Bool {
        host.withCString { psl_is_public_suffix2(ctx, $0, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) } != 0
    }
}
