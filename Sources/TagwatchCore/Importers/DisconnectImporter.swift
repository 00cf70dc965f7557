import Foundation

/// Disconnect's services.json: `{"categories": {"Advertising": [{"Company": {"https://site/": [domains]}}]}}`.
/// A company listed under several categories becomes one vendor per category of ours.
enum DisconnectImporter {
    /// Disconnect's categories in the order a domain listed twice is given to: the specific ones
    /// first, the catch-all "Disconnect" list last. Unknown categories follow, by name.
    static let categoryOrder = [
        "Advertising", "Analytics", "Social", "Email", "EmailAggressive", "EmailStrict",
        "Content", "Cryptomining", "FingerprintingInvasive", "FingerprintingGeneral", "Disconnect",
    ]

    static let categoryMap = [
        "Advertising": "advertising", "Analytics": "analytics", "Social": "social",
        "Email": "marketing-automation", "EmailAggressive": "marketing-automation", "EmailStrict": "marketing-automation",
    ]

    static func read(path: String, skipped: inout [ImportSkip]) throws -> [ImportCandidate] {
        guard let root = try readJSONFile(path) as? [String: Any],
              let categories = root["categories"] as? [String: Any] else {
            throw SourceError(file: path, line: nil, "not a Disconnect services.json: it has no \"categories\" object")
        }
        let names = categories.keys.sorted { a, b in
            let ia = categoryOrder.firstIndex(of: a) ?? categoryOrder.count
            let ib = categoryOrder.firstIndex(of: b) ?? categoryOrder.count
            return ia != ib ? ia < ib : a < b
        }
        var candidates: [ImportCandidate] = []
        var index: [String: Int] = [:]  // "company\ncategory" -> candidate
        for name in names {
            guard let entries = categories[name] as? [Any] else {
                throw SourceError(file: path, line: nil, "category \"\(name)\" must be a list of companies")
            }
            let category = categoryMap[name] ?? "other"
            for entry in entries {
                guard let entry = entry as? [String: Any], entry.count == 1, let pair = entry.first,
                      let services = pair.value as? [String: Any], let companyName = trimmedString(pair.key) else {
                    skipped.append(ImportSkip(item: "\(name) entry", reason: "not a {\"Company\": {\"https://site/\": [domains]}} entry"))
                    continue
                }
                // The site URL keys list the domains; other keys are flags such as "performance": "true".
                var website: String?
                var hosts: [String] = []
                for key in services.keys.sorted() {
                    guard let domains = services[key] as? [Any] else { continue }
                    if website == nil, key.hasPrefix("http") { website = key }
                    hosts += domains.compactMap { $0 as? String }
                }
                let k = companyName + "\n" + category
                if let i = index[k] {
                    candidates[i].hosts += hosts
                } else {
                    index[k] = candidates.count
                    candidates.append(ImportCandidate(name: companyName, company: companyName, category: category,
                                                      website: website, hosts: hosts))
                }
            }
        }
        // A company under several of our categories: name each vendor after its category.
        var perCompany: [String: Int] = [:]
        for c in candidates { perCompany[c.company, default: 0] += 1 }
        for i in candidates.indices where perCompany[candidates[i].company]! > 1 {
            candidates[i].name = "\(candidates[i].company) (\(candidates[i].category))"
        }
        return candidates
    }
}
