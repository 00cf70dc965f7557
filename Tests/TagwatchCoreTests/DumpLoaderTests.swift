import Foundation
import Testing
import TagwatchTestSupport
@testable import TagwatchCore

/// `rules import --from whotracksme` reads the dump as data: hostile SQL is refused with the
/// line at fault and has no effect outside the private in-memory database.
@Suite struct DumpLoaderTests {
    func load(_ sql: String, seconds: Double = 60) throws -> (MemoryDatabase, String) {
        let dir = try temporaryDirectory()
        let db = try MemoryDatabase(file: dir + "/trackerdb.sql", seconds: seconds)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try db.loadDump(sql, what: "not a dump")
        return (db, dir)
    }

    @Test func attachCannotCreateFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sql in ["ATTACH DATABASE '\(dir)/created.db' AS p; CREATE TABLE p.x(a);",
                    "CREATE TABLE t(a);\nVACUUM INTO '\(dir)/created.db';",
                    "CREATE TABLE t(a);\n\n  ATTACH '\(dir)/created.db' AS q;"] {
            let error = #expect(throws: SourceError.self) { try load(sql) }
            #expect(error?.line != nil, "\(sql)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/created.db"), "\(sql)")
        }
        let error = #expect(throws: SourceError.self) { try load("CREATE TABLE t(a);\n\n  ATTACH '\(dir)/created.db' AS q;") }
        #expect(error?.line == 3)
    }

    @Test(arguments: [
        "CREATE TABLE t(a); INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c;",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;",
        "CREATE TABLE t(a); INSERT INTO t VALUES(randomblob(1000000000));",
        "CREATE TABLE t(a); CREATE TRIGGER g AFTER INSERT ON t BEGIN INSERT INTO t VALUES(1); END;",
        "CREATE VIEW v AS SELECT 1;",
        "CREATE TEMP TABLE t(a);",
        "PRAGMA writable_schema = 1;",
        "CREATE TABLE t(a); DELETE FROM t;",
        "CREATE TABLE t(a); UPDATE t SET a = 1;",
        "SELECT load_extension('/tmp/x');",
        "CREATE TABLE t(a DEFAULT (zeroblob(2000000000))); INSERT INTO t DEFAULT VALUES;",
    ])
    func whatIsNotDataIsRefused(sql: String) throws {
        #expect(throws: SourceError.self) { try load(sql) }
    }

    @Test func aDumpOfTablesLoads() throws {
        let (db, _) = try load("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE \"t\"(a TEXT UNIQUE, b INT);\n"
            + "INSERT INTO t VALUES('x', 1),('y', 2);\nCREATE INDEX i ON t(b);\nCOMMIT;\n")
        #expect(try db.query("SELECT a FROM t ORDER BY a").map { $0[0] } == ["x", "y"])
    }

    @Test func theTimeBudgetStopsALongLoad() throws {
        let rows = (0..<20_000).map { "(\($0))" }.joined(separator: ",")
        let error = #expect(throws: SourceError.self) { try load("CREATE TABLE t(a);\nINSERT INTO t VALUES \(rows);", seconds: 0) }
        #expect(error?.description.contains("time budget") == true, "\(String(describing: error))")
    }
}
