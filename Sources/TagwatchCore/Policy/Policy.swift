import Foundation

/// How much a finding matters; `--fail-on` compares against this order.
public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
    case info, low, medium, high, critical

    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a finding is about; the words match the alert kinds of DESIGN.md.
public enum FindingKind: String, Sendable, CaseIterable, Codable {
    case unapprovedVendor = "unapproved-vendor"
    case unknownThirdParty = "unknown-third-party"
    case deniedVendor = "denied-vendor"
    case outOfScope = "out-of-scope"
    case approvalExpired = "approval-expired"
    case requiredVendorMissing = "required-vendor-missing"
    case insecureResource = "insecure-resource"
    case targetUnreachable = "target-unreachable"
    case sriMismatch = "sri-mismatch"
    case sriMissing = "sri-missing"
    case scriptChanged = "script-changed"
    case scriptUnavailable = "script-unavailable"
    case headerChanged = "header-changed"
    case cspWeak = "csp-weak"
    case cspBlocks = "csp-blocks"
    case cspAllowsDenied = "csp-allows-denied"
}

/// One policy problem on one page, with a sentence a marketing person understands.
public struct Finding: Sendable, Hashable {
    public var kind: FindingKind
    public var severity: Severity
    public var page: String
    public var vendor: VendorRef?
    /// The host for unknown third parties; the vendor id otherwise. Identifies the finding on its page.
    public var subject: String
    public var resourceURL: String?
    public var message: String
    /// The message with the page left as `Finding.placeholder`, so an alert that holds on many
    /// pages can say where in one sentence ("on 1,000 pages (…)").
    public var template: String
    /// The labels of the page it was found on: scope findings on a labelled page (a payment page,
    /// say) stay per page.
    public var pageLabels: [String] = []

    public init(kind: FindingKind, severity: Severity, page: String, vendor: VendorRef?, subject: String,
                resourceURL: String?, message: String, template: String? = nil) {
        self.kind = kind
        self.severity = severity
        self.page = page
        self.vendor = vendor
        self.subject = subject
        self.resourceURL = resourceURL
        self.message = message
        self.template = template ?? message
    }

    /// Builds the message and its template from one sentence that names the page where `place` goes.
    init(kind: FindingKind, severity: Severity, page: String, vendor: VendorRef?, subject: String,
         resourceURL: String?, saying sentence: (String) -> String) {
        self.init(kind: kind, severity: severity, page: page, vendor: vendor, subject: subject, resourceURL: resourceURL,
                  message: sentence(page), template: sentence(Finding.placeholder))
    }

    /// Stands for the page(s) in `template`; a control character no URL or name carries.
    public static let placeholder = "\u{1}pages\u{1}"

    /// A stable identity: the same condition on the same page always has the same key.
    public var key: String { "\(kind.rawValue)|\(page)|\(subject)" }

    /// About one page: a vendor outside its scope or a required one missing on a labelled page, a
    /// page unreachable, or a page's security header changed. An alert of these is per page, whatever the grouping.
    public var isPageScope: Bool { Finding.isPageScope(kind, labelled: !pageLabels.isEmpty) }

    public static func isPageScope(_ kind: FindingKind, labelled: Bool) -> Bool {
        kind == .targetUnreachable || kind == .headerChanged
            || (labelled && (kind == .outOfScope || kind == .requiredVendorMissing))
    }

    /// The identity of the alert this finding belongs to: (kind, subject) across pages when
    /// grouped, (kind, page, subject) for page-scope kinds or `group_by: page`.
    public func alertKey(_ grouping: AlertGrouping) -> String {
        grouping == .page || isPageScope ? key : "\(kind.rawValue)|*|\(subject)"
    }
}

/// A finding's identity on the page `Policy.evaluate` holds (its key without the page).
struct FindingSlot: Hashable {
    var kind: FindingKind
    var subject: String
}

/// How findings become alerts: one per (kind, subject) across pages, or one per page as before.
public enum AlertGrouping: String, Sendable, CaseIterable {
    case vendor, page
}

/// Holds a page's resources against the registry and says what is not allowed.
public struct Policy: Sendable {
    public var registry: Registry
    public var catalog: Catalog

    public init(registry: Registry, catalog: Catalog) {
        self.registry = registry
        self.catalog = catalog
    }

    static func article(_ word: String) -> String {
        guard let c = word.first else { return "a" }
        return "aeiou".contains(c) ? "an" : "a"
    }

    /// Today's date as YYYY-MM-DD in UTC, for expiry checks.
    public static func today(_ now: Date = Date()) -> String {
        // gmtime's fields where they are the Gregorian calendar's (no Calendar built per call).
        if let f = Timestamp.utcFields(now) {
            let year = Int(f.tm_year) + 1900, month = Int(f.tm_mon) + 1, day = Int(f.tm_mday)
            return String(year) + (month < 10 ? "-0" : "-") + String(month) + (day < 10 ? "-0" : "-") + String(day)
        }
        return calendarToday(now)
    }

    static func calendarToday(_ now: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day], from: now)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// Pages carrying one of these labels are held to SRI (`sri-missing`); nil or empty: none is.
    public var integrityLabels: Set<String> = []

    /// Whether any vendor or category of the registry changes by design (when none does, a cycle
    /// need not ask for each script).
    public var anyChangesExpected: Bool {
        registry.vendors.values.contains { $0.changesExpected } || registry.categories.values.contains { $0.changesExpected }
    }

    /// Whether the registry says the vendor's scripts change by design.
    public func changesExpected(_ vendor: VendorRef?) -> Bool {
        guard let vendor, let entry = registry.entry(for: vendor) else { return false }
        return entry.changesExpected
    }

    /// SRI findings: a pin that does not match the bytes served (high), and on pages with an
    /// integrity label, a third-party script the HTML loads without a pin (low), with the value to pin.
    func integrityFindings(_ page: PageReport, labels: [String]) -> [Finding] {
        var out: [Finding] = []
        let url = page.url
        // Built only when a finding needs it: most pages have none, and it was a third of `evaluate`.
        var index: [String: Resource]?
        func byURL(_ u: String) -> Resource? {
            if index == nil { index = Dictionary(page.resources.map { ($0.url, $0) }, uniquingKeysWith: { a, _ in a }) }
            return index?[u]
        }
        for s in page.scripts {
            guard let attr = s.integrity, let digest = s.digest else { continue }
            let verdict = SubresourceIntegrity.verify(attr, digest)
            if verdict == .mismatch {
                out.append(Finding(kind: .sriMismatch, severity: .high, page: url, vendor: byURL(s.url)?.vendor, subject: s.url,
                                   resourceURL: s.url,
                                   message: "The page \(url) pins the \(s.kind) \(s.url) with integrity=\"\(attr)\", but the bytes served hash to \(digest.sriValue) (\(digest.size) bytes): browsers block it, or the file was changed."))
            }
        }
        guard !integrityLabels.isDisjoint(with: labels) else { return out }
        for s in page.scripts where s.integrity == nil && s.via == nil && s.kind == "script" {
            guard let r = byURL(s.url), r.party == .third, r.kind == .script, let digest = s.digest else { continue }
            let who = r.vendor.map { "\($0.name)'s script" } ?? "The script"
            let unpinnable = changesExpected(r.vendor) || s.containerVersion != nil
            let message = unpinnable
                ? "\(who) \(s.url) on \(url) has no integrity attribute; it changes by design (\(s.containerVersion != nil ? "a tag-manager container changes whenever it is published" : "the registry says changes: expected"), so it cannot be pinned: tagwatch watches its hash instead."
                : "\(who) \(s.url) on \(url) has no integrity attribute; pin the bytes served now with integrity=\"\(digest.sriValue)\" crossorigin=\"anonymous\"."
            out.append(Finding(kind: .sriMissing, severity: unpinnable ? .info : .low, page: url, vendor: r.vendor, subject: s.url,
                               resourceURL: s.url, message: message))
        }
        return out
    }

    /// The page's Content-Security-Policy held against what it loads and against the registry.
    func cspFindings(_ page: PageReport) -> [Finding] {
        guard let header = page.securityHeaders["content-security-policy"] else { return [] }
        let csp = ContentSecurityPolicy(header: header)
        let url = page.url
        var out: [Finding] = []
        let weak = csp.weakScriptSources
        if !weak.isEmpty {
            out.append(Finding(kind: .cspWeak, severity: .medium, page: url, vendor: nil, subject: "script-src", resourceURL: nil,
                               message: "The Content-Security-Policy of \(url) lets any script run (\(weak.joined(separator: ", ")) in script-src), so it cannot stop an injected script."))
        }
        for r in page.resources where r.kind != .form {
            guard let directive = ContentSecurityPolicy.directive(for: r.kind), !r.url.contains("#inline-script-"),
                  csp.allows(r.url, directive: directive, pageURL: url) == false else { continue }
            let came = r.provenance.map { " (it is \($0))" } ?? ""
            out.append(Finding(kind: .cspBlocks, severity: .low, page: url, vendor: r.vendor, subject: r.url, resourceURL: r.url,
                               message: "The Content-Security-Policy of \(url) blocks the \(r.kind.rawValue) \(r.url)\(came) under \(directive): browsers do not load it, so the page or the policy is out of date."))
        }
        for host in csp.scriptHosts {
            let bare = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
            guard let m = catalog.match(host: bare), let entry = registry.entry(for: catalog.vendors[m.vendorIndex].ref),
                  entry.status == .denied else { continue }
            let v = catalog.vendors[m.vendorIndex].ref
            out.append(Finding(kind: .cspAllowsDenied, severity: .medium, page: url, vendor: v, subject: host, resourceURL: nil,
                               message: "The Content-Security-Policy of \(url) allows scripts from \(host), which is \(v.name)'s, a vendor IT security has denied: remove it from script-src."))
        }
        return out
    }

    public func evaluate(_ page: PageReport, labels: [String], today: String = Policy.today()) -> [Finding] {
        if let error = page.error {
            return [Finding(kind: .targetUnreachable, severity: .medium, page: page.url, vendor: nil, subject: page.target.name,
                            resourceURL: nil) { "The page \($0) could not be scanned: \(error)." }]
        }
        var findings: [Finding] = []
        // One finding per (kind, subject) on a page (its key, the page being the same), the first
        // resource's: a page loads a vendor's resources by the dozen, so whether the finding is
        // new is asked before its sentences are built (building them for every resource, to
        // throw all but the first away, was most of `evaluate` in a cycle's profile).
        var seen = Set<FindingSlot>()
        func add(_ kind: FindingKind, _ subject: String, _ make: () -> Finding) {
            if seen.insert(FindingSlot(kind: kind, subject: subject)).inserted { findings.append(make()) }
        }
        func add(_ f: Finding) { add(f.kind, f.subject) { f } }
        for f in integrityFindings(page, labels: labels) { add(f) }
        for f in cspFindings(page) { add(f) }
        let url = page.url
        let isHTTPS = url.lowercased().hasPrefix("https://")
        // The vendors seen, for `required` entries: not gathered when the registry requires none.
        let required = registry.vendors.filter { $0.value.status == .required }
        var present = Set<String>()
        for r in page.resources {
            if isHTTPS && r.kind != .form && r.url.lowercased().hasPrefix("http://") {
                let active = r.kind == .script || r.kind == .iframe || r.kind == .inlineScript || r.kind == .object
                add(.insecureResource, r.url) {
                    Finding(kind: .insecureResource, severity: active ? .high : .medium, page: url, vendor: r.vendor,
                            subject: r.url, resourceURL: r.url) {
                        "On the secure (https) page \($0), \(r.url) is loaded over plain http, which anyone on the network can read or change."
                    }
                }
            }
            guard r.party == .third else { continue }
            // How it got there, for resources a script or container named rather than the HTML.
            var came: String { r.provenance.map { " It is \($0)." } ?? "" }
            guard let v = r.vendor else {
                add(.unknownThirdParty, r.host) {
                    Finding(kind: .unknownThirdParty, severity: .medium, page: url, vendor: nil, subject: r.host, resourceURL: r.url) {
                        "On \($0), \(Policy.article(r.kind.rawValue)) \(r.kind.rawValue) is loaded from \(r.host), a third party no vendor in the catalog is known to run.\(came)"
                    }
                }
                continue
            }
            if !required.isEmpty { present.insert(v.id) }
            var who: String { "\(v.name) (\(v.company), \(v.category))" }
            guard let entry = registry.entry(for: v) else {
                add(.unapprovedVendor, v.id) {
                    Finding(kind: .unapprovedVendor, severity: .medium, page: url, vendor: v, subject: v.id, resourceURL: r.url) {
                        "\(who) is on \($0) but nobody has approved it.\(came)"
                    }
                }
                continue
            }
            switch entry.status {
            case .denied:
                add(.deniedVendor, v.id) {
                    Finding(kind: .deniedVendor, severity: .high, page: url, vendor: v, subject: v.id, resourceURL: r.url) {
                        "\(who) is on \($0) although IT security has denied it\(entry.justification.map { ": \($0)" } ?? ".")\(came)"
                    }
                }
                continue
            case .approved, .required:
                break
            }
            if let exp = entry.expires, exp < today {
                add(.approvalExpired, v.id) {
                    Finding(kind: .approvalExpired, severity: .medium, page: url, vendor: v, subject: v.id, resourceURL: r.url) {
                        "The approval of \(who) ended on \(exp) and it is still on \($0)\(entry.owner.map { "; ask \($0) to renew or remove it" } ?? "")."
                    }
                }
            }
            // Asked once per vendor: the page and its labels are the same for all its resources.
            if !seen.contains(FindingSlot(kind: .outOfScope, subject: v.id)) && !entry.allows(url: url, labels: labels) {
                add(.outOfScope, v.id) {
                    Finding(kind: .outOfScope, severity: .high, page: url, vendor: v, subject: v.id, resourceURL: r.url) {
                        "\(who) is approved, but not on \($0)\(labels.isEmpty ? "" : " (labels: \(labels.joined(separator: ", ")))").\(came)"
                    }
                }
            }
        }
        for (id, entry) in required.sorted(by: { $0.key < $1.key }) {
            guard !present.contains(id), entry.allows(url: url, labels: labels) else { continue }
            let v = catalog.vendor(id: id)?.ref ?? VendorRef(id: id, name: id, company: "", category: "")
            add(Finding(kind: .requiredVendorMissing, severity: .high, page: url, vendor: v, subject: id, resourceURL: nil) {
                "\(v.name) is required on \($0) but was not found there."
            })
        }
        for i in findings.indices { findings[i].pageLabels = labels }
        return findings
    }
}
