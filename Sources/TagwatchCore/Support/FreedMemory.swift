import CMalloc
import Foundation

/// Hands the heap's free pages back to the system between the batches of a long run (a daemon
/// cycle's batches, `scan`'s chunks). glibc keeps what a batch freed in each thread's arena, and
/// the small allocations that live on (the pages seen, the alerts' pages) pin it: at 10,000
/// pages a cycle's peak RSS grew about 2.5 times faster than its live heap (heaptrack).
public enum FreedMemory {
    public static func release() {
        _ = cmalloc_trim(0)
    }

    /// Caps glibc's malloc arenas at four per core (its default is eight per core), for a long run
    /// with many threads. Round 2 capped them at one per core for memory (4,000 pages of
    /// `run --once`: 70-73 instead of 83-88 MiB peak), but since scripts are followed on threads
    /// of their own (16-32 of them) the parsing threads waited on arena locks, mostly libxml2's
    /// `realloc` and frees of what another thread allocated: ~10 % of a first cycle's CPU in
    /// `__lll_lock_wait_private` (perf). Four per core: first cycle -12 % wall and -16 % CPU,
    /// 100,000 pages still ≤ 95 MiB (bench/issue12/round6.md). An operator's `MALLOC_ARENA_MAX`
    /// is left alone. Call before the threads start.
    public static func limitArenas() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = cmalloc_arena_max(Int32(clamping: 4 * max(1, ProcessInfo.processInfo.activeProcessorCount)))
    }
}
