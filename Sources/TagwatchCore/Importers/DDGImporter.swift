import Foundation

/// DuckDuckGo's tds.json (Tracker Radar / tracker blocklist): one vendor per owner entity,
/// holding that entity's tracker domains.
enum DDGImporter {
    /// Tracker Radar categories that name what a vendor is; the others ("Ad Motivated Tracking",
    /// "Embedded Content", "Non-Tracking"...) describe behaviour and are passed over.
    static let categoryMap = [
        "Advertising": "advertising", "Analytics": "analytics", "Third-Party Analytics Marketing": "analytics",
        "Audience Measurement": "audience-measurement", "Tag Manager": "tag-manager",
        "Session Replay": "session-replay", "Social - Share": "social", "Social Network": "social",
        "Social - Comment": "comments", "CDN": "cdn", "Online Payment": "payments",
        "Consent Management Platform": "consent", "Support Chat Widget": "support-chat",
        "Ad Fraud": "ad-verification", "Fraud Prevention": "security",
    ]

    static func read(path: String, skipped: inout [ImportSkip]) throws -> [ImportCandidate] {
        guard let root = try readJSONFile(path) as? [String: Any],
              let trackers = root["trackers"] as? [String: Any] else {
            throw SourceError(file: path, line: nil, "not a DuckDuckGo tds.json: it has no \"trackers\" object")
        }
        let entities = root["entities"] as? [String: Any] ?? [:]
        let domainOwners = root["domains"] as? [String: Any] ?? [:]

        struct Tracker { var domain: String; var prevalence: Double; var categories: [String] }
        var byOwner: [String: [Tracker]] = [:]
        var ownerDisplay: [String: String] = [:]
        var ownerURL: [String: String] = [:]
        for domain in trackers.keys.sorted() {
            guard let t = trackers[domain] as? [String: Any] else {
                skipped.append(ImportSkip(item: domain, reason: "tracker entry is not an object"))
                continue
            }
            let owner = t["owner"] as? [String: Any]
            guard let ownerName = trimmedString(owner?["name"]) ?? trimmedString(domainOwners[domain]) else {
                skipped.append(ImportSkip(item: domain, reason: "tracker has no owner entity"))
                continue
            }
            let prevalence = (t["prevalence"] as? NSNumber)?.doubleValue ?? 0
            byOwner[ownerName, default: []].append(
                Tracker(domain: trimmedString(t["domain"]) ?? domain, prevalence: prevalence,
                        categories: (t["categories"] as? [Any] ?? []).compactMap { $0 as? String }))
            if ownerDisplay[ownerName] == nil { ownerDisplay[ownerName] = trimmedString(owner?["displayName"]) }
            if ownerURL[ownerName] == nil { ownerURL[ownerName] = trimmedString(owner?["url"]) }
        }

        var candidates: [ImportCandidate] = []
        for (ownerName, list) in byOwner {
            let entity = entities[ownerName] as? [String: Any]
            let display = trimmedString(entity?["displayName"]) ?? ownerDisplay[ownerName] ?? ownerName
            // The most prevalent tracker speaks first for the category.
            let sorted = list.sorted { $0.prevalence != $1.prevalence ? $0.prevalence > $1.prevalence : $0.domain < $1.domain }
            let category = sorted.lazy.flatMap(\.categories).compactMap { categoryMap[$0] }.first ?? "other"
            candidates.append(ImportCandidate(
                name: display, company: display, category: category,
                website: ownerURL[ownerName], hosts: sorted.map(\.domain)))
        }
        return candidates.sorted { $0.name != $1.name ? $0.name < $1.name : $0.hosts.first ?? "" < $1.hosts.first ?? "" }
    }
}
