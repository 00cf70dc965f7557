import CSQLite
import Foundation

/// WhoTracks.me's trackerdb.sql, a SQLite dump: loaded as data (only CREATE TABLE, CREATE INDEX
/// and INSERT into a private in-memory database, under limits and a time budget) and queried.
/// One vendor per tracker (`trackers` + `tracker_domains`), its company from `companies` and its
/// category from `categories` when those are there.
enum WhoTracksMeImporter {
    static let categoryMap = [
        "advertising": "advertising", "pornvertising": "advertising", "adult_advertising": "advertising",
        "site_analytics": "analytics", "audio_video_player": "video", "comments": "comments",
        "customer_interaction": "support-chat", "social_media": "social", "cdn": "cdn", "consent": "consent",
    ]

    static func read(path: String, skipped: inout [ImportSkip]) throws -> [ImportCandidate] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SourceError(file: path, line: nil, "cannot read this file")
        }
        guard let sql = String(data: data, encoding: .utf8) else {
            throw SourceError(file: path, line: nil, "not UTF-8 text")
        }
        let db = try MemoryDatabase(file: path)
        try db.loadDump(sql, what: "not a WhoTracks.me SQL dump")

        let trackerColumns = try db.columns("trackers")
        let domainColumns = try db.columns("tracker_domains")
        guard trackerColumns.contains("id"), trackerColumns.contains("name") else {
            throw SourceError(file: path, line: nil, "not a WhoTracks.me SQL dump: it has no trackers(id, name, ...) table")
        }
        guard domainColumns.contains("tracker"), domainColumns.contains("domain") else {
            throw SourceError(file: path, line: nil, "not a WhoTracks.me SQL dump: it has no tracker_domains(tracker, domain) table")
        }
        let companyColumns = try db.columns("companies")
        let categoryColumns = try db.columns("categories")

        // Build the query from the columns this version of the dump has.
        var category = "NULL", website = "NULL", company = "NULL", companyWebsite = "NULL"
        var joins = ""
        if trackerColumns.contains("category_id"), categoryColumns.contains("id"), categoryColumns.contains("name") {
            category = "cat.name"
            joins += " LEFT JOIN categories cat ON cat.id = t.category_id"
        } else if trackerColumns.contains("category") {
            category = "t.category"
        }
        if trackerColumns.contains("website_url") { website = "t.website_url" }
        if trackerColumns.contains("company_id"), companyColumns.contains("id"), companyColumns.contains("name") {
            company = "c.name"
            if companyColumns.contains("website_url") { companyWebsite = "c.website_url" }
            joins += " LEFT JOIN companies c ON c.id = t.company_id"
        }
        let rows = try db.query(
            "SELECT t.id, t.name, \(category), \(website), \(company), \(companyWebsite) FROM trackers t\(joins) ORDER BY t.name, t.id")

        var domains: [String: [String]] = [:]
        for row in try db.query("SELECT tracker, domain FROM tracker_domains ORDER BY domain") {
            if let tracker = row[0], let domain = row[1] { domains[tracker, default: []].append(domain) }
        }

        var candidates: [ImportCandidate] = []
        for row in rows {
            guard let id = row[0] else { continue }
            guard let name = trimmedString(row[1]) else {
                skipped.append(ImportSkip(item: id, reason: "tracker has no name"))
                continue
            }
            let companyName = trimmedString(row[4]) ?? name
            candidates.append(ImportCandidate(
                name: name, company: companyName, category: row[2].flatMap { categoryMap[$0] } ?? "other",
                website: trimmedString(row[3]) ?? trimmedString(row[5]), hosts: domains[id] ?? []))
        }
        return candidates
    }
}

/// An in-memory SQLite database, closed when released; errors name the file the SQL came from.
/// SQL from a file is loaded with `loadDump`, which parses and never executes anything but
/// table definitions and inserts: no ATTACH (which would create files), no SELECT (so no
/// recursive CTE), no functions, no triggers or views, and a time and size budget.
final class MemoryDatabase {
    private var db: OpaquePointer?
    private let file: String
    private let budget: Budget

    /// The progress handler's context: when loading must stop.
    final class Budget {
        var deadline: Double
        var cancelled = false
        init(seconds: Double) { deadline = Budget.now() + seconds }
        static func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }

    init(file: String, seconds: Double = 60) throws {
        self.file = file
        budget = Budget(seconds: seconds)
        guard sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_PRIVATECACHE, nil) == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SourceError(file: file, line: nil, "cannot open an in-memory SQLite database: \(message)")
        }
        // Limits: no attached databases, bounded strings, statements and expressions.
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0)
        sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16 << 20)
        sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 16 << 20)
        sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100)
        sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 200)
        sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 0)
        sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 0)
        // At most 64K pages (256 MiB at 4 KiB) of memory for the whole dump.
        _ = try? query("PRAGMA max_page_count = 65536")
        // Time: checked every 10,000 virtual machine steps, for loading and our own queries.
        sqlite3_progress_handler(db, 10_000, { ctx in
            guard let ctx else { return 1 }
            let budget = Unmanaged<Budget>.fromOpaque(ctx).takeUnretainedValue()
            if budget.cancelled || Budget.now() > budget.deadline { budget.cancelled = true; return 1 }
            return 0
        }, Unmanaged.passUnretained(budget).toOpaque())
    }

    deinit { sqlite3_close(db) }

    /// Loads a SQL dump statement by statement, allowing only what a dump of tables needs.
    /// Errors name the line of the statement at fault.
    func loadDump(_ sql: String, what: String) throws {
        sqlite3_set_authorizer(db, { _, action, arg1, _, dbName, _ in
            let name = arg1.map { String(cString: $0) } ?? ""
            let inMain = dbName.map { String(cString: $0) == "main" } ?? false
            switch action {
            case SQLITE_CREATE_TABLE, SQLITE_CREATE_INDEX:
                // SQLite itself refuses names starting with sqlite_ (its automatic indexes aside).
                return inMain ? SQLITE_OK : SQLITE_DENY
            case SQLITE_INSERT:
                // CREATE TABLE writes sqlite_master itself; SQLite refuses direct writes to it.
                return inMain ? SQLITE_OK : SQLITE_DENY
            case SQLITE_UPDATE:
                // Only SQLite's own bookkeeping of a new table or index.
                return inMain && (name == "sqlite_master" || name == "sqlite_schema") ? SQLITE_OK : SQLITE_DENY
            case SQLITE_READ:
                // Columns an index covers (and sqlite_master's rowid); SELECT itself is denied.
                return inMain ? SQLITE_OK : SQLITE_DENY
            case SQLITE_TRANSACTION:
                return SQLITE_OK
            case SQLITE_PRAGMA:
                return name.lowercased() == "foreign_keys" ? SQLITE_OK : SQLITE_DENY
            case SQLITE_SELECT:
                // Multi-row VALUES is a compound SELECT inside; statements that return rows are
                // refused below, recursive CTEs (SQLITE_RECURSIVE) and functions are denied.
                return SQLITE_OK
            case SQLITE_REINDEX:
                return inMain ? SQLITE_OK : SQLITE_DENY  // part of CREATE UNIQUE INDEX
            default:
                return SQLITE_DENY
            }
        }, nil)
        defer { sqlite3_set_authorizer(db, nil, nil) }
        var text = Array(sql.utf8CString)
        try text.withUnsafeMutableBufferPointer { buf in
            guard let start = buf.baseAddress else { return }
            var cursor = UnsafePointer<CChar>(start)
            var line = 1
            while cursor.pointee != 0 {
                var stmt: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(db, cursor, -1, &stmt, &tail)
                // The line the statement starts on (after the whitespace before it).
                var first = cursor
                while true {
                    let c = first.pointee
                    if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                        if c == 0x0A { line += 1 }
                        first += 1
                    } else if c == 0x2D && first[1] == 0x2D {  // a -- comment, to the end of its line
                        while first.pointee != 0 && first.pointee != 0x0A { first += 1 }
                    } else {
                        break
                    }
                }
                let statementLine = line
                guard let tail else { break }
                var p = first
                while p < tail { if p.pointee == 0x0A { line += 1 }; p += 1 }
                cursor = tail
                guard rc == SQLITE_OK else {
                    sqlite3_finalize(stmt)
                    throw SourceError(file: file, line: statementLine, "\(what): \(reason())")
                }
                guard let stmt else { continue }  // only whitespace or a comment
                defer { sqlite3_finalize(stmt) }
                guard sqlite3_column_count(stmt) == 0 else {
                    throw SourceError(file: file, line: statementLine,
                                      "\(what): a statement that returns rows; only CREATE TABLE, CREATE INDEX and INSERT are read from a dump")
                }
                while true {
                    let step = sqlite3_step(stmt)
                    if step == SQLITE_DONE { break }
                    guard step == SQLITE_ROW else {
                        throw SourceError(file: file, line: statementLine, "\(what): \(reason())")
                    }
                }
            }
        }
    }

    private func reason() -> String {
        if budget.cancelled { return "loading took longer than the time budget; a dump of tables loads in seconds" }
        let message = String(cString: sqlite3_errmsg(db))
        if message == "not authorized" {
            return "only CREATE TABLE, CREATE INDEX and INSERT statements are read from a dump; this statement is something else"
        }
        return "SQLite says \(message)"
    }

    /// Every row of `sql`, each column as text (nil for NULL).
    func query(_ sql: String) throws -> [[String?]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw SourceError(file: file, line: nil, "query failed: \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(stmt) }
        var rows: [[String?]] = []
        let count = sqlite3_column_count(stmt)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw SourceError(file: file, line: nil, "query failed: \(String(cString: sqlite3_errmsg(db)))")
            }
            rows.append((0..<count).map { i in
                sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_text(stmt, i).map { String(cString: $0) }
            })
        }
        return rows
    }

    /// The column names of `table`; empty when there is no such table.
    func columns(_ table: String) throws -> [String] {
        try query("SELECT name FROM pragma_table_info('\(table)')").compactMap { $0[0] }
    }
}
