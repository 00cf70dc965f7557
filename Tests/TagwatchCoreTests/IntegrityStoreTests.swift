import Foundation
import Testing
@testable import TagwatchCore
import TagwatchTestSupport

/// Script records in the state: a change raises once and is described by what changed; a vendor
/// marked `changes: expected` is recorded, not alerted; a failure keeps the last good hash.
@Suite struct IntegrityStoreTests {
    func observation(_ scripts: [ScriptRecord], expected: Set<String> = [], labelled: Bool = true) -> PageObservation {
        var report = PageReport(target: Target(source: .url("https://shop.example/checkout")), url: "https://shop.example/checkout",
                                status: 200, error: nil, resources: [])
        report.scripts = scripts
        var o = PageObservation(page: report.url, target: report.url, labels: ["payment"], report: report, findings: [])
        o.integrityLabelled = labelled
        o.expectedChanges = expected
        return o
    }

    func script(_ text: String, url: String = "https://cdn.vendor.test/v.js", version: String? = nil, tags: [String] = []) -> ScriptRecord {
        ScriptRecord(url: url, kind: "script", digest: ScriptDigest(of: Array(text.utf8)), containerVersion: version, containerTags: tags)
    }

    @Test func changesRaiseOnceAndExpectedOnesAreOnlyRecorded() throws {
        let dir = try temporaryDirectory("tw-integrity-store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(path: dir + "/state.sqlite")
        func cycle(_ o: PageObservation, _ n: Int) throws -> [AlertEvent] {
            try store.record(cycle: [o], started: "2026-11-30T10:0\(n):00Z", finished: "2026-11-30T10:0\(n):30Z", unreachableAfter: 2)
        }
        #expect(try cycle(observation([script("v1")]), 1).isEmpty)
        let changed = try cycle(observation([script("v2 longer")]), 2)
        #expect(changed.count == 1)
        let alert = try #require(changed.first?.alert)
        #expect(alert.kind == .scriptChanged && alert.severity == .high)
        #expect(alert.message.contains(ScriptDigest(of: Array("v1".utf8)).sha384) && alert.message.contains(ScriptDigest(of: Array("v2 longer".utf8)).sha384))
        // A failed fetch is not a change; two failures in a row are a script-unavailable finding.
        let failing = ScriptRecord(url: "https://cdn.vendor.test/v.js", kind: "script", error: "HTTP 404")
        #expect(!(try cycle(observation([failing]), 3)).contains { $0.event == .raised && $0.alert.kind == .scriptChanged })
        #expect(try cycle(observation([failing]), 4).contains { $0.event == .raised && $0.alert.kind == .scriptUnavailable })
        // Back with the last good bytes: no change.
        #expect(try cycle(observation([script("v2 longer")]), 5).allSatisfy { $0.alert.kind != .scriptChanged || $0.event == .resolved })
        // Expected changes (the registry's `changes: expected`) are recorded without an alert.
        #expect(try cycle(observation([script("v3")], expected: ["https://cdn.vendor.test/v.js"]), 6).allSatisfy { $0.event == .resolved })
        let row = try #require(try store.scriptInventory().first)
        #expect(row.sha384 == ScriptDigest(of: Array("v3".utf8)).sha384)
        #expect(row.lastChanged == "2026-11-30T10:06:30Z")
    }

    /// The page_scripts rows as a reader takes them (a sighting in `pages` applied), for comparing states.
    func scriptRows(_ path: String) throws -> [String] {
        try sqlite(path, "SELECT page, url, kind, integrity, sri, via, first_seen, seen_at, seen_scan FROM \(pageScriptsSeen) ORDER BY page, url")
    }

    /// Schema step 9: a page found unchanged whose script rows would be written as they are is seen
    /// again in one row of `pages`. Read through the sighting, the rows must be what writing every
    /// row every cycle gives (the second store, told each page changed), after every cycle: scripts
    /// gone keep the last cycle that saw them, rows that differ are written, pages without scripts
    /// or outside the integrity scope leave the rows and their sighting alone.
    @Test func anUnchangedPageSeesItsScriptRowsAgainInOneRow() throws {
        let dir = try temporaryDirectory("tw-integrity-seen")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sighted = try Store(path: dir + "/sighted.sqlite"), written = try Store(path: dir + "/written.sqlite")
        let a = script("a"), pinned = ScriptRecord(url: "https://cdn.vendor.test/pinned.js", kind: "script",
                                                  integrity: "sha384-" + ScriptDigest(of: Array("p".utf8)).sha384,
                                                  digest: ScriptDigest(of: Array("p".utf8)))
        var c = script("c", url: "https://cdn.vendor.test/c.js")
        c.via = "https://www.googletagmanager.com/gtm.js?id=GTM-X"
        var cElsewhere = c
        cElsewhere.via = "https://cdn.vendor.test/loader.js"
        // (scripts, unchanged, in the integrity scope)
        let cycles: [([ScriptRecord], Bool, Bool)] = [
            ([a, pinned, c], false, true),  // first: written
            ([a, pinned, c], true, true),   // unchanged, no digest yet: written, digest kept
            ([a, pinned, c], true, true),   // unchanged, same rows: seen again
            ([a, pinned, c], true, true),
            ([a, pinned], false, true),     // changed: c gone, keeps cycle 4
            ([a, pinned], true, true),      // seen again (the changed page's digest)
            ([a, pinned, cElsewhere], true, true),  // other rows: written (after taking the sighting)
            ([a, pinned, cElsewhere], true, true),
            ([], true, true),               // no scripts: nothing written, the sighting stands
            ([a, pinned, cElsewhere], true, false),  // outside the scope: nothing written
            ([a, pinned, cElsewhere], true, true),
            ([a], true, true),
        ]
        for (n, (scripts, unchanged, integrity)) in cycles.enumerated() {
            var o = observation(scripts)
            o.integrity = integrity
            o.report.unchanged = unchanged
            var w = o
            w.report.unchanged = false
            let time = "2026-11-30T11:\(String(format: "%02d", n)):00Z"
            _ = try sighted.record(cycle: [o], started: time, finished: time, unreachableAfter: 2)
            _ = try written.record(cycle: [w], started: time, finished: time, unreachableAfter: 2)
            #expect(try scriptRows(dir + "/sighted.sqlite") == scriptRows(dir + "/written.sqlite"), "after cycle \(n + 1)")
            #expect(try sighted.scriptInventory().map { "\($0.url) \($0.pages) \($0.integrityMethod)" }
                    == written.scriptInventory().map { "\($0.url) \($0.pages) \($0.integrityMethod)" }, "after cycle \(n + 1)")
        }
        // The rows were seen again without being rewritten (cycles 3 and 4 left them as cycle 2 wrote them).
        #expect(try sqlite(dir + "/written.sqlite", "SELECT count(*) FROM pages WHERE scripts_digest IS NOT NULL") == ["0"])
        #expect(try sqlite(dir + "/sighted.sqlite", "SELECT url, last_scan FROM page_scripts ORDER BY url") == [
            "https://cdn.vendor.test/c.js|11", "https://cdn.vendor.test/pinned.js|11", "https://cdn.vendor.test/v.js|12"])
        #expect(try scriptRows(dir + "/sighted.sqlite").map { $0.split(separator: "|").suffix(2).joined(separator: "|") } == [
            "2026-11-30T11:10:00Z|11", "2026-11-30T11:10:00Z|11", "2026-11-30T11:11:00Z|12"])
    }

    /// A state of schema 8 (no sighting columns) keeps its rows' meaning: migrated to 9, its
    /// page_scripts rows read as they did, the next unchanged cycle writes them (and their digest),
    /// the one after sees them again; read through the sighting they are always as written.
    @Test func schemaEightStatesMigrateWithTheirScriptRowsAsTheyWere() throws {
        let dir = try temporaryDirectory("tw-integrity-step8")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/state.sqlite"
        let scripts = [script("a"), script("b", url: "https://cdn.vendor.test/b.js")]
        func cycle(_ n: Int, unchanged: Bool) throws {
            var o = observation(scripts)
            o.report.unchanged = unchanged
            _ = try Store(path: path).record(cycle: [o], started: "s\(n)", finished: "2026-11-30T12:0\(n):00Z", unreachableAfter: 2)
        }
        try cycle(1, unchanged: false)
        try cycle(2, unchanged: true)
        // Back to what schema 8 wrote: page_scripts rows hold their own sightings.
        for step in ["ALTER TABLE pages DROP COLUMN scripts_digest", "ALTER TABLE pages DROP COLUMN scripts_seen",
                     "ALTER TABLE pages DROP COLUMN scripts_scan", "PRAGMA user_version = 8"] {
            _ = try sqlite(path, step)
        }
        let before = try sqlite(path, "SELECT * FROM page_scripts ORDER BY page, url")
        #expect(before.count == 2 && before.allSatisfy { $0.hasSuffix("|2026-11-30T12:01:00Z|2026-11-30T12:02:00Z|2") })
        let inventory = try Store(path: path).scriptInventory().map { "\($0.url) \($0.pages) \($0.firstSeen)" }
        #expect(try sqlite(path, "PRAGMA user_version") == ["9"])
        #expect(try sqlite(path, "SELECT count(*) FROM pages WHERE scripts_digest IS NULL AND scripts_seen IS NULL AND scripts_scan IS NULL") == ["1"])
        #expect(try sqlite(path, "SELECT * FROM page_scripts ORDER BY page, url") == before, "the migration leaves the rows as they were")
        #expect(try scriptRows(path).map { $0.split(separator: "|").suffix(2).joined(separator: "|") }
                == ["2026-11-30T12:02:00Z|2", "2026-11-30T12:02:00Z|2"])
        try cycle(3, unchanged: true)
        #expect(try sqlite(path, "SELECT count(*) FROM page_scripts WHERE last_scan = 3") == ["2"], "written once more, with a digest")
        #expect(try sqlite(path, "SELECT count(*) FROM pages WHERE scripts_digest IS NOT NULL AND scripts_scan IS NULL") == ["1"])
        try cycle(4, unchanged: true)
        #expect(try sqlite(path, "SELECT count(*) FROM page_scripts WHERE last_scan = 3") == ["2"], "seen again, not rewritten")
        #expect(try scriptRows(path).map { $0.split(separator: "|").suffix(3).joined(separator: "|") }
                == ["2026-11-30T12:01:00Z|2026-11-30T12:04:00Z|4", "2026-11-30T12:01:00Z|2026-11-30T12:04:00Z|4"])
        #expect(try Store(path: path).scriptInventory().map { "\($0.url) \($0.pages) \($0.firstSeen)" } == inventory)
    }

    @Test func aContainerChangeSaysWhichTagsCameAndWent() throws {
        let dir = try temporaryDirectory("tw-integrity-store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(path: dir + "/state.sqlite")
        let url = "https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234"
        _ = try store.record(cycle: [observation([script("a", url: url, version: "GTM-ABC1234 version 41", tags: ["__hjtc #12", "__ua #3"])], labelled: false)],
                             started: "s1", finished: "2026-11-30T10:01:00Z", unreachableAfter: 2)
        let events = try store.record(cycle: [observation([script("b", url: url, version: "GTM-ABC1234 version 42", tags: ["__ua #3", "__qpx #21"])], labelled: false)],
                                      started: "s2", finished: "2026-11-30T10:02:00Z", unreachableAfter: 2)
        let a = try #require(events.first { $0.alert.kind == .scriptChanged }?.alert)
        #expect(a.severity == .medium)
        #expect(a.message.contains("GTM-ABC1234 version 41 became GTM-ABC1234 version 42"))
        #expect(a.message.contains("tags added: __qpx #21") && a.message.contains("tags removed: __hjtc #12"))
    }

    @Test func registryTakesChangesExpected() throws {
        let dir = try temporaryDirectory("tw-integrity-registry")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        try "vendors:\n  hotjar: {status: approved, changes: expected}\n  stripe-js: {status: approved, changes: sometimes}\n"
            .write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        #expect(throws: SourceError.self) { try RegistryLoader.load(file: dir + "/approved.yaml", catalog: catalog) }
        try "vendors:\n  hotjar: {status: approved, changes: expected}\n".write(toFile: dir + "/approved.yaml", atomically: true, encoding: .utf8)
        let policy = Policy(registry: try RegistryLoader.load(file: dir + "/approved.yaml", catalog: catalog), catalog: catalog)
        #expect(policy.changesExpected(catalog.vendor(id: "hotjar")?.ref))
        #expect(!policy.changesExpected(catalog.vendor(id: "stripe-js")?.ref))
    }

    @Test func sriIsVerifiedAsBrowsersDo() {
        let d = ScriptDigest(of: Array("console.log(1)".utf8))
        #expect(SubresourceIntegrity.verify("sha384-" + d.sha384, d) == .matches)
        #expect(SubresourceIntegrity.verify("sha256-" + d.sha256Base64 + " sha384-" + d.sha384 + "?opt", d) == .matches)
        // Only the strongest algorithm counts: a right sha256 beside a wrong sha384 is a mismatch.
        #expect(SubresourceIntegrity.verify("sha256-" + d.sha256Base64 + " sha384-AAAA", d) == .mismatch)
        #expect(SubresourceIntegrity.verify("sha512-" + d.sha512Base64, d) == .matches)
        #expect(SubresourceIntegrity.verify("md5-abc", d) == .unusable)
        // base64url and missing padding are accepted.
        let url = d.sha384.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").trimmingCharacters(in: CharacterSet(charactersIn: "="))
        #expect(SubresourceIntegrity.verify("sha384-" + url, d) == .matches)
    }

    @Test func contentSecurityPolicyBlocksAllowsAndIsJudged() throws {
        let page = "https://shop.example/checkout"
        let csp = ContentSecurityPolicy(header: "default-src 'self'; script-src 'self' https://js.stripe.com *.cdn.example:8443 https://static.example/lib/; img-src *")
        #expect(csp.allows("https://js.stripe.com/v3/", directive: "script-src", pageURL: page) == true)
        #expect(csp.allows("https://shop.example/app.js", directive: "script-src", pageURL: page) == true)
        #expect(csp.allows("https://static.hotjar.com/c/hotjar-1.js", directive: "script-src", pageURL: page) == false)
        #expect(csp.allows("https://a.cdn.example:8443/x.js", directive: "script-src", pageURL: page) == true)
        #expect(csp.allows("https://a.cdn.example/x.js", directive: "script-src", pageURL: page) == false)
        #expect(csp.allows("https://static.example/lib/a.js", directive: "script-src", pageURL: page) == true)
        #expect(csp.allows("https://static.example/other.js", directive: "script-src", pageURL: page) == false)
        #expect(csp.allows("https://px.example/p.gif", directive: "img-src", pageURL: page) == true)
        #expect(csp.allows("https://www.youtube.com/embed/x", directive: "frame-src", pageURL: page) == false)
        #expect(csp.weakScriptSources.isEmpty)
        // Two policies: a load must pass both.
        #expect(ContentSecurityPolicy(header: "script-src *, script-src 'self'").allows("https://x.test/a.js", directive: "script-src", pageURL: page) == false)
        #expect(ContentSecurityPolicy(header: "script-src 'self' 'unsafe-inline' data:").weakScriptSources == ["'unsafe-inline'", "data:"])
        #expect(ContentSecurityPolicy(header: "script-src 'nonce-abc' 'unsafe-inline'").weakScriptSources.isEmpty)
        #expect(ContentSecurityPolicy(header: "script-src 'strict-dynamic' 'nonce-a'").allows("https://x.test/a.js", directive: "script-src", pageURL: page) == nil)

        // Findings: a script the policy blocks, weak sources, a denied vendor's host allowed.
        let catalog = try CatalogLoader.load(directory: Repo.rules + "/vendors")
        var registry = Registry()
        registry.vendors["google-campaign-manager-360"] = RegistryEntry(status: .denied, owner: nil, justification: nil, on: [], notOn: [],
                                                                        expires: nil, file: "approved.yaml", line: 1)
        let policy = Policy(registry: registry, catalog: catalog)
        var report = PageReport(target: Target(source: .url(page)), url: page, status: 200, error: nil, resources: [
            Resource(url: "https://static.hotjar.com/c/hotjar-1.js", host: "static.hotjar.com", kind: .script, party: .third,
                     vendor: catalog.vendor(id: "hotjar")?.ref, via: "https://www.googletagmanager.com/gtm.js?id=GTM-A",
                     tag: TagRef(type: "__hjtc", id: "3", container: "GTM-A")),
            Resource(url: "https://js.stripe.com/v3/", host: "js.stripe.com", kind: .script, party: .third, vendor: catalog.vendor(id: "stripe-js")?.ref),
        ])
        report.securityHeaders["content-security-policy"] = "script-src 'self' https://js.stripe.com https://ad.doubleclick.net 'unsafe-inline'"
        let f = policy.evaluate(report, labels: [])
        #expect(f.contains { $0.kind == .cspWeak && $0.message.contains("'unsafe-inline'") })
        let blocked = f.filter { $0.kind == .cspBlocks }
        #expect(blocked.map(\.subject) == ["https://static.hotjar.com/c/hotjar-1.js"])
        #expect(blocked.first?.message.contains("inside GTM-A") == true)
        #expect(f.contains { $0.kind == .cspAllowsDenied && $0.subject == "ad.doubleclick.net" })
    }
}
