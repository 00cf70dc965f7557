import Foundation
import Testing
import TagwatchCore
import TagwatchTestSupport

/// A changed page's resources are written several rows to a statement, each bound field by
/// field (`Store.resourcesPerStatement`, `Database.run`). The rows must be those one statement
/// per resource wrote: every field, in statements of every size (77 rows: 32 + 32 + 8 + 4 + 1),
/// with a resource listed twice (the same URL and kind) updating its row in order, within a
/// statement and across two.
@Suite struct StoreWriteTests {
    static let page = "https://a.test/"

    /// 75 resources with every column set or unset in turn, then two repeats of earlier ones.
    static func resources() -> [Resource] {
        var out: [Resource] = []
        for i in 0..<75 {
            let vendor = i % 3 == 0 ? VendorRef(id: "v\(i % 4)", name: "Vendor \(i) é", company: "Co \(i)", category: "analytics") : nil
            let tag = i % 5 == 0
                ? TagRef(type: "__html", id: i % 10 == 0 ? "\(i)" : nil, consent: i % 4 == 0 ? [] : ["ad_storage", "analytics_storage"],
                         container: i % 15 == 0 ? nil : "GTM-X")
                : nil
            out.append(Resource(url: "https://h\(i % 7).test/r\(i).js?q=\"x\"", host: "h\(i % 7).test", kind: i % 2 == 0 ? .script : .img,
                                party: i % 9 == 0 ? .first : .third, vendor: vendor, integrity: i % 6 == 0 ? "sha384-abc" : nil,
                                tagIDs: Array(["G-1", "UA-2", "AW-3"].prefix(i % 4)),
                                via: i % 5 == 0 ? "https://www.googletagmanager.com/gtm.js?id=GTM-X" : nil, tag: tag))
        }
        // Written in the same statement as the row it repeats (rows 32-63), then in a later one.
        var again = out[40]
        again.tagIDs = ["X-9"]
        again.vendor = VendorRef(id: "w", name: "W", company: "", category: "ads")
        out.insert(again, at: 50)
        var later = out[3]
        later.host = "other.test"
        later.vendor = nil
        later.via = ""
        out.append(later)
        return out
    }

    static func observation(_ resources: [Resource]) -> PageObservation {
        let report = PageReport(target: Target(source: .url(page)), url: page, status: 200, error: nil, resources: resources)
        return PageObservation(page: page, target: page, labels: [], report: report, findings: [])
    }

    /// The rows as one upsert per resource, in order, leaves them.
    static func expected(_ resources: [Resource]) -> [String: Resource] {
        var rows: [String: Resource] = [:]
        for r in resources { rows[r.url + " " + r.kind.rawValue] = r }
        return rows
    }

    @Test func aPageOfManyResourcesIsWrittenAsOneStatementPerResourceWould() throws {
        let tmp = try TempDir()
        let store = try Store(path: tmp.path + "/s.sqlite")
        let first = Self.resources()
        _ = try store.record(cycle: [Self.observation(first)], started: "t1", finished: "t1", unreachableAfter: 2)
        // The page changes: half its resources again (in another order), and one new.
        var second = Array(first.prefix(40).reversed())
        second.append(Resource(url: "https://new.test/n.js", host: "new.test", kind: .script, party: .third, vendor: nil))
        _ = try store.record(cycle: [Self.observation(second)], started: "t2", finished: "t2", unreachableAfter: 2)

        let now = Self.expected(second), before = Self.expected(first)
        let rows = try store.inventory()
        #expect(rows.count == Set(before.keys).union(now.keys).count)
        for row in rows {
            let key = row.url + " " + row.kind
            guard let r = now[key] ?? before[key] else {
                Issue.record("unexpected row \(key)")
                continue
            }
            #expect(row.page == Self.page)
            #expect(row.host == r.host)
            #expect(row.party == r.party.rawValue)
            #expect(row.vendor == r.vendor)
            #expect(row.tagIDs == r.tagIDs)
            #expect(row.integrity == r.integrity)
            #expect(row.via == r.via)
            #expect(row.tag == r.tag)
            #expect(row.firstSeen == (before[key] != nil ? "t1" : "t2"))
            #expect(row.lastSeen == (now[key] != nil ? "t2" : "t1"))
            #expect(row.current == (now[key] != nil))
        }
    }
}
