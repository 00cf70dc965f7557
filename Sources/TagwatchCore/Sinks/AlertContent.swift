/// What a person reads about an alert event, in the feed (`content_html`, `content_text`):
/// what happened, where (page count and the first pages), who (vendor, company, category and
/// how it got there), and what to do (the registry lines that approve or deny it).
public struct AlertContent: Sendable {
    public var event: AlertEvent
    /// The scripts or tag-manager containers that loaded it; empty when it is in the pages' HTML
    /// (or the state does not know).
    public var via: [String]

    public init(event: AlertEvent, via: [String] = []) {
        self.event = event
        self.via = via
    }

    var alert: Alert { event.alert }

    var what: String {
        switch event.event {
        case .raised: return alert.message
        case .updated: return "Spreading: \(alert.message)"
        case .resolved: return "No longer true: \(alert.message)"
        }
    }

    var morePages: Int { max(0, alert.pageCount - alert.pages.count) }

    var who: String? {
        guard let v = alert.vendor else {
            return alert.kind == .unknownThirdParty ? "\(alert.subject), a host no vendor in the catalog claims" : nil
        }
        return "\(v.name), by \(v.company) (category \(v.category), vendor id \(v.id))"
    }

    /// Registry (or catalog) lines a person can paste, with what each does.
    public var actions: [(what: String, yaml: String)] {
        let a = alert
        switch a.kind {
        case .unapprovedVendor, .deniedVendor, .approvalExpired:
            guard let v = a.vendor else { return [] }
            let approve = """
                vendors:
                  \(v.id):
                    status: approved
                    owner: someone@example.com        # who answers for it
                    justification: Why \(v.name) is needed.
                """ + (a.kind == .approvalExpired ? "\n    expires: YYYY-MM-DD              # the new last day" : "")
            let deny = """
                vendors:
                  \(v.id):
                    status: denied
                    justification: Why \(v.name) must not be on our pages.
                """
            return [("To approve it, put this in rules/approved.yaml (replacing any entry for \(v.id)):", approve),
                    ("To deny it (every page that loads it then raises a high-severity alert):", deny)]
        case .outOfScope:
            guard let v = a.vendor else { return [] }
            return [("It is approved, but not for this page: take it off the page, or let it appear there in rules/approved.yaml (add the page to its on: list and drop any not_on: pattern that matches the page; not_on beats on):",
                     "vendors:\n  \(v.id):\n    on: [\"\(a.page.replacingOccurrences(of: "\"", with: "\\\""))\"]")]
        case .requiredVendorMissing:
            guard let v = a.vendor else { return [] }
            return [("Put \(v.name) back on the page, or narrow where it is required in rules/approved.yaml:",
                     "vendors:\n  \(v.id):\n    status: required\n    on: [\"label:payment\"]    # the pages it must be on")]
        case .unknownThirdParty:
            let id = a.subject.split(separator: ".").dropLast().last.map(String.init) ?? a.subject
            return [("Say who runs \(a.subject) in the catalog (rules/vendors/local.yaml), then approve or deny that vendor:",
                     """
                     vendors:
                       - id: \(id)
                         name: Name of the product
                         company: Company behind it
                         category: analytics
                         hosts: [\(a.subject)]
                     """)]
        default:
            return []
        }
    }

    var advice: String? {
        switch alert.kind {
        case .insecureResource: return "Load it over https (or remove it): an http script on an https page can be changed by anyone on the network."
        case .targetUnreachable: return "Check that the page still exists and answers, or remove it from the config's targets."
        case .scriptChanged: return "Check the script's new content with the owner of its vendor before it runs on more visits."
        case .sriMissing, .sriMismatch: return "Pin the script with an integrity attribute (Subresource Integrity) matching its current content, or find out why it changed."
        default: return nil
        }
    }

    var howItGotThere: String {
        via.isEmpty ? "in the pages' own HTML" : "loaded by " + via.prefix(3).joined(separator: ", ")
    }

    public var text: String {
        var lines = [what]
        if alert.pageCount > 1 {
            lines.append("Pages (\(alert.pageCount)): " + alert.pages.joined(separator: " ")
                         + (morePages > 0 ? " and \(morePages) more (tagwatch alerts show \(alert.id))" : ""))
        }
        if let who { lines.append("Who: \(who); \(howItGotThere).") }
        if event.event != .resolved {
            for (what, yaml) in actions { lines.append(what + "\n" + yaml) }
            if let advice { lines.append(advice) }
        }
        lines.append("[severity \(alert.severity.rawValue), alert \(alert.id)]")
        return lines.joined(separator: "\n")
    }

    public var html: String {
        var h = "<p><strong>What:</strong> \(HTML.escape(what))</p>\n"
        h += "<p><strong>Where:</strong> \(alert.pageCount == 1 ? "1 page" : "\(Alert.thousands(alert.pageCount)) pages"): "
        h += alert.pages.map { HTML.link($0) }.joined(separator: ", ")
        if morePages > 0 { h += " and \(Alert.thousands(morePages)) more (<code>tagwatch alerts show \(HTML.escape(alert.id))</code> lists them all)" }
        h += "</p>\n"
        if let who {
            h += "<p><strong>Who:</strong> \(HTML.escape(who)). <strong>How it got there:</strong> "
            h += via.isEmpty ? "in the pages' own HTML" : "loaded by " + via.prefix(3).map { HTML.link($0) }.joined(separator: ", ")
            h += ".</p>\n"
        }
        if let u = alert.resourceURL { h += "<p><strong>Resource:</strong> \(HTML.escape(u))</p>\n" }
        if event.event != .resolved {
            for (what, yaml) in actions {
                h += "<p><strong>What to do:</strong> \(HTML.escape(what))</p>\n<pre><code>\(HTML.escape(yaml))</code></pre>\n"
            }
            if let advice { h += "<p><strong>What to do:</strong> \(HTML.escape(advice))</p>\n" }
        }
        h += "<p>Severity \(HTML.escape(alert.severity.rawValue)); alert <code>\(HTML.escape(alert.id))</code>; \(HTML.escape(event.event.rawValue)) \(HTML.escape(event.at)).</p>"
        return h
    }
}
