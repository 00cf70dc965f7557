import Foundation

/// `scan --format sarif`: SARIF 2.1.0 for CI code scanning. One run; a rule per finding kind
/// (with its default level and a GitHub `security-severity`), a result per finding at its
/// page (a file path for saved pages, the URL otherwise), and each page that could not be
/// scanned as a tool execution notification, so a CI gate sees failures without false results.
public enum SARIFOutput {
    public static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    static func level(_ s: Severity) -> String {
        switch s {
        case .critical, .high: return "error"
        case .medium: return "warning"
        case .low, .info: return "note"
        }
    }

    static func securitySeverity(_ s: Severity) -> String {
        switch s {
        case .critical: return "9.5"
        case .high: return "8.0"
        case .medium: return "5.0"
        case .low: return "3.0"
        case .info: return "1.0"
        }
    }

    static func ruleText(_ k: FindingKind) -> String {
        switch k {
        case .unapprovedVendor: return "A vendor the registry does not approve is on the page."
        case .unknownThirdParty: return "A third-party host no vendor of the catalog claims is on the page."
        case .deniedVendor: return "A vendor the registry denies is on the page."
        case .outOfScope: return "An approved vendor is on a page its on/not_on scope excludes."
        case .approvalExpired: return "The registry's approval of a vendor on the page has expired."
        case .requiredVendorMissing: return "A vendor the registry requires is missing from a page in its scope."
        case .insecureResource: return "An http: resource is loaded by an https: page."
        case .targetUnreachable: return "A page could not be fetched for several cycles."
        case .sriMismatch: return "A script or stylesheet's integrity attribute does not match the bytes served."
        case .sriMissing: return "A third-party script is loaded without Subresource Integrity on a page that requires it."
        case .scriptChanged: return "A script's content changed since the last cycle."
        case .scriptUnavailable: return "A script could not be fetched for several cycles."
        case .headerChanged: return "A security header of the page appeared, went or changed."
        case .cspWeak: return "The page's Content-Security-Policy lets any script run."
        case .cspBlocks: return "The page's Content-Security-Policy blocks something the page loads."
        case .cspAllowsDenied: return "The page's Content-Security-Policy allows a denied vendor's scripts."
        }
    }

    /// The default severity of each kind (a kind's findings may differ: insecure images are medium).
    static func defaultSeverity(_ k: FindingKind) -> Severity {
        switch k {
        case .deniedVendor, .outOfScope, .requiredVendorMissing, .insecureResource, .sriMismatch, .scriptChanged: return .high
        case .sriMissing, .cspBlocks: return .low
        default: return .medium
        }
    }

    /// Where a page is, as SARIF wants it: a relative path for files (CI checks them out), else the URL.
    static func uri(_ report: PageReport) -> String {
        switch report.target.source {
        case .url: return report.url
        case .file(let path, _):
            var p = path
            while p.hasPrefix("./") { p.removeFirst(2) }
            return p.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }.joined(separator: "/")
        }
    }

    public static func document(_ reports: [PageReport], toolVersion: String, registryUsed: Bool) -> JSONValue {
        let kinds = FindingKind.allCases
        let rules: [JSONValue] = kinds.map { k in
            .object([
                ("id", .string(k.rawValue)),
                ("name", .string(k.rawValue.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())),
                ("shortDescription", .object([("text", .string(ruleText(k)))])),
                ("defaultConfiguration", .object([("level", .string(level(defaultSeverity(k))))])),
                ("properties", .object([
                    ("security-severity", .string(securitySeverity(defaultSeverity(k)))),
                    ("tags", .array([.string("security"), .string("third-party")])),
                ])),
            ])
        }
        var results: [JSONValue] = []
        var notifications: [JSONValue] = []
        for r in reports {
            let location: JSONValue = .object([("physicalLocation", .object([
                ("artifactLocation", .object([("uri", .string(uri(r)))])),
            ]))])
            if let e = r.error {
                notifications.append(.object([
                    ("level", .string("error")),
                    ("message", .object([("text", .string("\(r.target.name): \(e)"))])),
                    ("locations", .array([location])),
                ]))
                continue
            }
            for w in r.warnings {
                notifications.append(.object([
                    ("level", .string("warning")),
                    ("message", .object([("text", .string("\(r.target.name): \(w)"))])),
                    ("locations", .array([location])),
                ]))
            }
            for f in r.findings {
                var properties: [(String, JSONValue)] = [("severity", .string(f.severity.rawValue)), ("page", .string(r.url))]
                if let v = f.vendor {
                    properties += [("vendor", .string(v.id)), ("company", .string(v.company)), ("category", .string(v.category))]
                }
                if let u = f.resourceURL { properties.append(("resource", .string(u))) }
                results.append(.object([
                    ("ruleId", .string(f.kind.rawValue)),
                    ("ruleIndex", .int(kinds.firstIndex(of: f.kind)!)),
                    ("level", .string(level(f.severity))),
                    ("message", .object([("text", .string(f.message))])),
                    ("locations", .array([location])),
                    ("partialFingerprints", .object([("tagwatchFinding/v1", .string(f.key))])),
                    ("properties", .object(properties)),
                ]))
            }
        }
        if !registryUsed {
            notifications.append(.object([
                ("level", .string("note")),
                ("message", .object([("text", .string("no registry: findings need one (--registry FILE or approved.yaml in the rules folder)"))])),
            ]))
        }
        let invocation: JSONValue = .object([
            ("executionSuccessful", .bool(!reports.contains { $0.error != nil })),
            ("toolExecutionNotifications", .array(notifications)),
        ])
        return .object([
            ("$schema", .string(schema)),
            ("version", .string("2.1.0")),
            ("runs", .array([.object([
                ("tool", .object([("driver", .object([
                    ("name", .string("tagwatch")),
                    ("version", .string(toolVersion)),
                    ("rules", .array(rules)),
                ]))])),
                ("invocations", .array([invocation])),
                ("results", .array(results)),
            ])])),
        ])
    }
}
