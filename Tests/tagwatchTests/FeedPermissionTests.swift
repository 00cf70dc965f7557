import Foundation
import Testing
import TagwatchTestSupport

/// `alerts.feed_public: true` makes the feed readable by anyone whatever the service's umask;
/// without it the umask decides (the unit's 0027: owner and group only).
@Suite struct FeedPermissionTests {
    @Test func feedPublicWritesTheFeed0644UnderAStrictUmask() throws {
        let dir = try temporaryDirectory("tw-feedmode")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "<html><head><script src=\"https://static.hotjar.com/c/hotjar-1.js\"></script></head></html>"
            .write(toFile: dir + "/page.html", atomically: true, encoding: .utf8)
        for (name, isPublic, expected) in [("public", true, 0o644), ("private", false, 0o640)] {
            try """
                targets:
                  - file: page.html
                rules: \(Repo.rules)
                state: \(name).sqlite
                follow: {enabled: false}
                alerts:
                  feed: \(name).json
                  feed_public: \(isPublic)
                """.write(toFile: "\(dir)/\(name).yaml", atomically: true, encoding: .utf8)
            let r = try runCommand("/bin/sh", ["-c", "umask 0027 && exec \"$0\" run --once --config \"$1\"", Repo.binary, "\(dir)/\(name).yaml"])
            #expect(r.status == 0, "\(r.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/\(name).json")[.posixPermissions] as? Int
            #expect(mode == expected, "\(name): \(String(mode ?? 0, radix: 8))")
        }
    }
}
