import Foundation
import Logging
import Synchronization

/// A time budget for the operator's regular expressions (catalog `tag_ids`), which run over
/// page and script text an attacker writes. NSRegularExpression (ICU) backtracks, so a pattern
/// like `(a+)+$` can take seconds per page; each match runs with ICU's progress callback and
/// stops when its budget is spent or the process is shutting down, and the pattern is reported
/// once (file:line) so the operator can fix it.
public enum RegexBudget {
    /// Seconds one pattern may spend on one text.
    public static let perMatch: Double = 0.1
    /// Set when SIGTERM/SIGINT asks the daemon to stop: running matches end at once.
    public static let interrupted = Atomic<Bool>(false)
    private static let reported = Mutex<Set<String>>([])
    private static let logger = Logger(label: "tagwatch.catalog")

    /// The matches of `regex` in `text`, or the ones found before the budget ran out (and `false`).
    static func matches(_ regex: NSRegularExpression, in text: String) -> (matches: [NSTextCheckingResult], complete: Bool) {
        var found: [NSTextCheckingResult] = []
        var complete = true
        let deadline = Date().addingTimeInterval(perMatch)
        regex.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(location: 0, length: (text as NSString).length)) { m, _, stop in
            if let m { found.append(m) }
            if interrupted.load(ordering: .relaxed) || Date() > deadline {
                complete = false
                stop.pointee = true
            }
        }
        return (found, complete)
    }

    /// Says once per pattern that it ran out of time.
    static func reportSlow(pattern: String, vendor: String, at place: String) {
        guard !interrupted.load(ordering: .relaxed) else { return }
        let first = reported.withLock { $0.insert(pattern + "\u{0}" + vendor).inserted }
        if first {
            logger.warning("\(place): tag_ids pattern '\(pattern)' of '\(vendor)' took more than \(Int(perMatch * 1000)) ms on one text and was stopped; its ids may be missing. Rewrite it without nested repetition.")
        }
    }
}
