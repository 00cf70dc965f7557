import Foundation

/// A page's Content-Security-Policy, parsed as browsers read it (CSP Level 3), so tagwatch can
/// say what the policy lets through that the registry does not, and what it would block.
/// Several policies (several headers, or one joined by commas) are all enforced: a load must
/// pass every one.
public struct ContentSecurityPolicy: Sendable {
    /// One policy: directive name (lowercased) -> its source expressions.
    public var policies: [[String: [String]]]

    public init(header: String) {
        policies = header.split(separator: ",").map { policy in
            var directives: [String: [String]] = [:]
            for directive in policy.split(separator: ";") {
                let tokens = directive.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
                guard let name = tokens.first?.lowercased(), directives[name] == nil else { continue }  // the first wins
                directives[name] = Array(tokens.dropFirst())
            }
            return directives
        }.filter { !$0.isEmpty }
    }

    /// The directive that governs a load of `kind`, with CSP's fallbacks.
    static func fallbacks(for directive: String) -> [String] {
        switch directive {
        case "script-src": return ["script-src-elem", "script-src", "default-src"]
        case "img-src": return ["img-src", "default-src"]
        case "frame-src": return ["frame-src", "child-src", "default-src"]
        case "connect-src": return ["connect-src", "default-src"]
        case "style-src": return ["style-src-elem", "style-src", "default-src"]
        default: return [directive, "default-src"]
        }
    }

    static func directive(for kind: ResourceKind) -> String? {
        switch kind {
        case .script, .inlineScript: return "script-src"
        case .img, .noscriptImg: return "img-src"
        case .iframe: return "frame-src"
        case .object: return "object-src"
        case .link: return "style-src"
        case .form: return nil
        }
    }

    /// The source list that governs `directive` in one policy, or nil when none does (allowed).
    static func sources(_ policy: [String: [String]], _ directive: String) -> [String]? {
        for name in fallbacks(for: directive) { if let s = policy[name] { return s } }
        return nil
    }

    /// Whether every policy allows loading `url` under `directive` from a page at `pageURL`.
    /// nil when a policy uses `'strict-dynamic'` for scripts (hosts are then ignored by browsers,
    /// so whether a load passes depends on what loads it).
    public func allows(_ url: String, directive: String, pageURL: String) -> Bool? {
        for p in policies {
            guard let list = Self.sources(p, directive) else { continue }
            if directive == "script-src" && list.contains("'strict-dynamic'") { return nil }
            if !list.contains(where: { Self.matches($0, url: url, pageURL: pageURL) }) { return false }
        }
        return true
    }

    /// Source expressions in `script-src` (or its fallback) that let any script run: a wildcard,
    /// a bare scheme, `data:`, or `'unsafe-inline'` with no nonce or hash beside it.
    public var weakScriptSources: [String] {
        var weak: [String] = []
        for p in policies {
            guard let list = Self.sources(p, "script-src") else {
                weak.append("no script-src or default-src")
                continue
            }
            let hasNonceOrHash = list.contains { $0.hasPrefix("'nonce-") || $0.hasPrefix("'sha256-") || $0.hasPrefix("'sha384-") || $0.hasPrefix("'sha512-") }
            for s in list {
                let l = s.lowercased()
                if l == "*" || l == "data:" || l == "http:" || l == "https:" || l == "blob:" { weak.append(s) }
                if l == "'unsafe-inline'" && !hasNonceOrHash { weak.append(s) }
                if l == "'unsafe-eval'" { weak.append(s) }
            }
        }
        var unique: [String] = []
        for w in weak where !unique.contains(w) { unique.append(w) }
        return unique
    }

    /// The hosts named in `script-src` (or its fallback), as written.
    public var scriptHosts: [String] {
        var hosts: [String] = []
        for p in policies {
            for s in Self.sources(p, "script-src") ?? [] where !s.hasPrefix("'") && !s.hasSuffix(":") && s != "*" {
                var h = Substring(s)
                if let r = h.range(of: "://") { h = h[r.upperBound...] }
                h = h.prefix { $0 != "/" && $0 != ":" }
                if !h.isEmpty && !hosts.contains(String(h)) { hosts.append(String(h).lowercased()) }
            }
        }
        return hosts
    }

    /// CSP source-expression matching (https://www.w3.org/TR/CSP3/#match-url-to-source-expression).
    static func matches(_ source: String, url: String, pageURL: String) -> Bool {
        let s = source.lowercased()
        guard let (host, path) = URLResolver.hostAndPath(url) else { return false }
        let scheme = url.prefix { $0 != ":" }.lowercased()
        if s == "*" { return scheme == "http" || scheme == "https" || scheme == "ws" || scheme == "wss" }
        if s == "'self'" {
            guard let page = URLResolver.hostAndPath(pageURL) else { return false }
            let pageScheme = pageURL.prefix { $0 != ":" }.lowercased()
            return page.host == host && (pageScheme == scheme || (pageScheme == "http" && scheme == "https"))
                && port(of: url) == port(of: pageURL)
        }
        if s.hasPrefix("'") { return false }  // nonces, hashes, keywords: not URL matches
        if s.hasSuffix(":") && !s.contains("/") {
            let want = String(s.dropLast())
            return want == scheme || (want == "http" && scheme == "https")
        }
        var rest = Substring(s)
        if let r = rest.range(of: "://") {
            let want = String(rest[..<r.lowerBound])
            guard want == scheme || (want == "http" && scheme == "https") else { return false }
            rest = rest[r.upperBound...]
        } else {
            // No scheme: the page's, upgraded to https allowed.
            let pageScheme = pageURL.prefix { $0 != ":" }.lowercased()
            guard scheme == pageScheme || (pageScheme == "http" && scheme == "https") else { return false }
        }
        let hostPart = rest.prefix { $0 != "/" && $0 != ":" }
        rest = rest.dropFirst(hostPart.count)
        if hostPart.hasPrefix("*.") {
            guard host.hasSuffix(hostPart.dropFirst(1)) else { return false }
        } else if hostPart != "*" && hostPart != host {
            return false
        }
        if rest.hasPrefix(":") {
            let p = rest.dropFirst().prefix { $0 != "/" }
            rest = rest.dropFirst(p.count + 1)
            if p != "*" && Int(p) != port(of: url) { return false }
        }
        if !rest.isEmpty && rest != "/" {
            let want = rest.removingPercentEncoding ?? String(rest)
            let have = path.removingPercentEncoding ?? path
            return want.hasSuffix("/") ? have.hasPrefix(want) : have == want
        }
        return true
    }

    static func port(of url: String) -> Int {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        var rest = Substring(url)
        if let r = rest.range(of: "://") { rest = rest[r.upperBound...] }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@").last ?? authority
        if !hostPort.hasSuffix("]"), let colon = hostPort.lastIndex(of: ":"), let p = Int(hostPort[hostPort.index(after: colon)...]) { return p }
        return scheme == "https" ? 443 : 80
    }
}
