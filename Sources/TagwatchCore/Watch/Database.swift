import CSQLite
import Foundation

/// A thin wrapper over SQLite's C API: one connection, prepared statements, typed binds.
final class Database {
    private var db: OpaquePointer?
    let path: String
    /// Statements prepared once and reused (a cycle runs the same few statements per page and resource).
    private var statements: [String: OpaquePointer] = [:]
    /// The same statements found by where their text lies (a string literal's never moves): hashing
    /// the text of a 700-character INSERT twice per resource written was a quarter of `Store.write`
    /// in a first cycle's profile. A hit is confirmed by comparing the texts (equal at once when
    /// they share their storage), so text that moved or was freed and replaced is never mistaken.
    private var byAddress: [TextAddress: (sql: String, stmt: OpaquePointer)] = [:]

    private struct TextAddress: Hashable {
        var base: UInt
        var count: Int
    }

    /// The prepared statement for `sql`, if there is one; `address`: where its text lies.
    private func cached(_ sql: String, address: TextAddress?) -> OpaquePointer? {
        if let address, let e = byAddress[address], e.sql == sql { return e.stmt }
        guard let stmt = statements[sql] else { return nil }
        if let address, byAddress.count < 512 { byAddress[address] = (sql, stmt) }
        return stmt
    }

    /// SQLite's process-wide settings, made once before the first connection opens.
    private static let configured: Bool = {
        _ = csqlite_disable_memstatus()
        return true
    }()

    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        _ = Self.configured
        // No per-connection mutex: a `Database` is used by one thread at a time (it is not
        // Sendable; `ScriptCacheReader`, which lends its own to the follower's threads, holds a
        // lock). With SQLite's mutex, its lock and unlock around every bind, step and column
        // read were a tenth of the thread that writes a first cycle's 40,000 rows.
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw Error(description: "cannot open state database \(path): \(msg)")
        }
        db = handle
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        for (_, stmt) in statements { sqlite3_finalize(stmt) }
        sqlite3_close_v2(db)
    }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &err) != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(err)
            throw Error(description: "\(path): \(msg)")
        }
    }

    /// Runs `body` in one transaction: all of it is written, or none of it.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try exec("COMMIT")
            return r
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    enum Value {
        case null, int(Int), text(String)
        /// Bytes stored as a BLOB (a compact stored form; TEXT read back stops at a NUL).
        case blob([UInt8])
    }

    /// Runs one statement with `args`, returning every row as an array of optional strings/ints.
    @discardableResult
    func query(_ sql: String, _ args: [Value] = []) throws -> [[Value]] {
        var rows: [[Value]] = []
        try forEach(sql, args) { rows.append($0) }
        return rows
    }

    /// Runs one statement with `args`, handing each row to `body` as it is read: a query over a
    /// large state (every page of a 100,000-page site) need not hold all its rows at once.
    func forEach(_ sql: String, _ args: [Value] = [], _ body: ([Value]) throws -> Void) throws {
        let (stmt, keep) = try statement(sql)
        defer { done(stmt, keep: keep) }
        for (i, a) in args.enumerated() {
            let idx = Int32(i + 1)
            switch a {
            case .null: sqlite3_bind_null(stmt, idx)
            case .int(let v): sqlite3_bind_int64(stmt, idx, sqlite3_int64(v))
            case .text(let s): Self.bind(s, stmt, idx)
            case .blob(let b):
                b.withUnsafeBytes { p in
                    // A zero-length blob still needs a non-NULL pointer, or SQLite stores NULL.
                    _ = sqlite3_bind_blob(stmt, idx, p.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(p.count), csqlite_transient())
                }
            }
        }
        let columns = sqlite3_column_count(stmt)
        var row: [Value] = []
        row.reserveCapacity(Int(columns))
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw Error(description: "\(path): \(String(cString: sqlite3_errmsg(db)))")
            }
            row.removeAll(keepingCapacity: true)
            for c in 0..<columns {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_NULL: row.append(.null)
                case SQLITE_INTEGER: row.append(.int(Int(sqlite3_column_int64(stmt, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, c))
                    if n > 0, let p = sqlite3_column_blob(stmt, c) {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: n))))
                    } else {
                        row.append(.blob([]))
                    }
                default: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                }
            }
            try body(row)
        }
    }

    var lastInsertRowID: Int { Int(sqlite3_last_insert_rowid(db)) }

    /// Binds `s` as text (up to a NUL, as C reads it). Through `withCString`, which lends a native
    /// string's own bytes: passing the String where C wants a pointer made a copy of it in a new
    /// array, ~300 instructions for each of the ~400,000 strings a first cycle binds.
    static func bind(_ s: String, _ stmt: OpaquePointer?, _ index: Int32) {
        s.withCString { _ = sqlite3_bind_text(stmt, index, $0, -1, csqlite_transient()) }
    }

    /// The prepared statement for `sql` (cached when `keep`), ready to bind.
    private func statement(_ sql: String) throws -> (stmt: OpaquePointer?, keep: Bool) {
        let address = sql.utf8.withContiguousStorageIfAvailable { TextAddress(base: UInt(bitPattern: $0.baseAddress), count: $0.count) }
        if let found = cached(sql, address: address) { return (found, true) }
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw Error(description: "\(path): \(String(cString: sqlite3_errmsg(db))) in \(sql)")
        }
        // Keep it for the next call, unless the text changes each time (values inlined), which would grow the cache.
        let keep = statements.count < 256
        if keep { statements[sql] = stmt }
        return (stmt, keep)
    }

    /// Readies a statement for its next use (or frees one not kept).
    private func done(_ stmt: OpaquePointer?, keep: Bool) {
        if keep {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        } else {
            sqlite3_finalize(stmt)
        }
    }

    /// Sets a statement's parameters in order, straight from the caller's values. Text is copied
    /// into one buffer and bound in place once all are set (`SQLITE_STATIC`), rather than SQLite
    /// allocating a copy of each string and freeing it at the next reset.
    struct Binder {
        fileprivate let stmt: OpaquePointer?
        fileprivate var index: Int32 = 0
        /// The text parameters' bytes, end to end (each up to a NUL, as C reads a string).
        fileprivate var bytes: [UInt8]
        /// Where each text parameter lies in `bytes`.
        fileprivate var texts: [(index: Int32, start: Int, count: Int)]

        mutating func text(_ s: String) {
            index += 1
            let start = bytes.count
            s.withCString { p in bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: strlen(p))) }
            texts.append((index, start, bytes.count - start))
            // An empty text still needs a pointer (a NULL one would bind NULL): this byte's.
            if bytes.count == start { bytes.append(0) }
        }

        mutating func optText(_ s: String?) {
            if let s { text(s) } else { null() }
        }

        mutating func int(_ v: Int) {
            index += 1
            sqlite3_bind_int64(stmt, index, sqlite3_int64(v))
        }

        mutating func null() {
            index += 1
            sqlite3_bind_null(stmt, index)
        }
    }

    /// `Binder`'s buffers, kept between statements for their capacity.
    private var binderBytes: [UInt8] = []
    private var binderTexts: [(index: Int32, start: Int, count: Int)] = []

    /// Runs one statement that returns no rows, its parameters set by `bind` in order. For the
    /// rows a first cycle writes per resource and script (~48,000 for 1,000 pages): building a
    /// `[Value]` of copied strings for each, then taking it apart, was a third of the time the
    /// thread writing the cycle spent on them.
    func run(_ sql: String, _ bind: (inout Binder) -> Void) throws {
        let (stmt, keep) = try statement(sql)
        var binder = Binder(stmt: stmt, bytes: binderBytes, texts: binderTexts)
        binderBytes = []
        binderTexts = []
        binder.bytes.removeAll(keepingCapacity: true)
        binder.texts.removeAll(keepingCapacity: true)
        bind(&binder)
        defer {
            binderBytes = binder.bytes
            binderTexts = binder.texts
        }
        try binder.bytes.withUnsafeBufferPointer { bytes in
            // The bytes are bound where they lie, so the statement is reset and its parameters
            // cleared before they can move.
            defer { done(stmt, keep: keep) }
            for t in binder.texts {
                let p = UnsafeRawPointer(bytes.baseAddress! + t.start).assumingMemoryBound(to: CChar.self)
                sqlite3_bind_text(stmt, t.index, p, Int32(t.count), nil)
            }
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { return }
                guard rc == SQLITE_ROW else {
                    throw Error(description: "\(path): \(String(cString: sqlite3_errmsg(db)))")
                }
            }
        }
    }
}

extension Database.Value {
    var string: String? {
        switch self {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .null, .blob: return nil
        }
    }
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .text(let s): return Int(s)
        case .null, .blob: return nil
        }
    }
    var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        case .int, .null: return nil
        }
    }
    static func opt(_ s: String?) -> Database.Value { s.map { .text($0) } ?? .null }
}
