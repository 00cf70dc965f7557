import CSQLite
import Foundation

/// WhoTracks.me's trackerdb.sql, a SQLite dump: loaded into an in-memory database and queried.
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
        try db.exec(sql, what: "not a WhoTracks.me SQL dump")

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
final class MemoryDatabase {
    private var db: OpaquePointer?
    private let file: String

    init(file: String) throws {
        self.file = file
        guard sqlite3_open(":memory:", &db) == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SourceError(file: file, line: nil, "cannot open an in-memory SQLite database: \(message)")
        }
    }

    deinit { sqlite3_close(db) }

    func exec(_ sql: String, what: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &error) != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(error)
            throw SourceError(file: file, line: nil, "\(what): SQLite says \(message)")
        }
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
