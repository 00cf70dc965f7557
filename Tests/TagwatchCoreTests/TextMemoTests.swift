import Foundation
import Testing
@testable import TagwatchCore

/// The per-thread memo keeps what repeats within its bound, and a follower thread's bound is
/// the small one (a scan runs up to 32 followers: their memos must not add up to its memory goal).
@Suite struct TextMemoTests {
    /// Written by the one thread that runs, read after it signalled.
    final class Counter: @unchecked Sendable { var n = 0 }

    /// How many of `texts`' snippet URLs a fresh thread computed (not found in its memo), after
    /// `prepare` ran on that thread; each text is asked twice, the second pass in the same order.
    static func computedOnFreshThread(_ texts: [String], prepare: @escaping @Sendable () -> Void) -> Int {
        let done = DispatchSemaphore(value: 0)
        let count = Counter()
        let thread = Thread {
            prepare()
            let memo = TextMemo.current
            for _ in 0..<2 {
                for t in texts {
                    _ = memo.snippetURLs(t) { _ in
                        count.n += 1
                        return []
                    }
                }
            }
            done.signal()
        }
        thread.start()
        done.wait()
        return count.n
    }

    @Test func aParsingThreadKeepsTextsUpToItsBound() {
        // Three texts of 40 KB: 120 KB, within a parsing thread's 1 MiB: each computed once.
        let texts = (0..<3).map { String(repeating: Character(String($0)), count: 40_000) }
        #expect(Self.computedOnFreshThread(texts, prepare: {}) == 3)
    }

    @Test func aFollowerThreadKeepsLittle() {
        // The same texts on a follower thread: its 64 KiB table is emptied before each new text
        // is kept, so every text of the second pass is computed again.
        let texts = (0..<3).map { String(repeating: Character(String($0)), count: 40_000) }
        #expect(Self.computedOnFreshThread(texts, prepare: { TextMemo.keepLittle() }) == 6)
    }
}
