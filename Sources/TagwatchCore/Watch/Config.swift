import Foundation

/// One configured target as the user wrote it; sitemaps and folders expand at scan time.
public struct TargetSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case url(String)
        case sitemap(String, limit: Int)
        case file(String, baseURL: String?)
    }
    public var kind: Kind
    public var labels: [String]
}

/// The daemon's configuration (`/etc/tagwatch/tagwatch.yaml`), read strictly: unknown keys
/// and bad values are errors with file and line. Relative paths are relative to the file's folder.
public struct Config: Sendable, Equatable {
    public var file: String
    public var targets: [TargetSpec] = []
    public var firstParty: [String] = []
    public var interval: Double = 6 * 3600
    /// Fraction of the interval added or removed at random, so many hosts do not scan in step.
    public var jitter: Double = 0.1
    public var concurrency = 16
    public var perHost = 4
    public var timeout: Double = 20
    public var connectTimeout: Double = 10
    public var maxPageBytes = 5 * 1024 * 1024
    public var maxRedirects = 10
    public var userAgent = FetchOptions().userAgent
    /// The rules folder (`rules:`; default `/etc/tagwatch/rules` when it exists): its
    /// `vendors/*.yaml` add to or replace files of the built-in catalog, and its `approved.yaml`
    /// is the registry. nil: the built-in catalog alone.
    public var rules: String?
    /// `builtin_catalog: false` uses only the rules folder's `vendors/`.
    public var builtinCatalog = true
    public var registry: String?
    public var state: String
    public var unreachableAfter = 2
    public var alertLog: String?
    public var logFormat: LogFormat = .logfmt
    public var feed: String?
    public var feedTitle = "tagwatch alerts"
    public var feedHomeURL: String?
    public var feedItems = 500
    /// `alerts.feed_public: true`: the feed is written 0644 (anyone may read it), whatever the umask.
    public var feedPublic = false
    /// `alerts.webhook`: each alert event POSTed, from an outbox in the state.
    public var webhook: WebhookConfig?
    /// `alerts.group_by`: one alert per (kind, subject) across pages (`vendor`, the default) or per page.
    public var alertGrouping: AlertGrouping = .vendor
    /// `alerts.report`: the HTML report, rewritten after every cycle.
    public var report: String?
    /// Script following (`follow:`): which scripts pages load are fetched and read, and how much.
    public var follow = FollowOptions()
    /// `integrity: {labels: [payment]}`: pages whose scripts and headers are recorded and held to
    /// SRI; empty: every page's scripts are recorded, and none is held to SRI or watched for headers.
    public var integrityLabels: [String] = []
    /// `metrics:` a node_exporter textfile-collector file (`*.prom`) rewritten after each cycle.
    public var metrics: String?
    /// `proxy:` an HTTP proxy for every fetch and the webhook; `no_proxy:` hosts that go direct.
    public var proxy: String?
    public var noProxy: [String] = []

    public enum LogFormat: String, Sendable, CaseIterable { case logfmt, json }

    public var fetchOptions: FetchOptions {
        var o = FetchOptions()
        o.concurrency = concurrency
        o.perHost = perHost
        o.timeout = timeout
        o.connectTimeout = connectTimeout
        o.maxBodyBytes = maxPageBytes
        o.maxRedirects = maxRedirects
        o.userAgent = userAgent
        o.proxy = proxy
        o.noProxy = noProxy
        return o
    }

    static let topKeys = ["targets", "first_party", "interval", "jitter", "concurrency", "per_host", "timeout",
                          "connect_timeout", "max_page_bytes", "max_redirects", "user_agent", "rules", "builtin_catalog", "registry",
                          "state", "unreachable_after", "alerts", "follow", "integrity", "metrics", "proxy", "no_proxy"]
    static let followKeys = ["enabled", "max_script_bytes", "max_scripts", "max_total_bytes", "depth", "remote_for_files"]
    static let alertKeys = ["log", "log_format", "feed", "feed_title", "feed_home_url", "feed_items", "group_by", "report",
                            "feed_public", "webhook"]
    static let targetKeys = ["url", "sitemap", "file", "base_url", "labels", "limit"]

    public static func load(file path: String) throws -> Config {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SourceError(file: path, line: nil, "cannot read the config file (does it exist?)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(p)
        }
        var c = Config(file: path, rules: nil, state: "/var/lib/tagwatch/state.sqlite")
        guard let m = try YAMLMap.load(file: path, text: String(decoding: data, as: UTF8.self), what: "the config") else {
            throw SourceError(file: path, line: nil, "the config is empty; it needs at least 'targets'")
        }
        try m.checkKeys(topKeys, in: "the config")
        func err(_ key: String, _ msg: String) -> SourceError { SourceError(file: path, line: m.lineOf(key), msg) }

        guard let targetsNode = m.node("targets"), case .sequence(let seq, _) = targetsNode, !seq.isEmpty else {
            throw SourceError(file: path, line: m.lineOf("targets"), "'targets' must be a non-empty list of url:, sitemap: or file: entries")
        }
        for item in seq {
            let t = try YAMLMap(file: path, node: item, what: "a target")
            try t.checkKeys(targetKeys, in: "a target")
            let labels = try t.strings("labels")
            let given = ["url", "sitemap", "file"].filter { t.node($0) != nil }
            guard given.count == 1 else {
                throw SourceError(file: path, line: t.line, "a target needs exactly one of url:, sitemap: or file:")
            }
            if let u = try t.string("url") {
                guard isHTTPURL(u) else { throw SourceError(file: path, line: t.lineOf("url"), "'\(u)' is not an http(s) URL") }
                c.targets.append(TargetSpec(kind: .url(u), labels: labels))
            } else if let s = try t.string("sitemap") {
                guard isHTTPURL(s) || !s.contains("://") else {
                    throw SourceError(file: path, line: t.lineOf("sitemap"), "'\(s)' is not an http(s) URL or a file")
                }
                let limit = try t.int("limit") ?? 500
                guard Limits.sitemapLimit.contains(limit) else {
                    throw SourceError(file: path, line: t.lineOf("limit"), "'limit' must be between 1 and \(Limits.sitemapLimit.upperBound), not \(limit)")
                }
                c.targets.append(TargetSpec(kind: .sitemap(isHTTPURL(s) ? s : resolve(s), limit: limit), labels: labels))
            } else if let f = try t.string("file") {
                let base = try t.string("base_url")
                if let base, !isHTTPURL(base) {
                    throw SourceError(file: path, line: t.lineOf("base_url"), "'base_url' must be an http(s) URL")
                }
                c.targets.append(TargetSpec(kind: .file(resolve(f), baseURL: base), labels: labels))
            }
        }
        c.firstParty = try m.strings("first_party")
        if let v = try m.string("interval") {
            guard let d = parseDuration(v), Limits.check(d, Limits.interval) else {
                throw err("interval", "'interval' must be a duration such as 30s, 15m or 6h, \(Limits.describeSeconds(Limits.interval)), not '\(v)'")
            }
            c.interval = d
        }
        if let v = try m.string("jitter") {
            guard let d = Double(v.trimmingCharacters(in: CharacterSet(charactersIn: "% "))), d.isFinite, d >= 0 else {
                throw err("jitter", "'jitter' must be a fraction of the interval, such as 0.1")
            }
            c.jitter = v.hasSuffix("%") ? d / 100 : d
            guard c.jitter <= 0.5 else { throw err("jitter", "'jitter' must be at most 0.5 (50% of the interval)") }
        }
        for (key, path, range) in [("concurrency", \Config.concurrency, Limits.concurrency), ("per_host", \.perHost, Limits.perHost),
                                   ("max_redirects", \.maxRedirects, Limits.maxRedirects),
                                   ("unreachable_after", \.unreachableAfter, Limits.unreachableAfter)] {
            if let v = try m.int(key) {
                guard range.contains(v) else {
                    throw err(key, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound), not \(v)")
                }
                c[keyPath: path] = v
            }
        }
        for (key, path) in [("timeout", \Config.timeout), ("connect_timeout", \.connectTimeout)] {
            if let v = try m.string(key) {
                guard let d = parseDuration(v), Limits.check(d, Limits.timeout) else {
                    throw err(key, "'\(key)' must be a duration such as 20s, \(Limits.describeSeconds(Limits.timeout)), not '\(v)'")
                }
                c[keyPath: path] = d
            }
        }
        if let v = try m.string("max_page_bytes") {
            guard let n = parseSize(v), Limits.maxPageBytes.contains(n) else {
                throw err("max_page_bytes", "'max_page_bytes' must be a size such as 5MB or 500KB, from 1KB to 1GB, not '\(v)'")
            }
            c.maxPageBytes = n
        }
        if let v = try m.string("user_agent") { c.userAgent = v }
        if let v = try m.string("rules") {
            c.rules = resolve(v)
        } else if FileManager.default.fileExists(atPath: Config.defaultRules) {
            c.rules = Config.defaultRules
        }
        if let v = try m.string("builtin_catalog") {
            switch v.lowercased() {
            case "true", "yes", "on": c.builtinCatalog = true
            case "false", "no", "off": c.builtinCatalog = false
            default: throw err("builtin_catalog", "'builtin_catalog' must be true or false, not '\(v)'")
            }
        }
        if !c.builtinCatalog, c.rules == nil {
            throw err("builtin_catalog", "'builtin_catalog: false' needs 'rules:', a folder with vendors/*.yaml")
        }
        if let v = try m.string("registry") { c.registry = resolve(v) }
        if let v = try m.string("state") { c.state = resolve(v) }
        if let v = try m.string("proxy") {
            guard Self.isProxyURL(v) else {
                throw err("proxy", "'proxy' must be a proxy URL such as http://proxy.example.com:3128, not '\(v)'")
            }
            c.proxy = v
        }
        c.noProxy = try m.strings("no_proxy")
        if !c.noProxy.isEmpty, c.proxy == nil { throw err("no_proxy", "'no_proxy' needs 'proxy'") }
        if let v = try m.string("metrics") {
            guard v.hasSuffix(".prom") else {
                throw err("metrics", "'metrics' must be a file ending in .prom (node_exporter's textfile collector reads only those), not '\(v)'")
            }
            c.metrics = resolve(v)
        }
        if let a = m.node("alerts") {
            let am = try YAMLMap(file: path, node: a, what: "'alerts'")
            try am.checkKeys(alertKeys, in: "'alerts'")
            if let v = try am.string("log") { c.alertLog = resolve(v) }
            if let v = try am.string("log_format") {
                guard let f = LogFormat(rawValue: v) else {
                    throw SourceError(file: path, line: am.lineOf("log_format"), "'log_format' must be logfmt or json, not '\(v)'")
                }
                c.logFormat = f
            }
            if let v = try am.string("feed") { c.feed = resolve(v) }
            if let v = try am.string("feed_title") { c.feedTitle = v }
            if let v = try am.string("feed_home_url") { c.feedHomeURL = v }
            if let v = try am.string("group_by") {
                guard let g = AlertGrouping(rawValue: v) else {
                    throw SourceError(file: path, line: am.lineOf("group_by"), "'group_by' must be vendor or page, not '\(v)'")
                }
                c.alertGrouping = g
            }
            if let v = try am.string("report") { c.report = resolve(v) }
            if let v = try am.int("feed_items") {
                guard Limits.feedItems.contains(v) else {
                    throw SourceError(file: path, line: am.lineOf("feed_items"), "'feed_items' must be between 1 and \(Limits.feedItems.upperBound), not \(v)")
                }
                c.feedItems = v
            }
            if let v = try am.string("feed_public") {
                switch v.lowercased() {
                case "true", "yes", "on": c.feedPublic = true
                case "false", "no", "off": c.feedPublic = false
                default: throw SourceError(file: path, line: am.lineOf("feed_public"), "'alerts.feed_public' must be true or false, not '\(v)'")
                }
            }
            if let n = am.node("webhook") { c.webhook = try WebhookConfig.load(file: path, node: n) }
        }
        if let n = m.node("integrity") {
            let im = try YAMLMap(file: path, node: n, what: "'integrity'")
            try im.checkKeys(["labels"], in: "'integrity'")
            c.integrityLabels = try im.strings("labels")
        }
        if let f = m.node("follow") {
            let fm = try YAMLMap(file: path, node: f, what: "'follow'")
            try fm.checkKeys(followKeys, in: "'follow'")
            func bool(_ key: String) throws -> Bool? {
                guard let v = try fm.string(key) else { return nil }
                switch v.lowercased() {
                case "true", "yes", "on": return true
                case "false", "no", "off": return false
                default: throw SourceError(file: path, line: fm.lineOf(key), "'follow.\(key)' must be true or false, not '\(v)'")
                }
            }
            if let v = try bool("enabled") { c.follow.enabled = v }
            if let v = try bool("remote_for_files") { c.follow.remoteForFiles = v }
            for (key, kp) in [("max_script_bytes", \FollowOptions.maxScriptBytes), ("max_total_bytes", \.maxTotalBytes)] {
                if let v = try fm.string(key) {
                    guard let n = parseSize(v), n >= 1024, n <= 1 << 40 else {
                        throw SourceError(file: path, line: fm.lineOf(key), "'follow.\(key)' must be a size from 1KB to 1TB such as 8MB, not '\(v)'")
                    }
                    c.follow[keyPath: kp] = n
                }
            }
            for (key, kp, range) in [("max_scripts", \FollowOptions.maxScripts, 1...1_000_000), ("depth", \.depth, 1...10)] {
                if let v = try fm.int(key) {
                    guard range.contains(v) else {
                        throw SourceError(file: path, line: fm.lineOf(key), "'follow.\(key)' must be from \(range.lowerBound) to \(range.upperBound), not \(v)")
                    }
                    c.follow[keyPath: kp] = v
                }
            }
        }
        return c
    }

    /// The rules folder used when the config names none and it exists.
    public static let defaultRules = "/etc/tagwatch/rules"

    /// http://, https://, socks5:// … with a host (libcurl's proxy schemes), or host:port.
    public static func isProxyURL(_ s: String) -> Bool {
        let schemes = ["http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"]
        let l = s.lowercased()
        if let scheme = schemes.first(where: { l.hasPrefix($0) }) {
            return URL(string: "http://" + s.dropFirst(scheme.count))?.host?.isEmpty == false
        }
        return !s.contains("://") && URL(string: "http://" + s)?.host?.isEmpty == false
    }

    static func isHTTPURL(_ s: String) -> Bool {
        let l = s.lowercased()
        return (l.hasPrefix("http://") || l.hasPrefix("https://")) && WebURL(s)?.isHTTP == true
    }

    /// "90", "30s", "15m", "6h", "1d", "1h30m" -> seconds.
    public static func parseDuration(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let n = Double(s) { return n.isFinite ? n : nil }
        var total = 0.0
        var number = ""
        var any = false
        for ch in s {
            if ch.isNumber || ch == "." { number.append(ch); continue }
            guard let n = Double(number) else { return nil }
            let unit: Double
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            total += n * unit
            guard total.isFinite else { return nil }
            number = ""
            any = true
        }
        guard number.isEmpty, any else { return nil }
        return total
    }

    /// "5MB", "500KB", "1048576", "2MiB" -> bytes.
    public static func parseSize(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: .whitespaces).uppercased()
        let digits = s.prefix { $0.isNumber || $0 == "." }
        guard let n = Double(digits), n.isFinite else { return nil }
        let unit = s.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let mult: Double
        switch unit {
        case "", "B": mult = 1
        case "KB", "K", "KIB": mult = 1024
        case "MB", "M", "MIB": mult = 1024 * 1024
        case "GB", "G", "GIB": mult = 1024 * 1024 * 1024
        default: return nil
        }
        let bytes = n * mult
        // Beyond what an Int holds is out of every range; Int(_:) of it would trap.
        guard bytes.isFinite, bytes < 9.0e18 else { return nil }
        return Int(bytes)
    }
}
