import Foundation

/// One cycle being written to the state in batches of pages, so a daemon watching 100,000 pages
/// holds one batch of observations at a time rather than all of them (issue 12: the cycle held
/// every page's report, and the state's pages and alert pages, at once).
///
/// The cycle is still one transaction: it opens with the first batch and commits in `finish`,
/// so a process killed at any moment leaves the last whole cycle (a cancelled or failed one is
/// rolled back). What the alerts need of each page is folded in as it is written: its findings
/// into their alerts (`Differ.Groups`), whether it was scanned, its vendors counted.
public final class CycleRecorder {
    let store: Store
    let started: String
    let unreachableAfter: Int
    private var scanID: Int?
    private var finished = false

    // What `Store.write` keeps across batches for `Store.finish`.
    var groups: Differ.Groups
    /// Pages scanned (by their ordinal in `groups`).
    var scanned = Set<Int32>()
    var judgedUnreachable = Set<String>()
    var vendorPages: [String: Int] = [:]
    var scriptsSeen: [String: ScriptChange] = [:]
    /// Pages written so far, those that failed, and the resources they reported.
    public internal(set) var pages = 0
    public internal(set) var failed = 0
    public internal(set) var resources = 0

    public init(store: Store, started: String, unreachableAfter: Int) {
        self.store = store
        self.started = started
        self.unreachableAfter = unreachableAfter
        groups = Differ.Groups(grouping: store.grouping)
    }

    /// Writes one batch of pages, stamped `time` (when the batch was scanned). The first batch
    /// opens the cycle's transaction; an error rolls the whole cycle back.
    public func add(_ observations: [PageObservation], at time: String) throws {
        precondition(!finished, "a finished cycle takes no more pages")
        do {
            let id = try begin()
            try store.write(observations, into: self, scanID: id, at: time)
        } catch {
            rollback()
            throw error
        }
    }

    /// Writes one page, stamped `time`, with its stored form (`Store.storedForm`): a cycle writes
    /// each page as its report comes in, in the order the pages are listed, while the next pages
    /// are still being scanned. An error rolls the whole cycle back.
    public func add(_ observation: PageObservation, storedForm: String?, at time: String) throws {
        precondition(!finished, "a finished cycle takes no more pages")
        do {
            let id = try begin()
            try store.write(observation, storedForm: storedForm, into: self, scanID: id, at: time)
        } catch {
            rollback()
            throw error
        }
    }

    /// Works out the cycle's alerts, commits, and returns the events the cycle caused.
    /// `scriptCache`: followed scripts fetched whole this cycle whose bytes or validators changed.
    public func finish(finished time: String, scriptCache: [ScriptCacheEntry] = []) throws -> [AlertEvent] {
        precondition(!finished, "a cycle is finished once")
        do {
            let id = try begin()
            let events = try store.finish(self, scanID: id, finished: time, scriptCache: scriptCache)
            try store.db.exec("COMMIT")
            finished = true
            scanID = nil
            return events
        } catch {
            rollback()
            throw error
        }
    }

    /// Drops whatever was written (a cancelled cycle records nothing).
    public func cancel() {
        rollback()
    }

    private func begin() throws -> Int {
        if let scanID { return scanID }
        try store.db.exec("BEGIN IMMEDIATE")
        do {
            try store.db.query("INSERT INTO scans(started, finished, pages, failed, resources) VALUES(?,?,0,0,0)",
                               [.text(started), .text(started)])
        } catch {
            try? store.db.exec("ROLLBACK")
            throw error
        }
        let id = store.db.lastInsertRowID
        scanID = id
        return id
    }

    private func rollback() {
        if scanID != nil { try? store.db.exec("ROLLBACK") }
        scanID = nil
        finished = true
    }

    deinit {
        if scanID != nil { try? store.db.exec("ROLLBACK") }
    }
}
