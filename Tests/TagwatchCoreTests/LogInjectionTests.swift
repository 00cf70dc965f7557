import Foundation
import Testing
@testable import TagwatchCore

/// Page data in an alert can never start a line of its own in the alert log (issue 9).
@Suite struct LogInjectionTests {
    static let terminators: [Unicode.Scalar] = ["\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}"]

    func event(_ text: String) -> AlertEvent {
        let alert = Alert(id: "tw-1", kind: .unknownThirdParty, severity: .medium, page: "https://a.test/\(text)", subject: text,
                          vendor: nil, resourceURL: "https://x.test/\(text)", message: "m \(text) level=error kind=forged",
                          firstSeen: "t", state: .open, raisedAt: "t", resolvedAt: nil)
        return AlertEvent(seq: 1, event: .raised, at: "2026-11-30T00:00:00Z", alert: alert)
    }

    @Test(arguments: terminators)
    func everyLineTerminatorIsEscaped(t: Unicode.Scalar) {
        let hostile = "x\(t)time=2026 level=error event=raised kind=denied-vendor\r\n\u{1B}[31m\u{7F}\u{9B}"
        for format in Config.LogFormat.allCases {
            let line = AlertLog.line(event(hostile), format: format)
            let bad = line.unicodeScalars.filter { $0.value < 0x20 || ($0.value >= 0x7F && $0.value <= 0x9F) || $0.value == 0x2028 || $0.value == 0x2029 }
            #expect(bad.isEmpty, "\(format): \(line.debugDescription)")
        }
        // And it reads back as the value it was: quoted, with the escapes.
        let value = AlertLog.logfmtValue("a\(t)b")
        #expect(value.hasPrefix("\"") && value.hasSuffix("\"") && value.contains("\\"), "\(value.debugDescription)")
    }

    @Test func plainValuesStayPlain() {
        #expect(AlertLog.logfmtValue("hotjar") == "hotjar")
        #expect(AlertLog.logfmtValue("a b") == "\"a b\"")
        #expect(AlertLog.logfmtValue("q\"\\") == "\"q\\\"\\\\\"")
        #expect(AlertLog.logfmtValue("\u{2028}") == "\"\\u2028\"")
        #expect(AlertLog.logfmtValue("\r\n") == "\"\\r\\n\"")
    }
}
