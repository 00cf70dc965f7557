import Foundation

/// `alerts.webhook: {url, format: json|slack, headers: {Name: value}, timeout: 10s, retry: 30s}`.
public struct WebhookConfig: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable { case json, slack }
    public var url: String
    public var format: Format = .json
    /// Extra request headers, `Name: value` (an Authorization token, say).
    public var headers: [String] = []
    public var timeout: Double = 10
    /// The daemon's first retry after a failed delivery; each further failure doubles it, up to 30 minutes.
    public var retry: Double = 30

    static let keys = ["url", "format", "headers", "timeout", "retry"]

    static func load(file: String, node: YAMLNode) throws -> WebhookConfig {
        let m = try YAMLMap(file: file, node: node, what: "'alerts.webhook'")
        try m.checkKeys(keys, in: "'alerts.webhook'")
        guard let url = try m.string("url") else {
            throw SourceError(file: file, line: m.line, "'alerts.webhook' needs 'url', the http(s) URL events are POSTed to")
        }
        guard Config.isHTTPURL(url) else {
            throw SourceError(file: file, line: m.lineOf("url"), "'alerts.webhook.url' must be an http(s) URL, not '\(url)'")
        }
        var w = WebhookConfig(url: url)
        if let f = try m.string("format") {
            guard let format = Format(rawValue: f) else {
                throw SourceError(file: file, line: m.lineOf("format"), "'alerts.webhook.format' must be json or slack, not '\(f)'")
            }
            w.format = format
        }
        if let t = try m.string("timeout") {
            guard let d = Config.parseDuration(t), d > 0, d <= 300 else {
                throw SourceError(file: file, line: m.lineOf("timeout"), "'alerts.webhook.timeout' must be a duration from 1s to 5m, such as 10s, not '\(t)'")
            }
            w.timeout = d
        }
        if let t = try m.string("retry") {
            guard let d = Config.parseDuration(t), d >= 1, d <= 3600 else {
                throw SourceError(file: file, line: m.lineOf("retry"), "'alerts.webhook.retry' must be a duration from 1s to 1h, such as 30s, not '\(t)'")
            }
            w.retry = d
        }
        if let h = m.node("headers") {
            let hm = try YAMLMap(file: file, node: h, what: "'alerts.webhook.headers'")
            for (name, value) in hm.keys {
                guard let v = value.string, !name.isEmpty,
                      name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
                      !v.contains("\n"), !v.contains("\r") else {
                    throw SourceError(file: file, line: hm.lineOf(name), "'alerts.webhook.headers' entries must be 'Name: value' on one line ('\(name)')")
                }
                w.headers.append("\(name): \(v)")
            }
        }
        return w
    }
}
