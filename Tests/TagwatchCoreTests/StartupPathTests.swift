import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// What the start-up work was rewritten for speed must give exactly what it gave before.
@Suite struct StartupPathTests {
    /// The fast path of `Timestamp.string` (gmtime) against the Gregorian calendar's fields.
    @Test func timestampsAreTheCalendarsReading() {
        var rng = FuzzTests.Rng(state: FuzzTests.seed ^ 0x7135)
        var dates: [Date] = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 0.999), Date(timeIntervalSince1970: 951_782_400),
                             Date(timeIntervalSince1970: 4_107_542_399.5), Date(timeIntervalSince1970: 253_402_300_799.9),
                             Date(timeIntervalSince1970: 253_402_300_800), Date(timeIntervalSince1970: -1), Date(), Date(timeIntervalSince1970: -12_219_292_801)]
        for _ in 0..<3000 { dates.append(Date(timeIntervalSince1970: Double(rng.next() % 260_000_000_000) + Double(rng.next() % 1000) / 1000)) }
        for d in dates {
            #expect(Timestamp.string(d) == Timestamp.calendarString(d), "\(d.timeIntervalSince1970)")
            #expect(Policy.today(d) == Policy.calendarToday(d), "\(d.timeIntervalSince1970)")
        }
    }

    /// The fingerprint's bytes as the earlier String concatenation made them.
    @Test func theAnalysisFingerprintIsUnchanged() throws {
        func old(catalog: Catalog, firstParty: [String]) -> String {
            var text = "tagwatch-analysis 1\u{1}"
            var st = stat()
            if stat("/proc/self/exe", &st) == 0 {
                text += "exe \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)\u{1}"
            }
            text += "first-party " + firstParty.map { $0.lowercased() }.sorted().joined(separator: " ") + "\u{1}"
            for v in catalog.vendors {
                text += [v.id, v.name, v.company, v.category].joined(separator: "\u{2}") + "\u{2}"
                text += v.hosts.joined(separator: " ") + "\u{2}" + v.patterns.joined(separator: " ") + "\u{2}"
                text += v.signatures.joined(separator: "\u{3}") + "\u{2}" + v.tagIDPatterns.joined(separator: "\u{3}") + "\u{2}"
                for t in v.tagTypes { text += t.manager.rawValue + " " + t.type + " " + t.loads.joined(separator: " ") + "\u{3}" }
                text += "\u{1}"
            }
            return ScriptDigest.sha256Hex(Array(text.utf8))
        }
        let catalog = try CatalogLoader.load(source: CatalogSource(builtin: true)).catalog
        for firstParty in [[], ["Example.com", "b.example"], ["é.test"]] {
            #expect(AnalysisFingerprint.of(catalog: catalog, firstParty: firstParty) == old(catalog: catalog, firstParty: firstParty))
        }
        #expect(AnalysisFingerprint.of(catalog: Catalog(), firstParty: []) == old(catalog: Catalog(), firstParty: []))
    }
}
