/// Results of pure functions of a text that every page of a site repeats: the same tag snippets
/// (GTM, Meta Pixel, OneTrust…) and the same vendor URLs come back on page after page, and
/// evaluating a loader snippet's URLs, running a vendor's tag-id regular expressions over a
/// text, or reading a script's `gtag('config', …)` calls gives the same answer each time
/// (bench/issue12/round3-extract.md). One per thread,
/// as `DomainCache`: a scan's workers each keep their own, so the hot path takes no lock, and
/// it is released when the thread ends. Bounded: texts over `maxTextBytes` are not kept, and a
/// table is emptied when it reaches `entryLimit` entries or `byteLimit` bytes of text (three
/// tables of 1 MiB per parsing thread keep a scan well inside its memory goal even on a site
/// whose every page has inline scripts of its own). A scan's follower threads, up to 32 of them,
/// analyse each distinct script once, so they keep little (`keepLittle()`).
final class TextMemo {
    static let entryLimit = 4096
    static let byteLimit = 1 << 20
    static let maxTextBytes = 64 * 1024
    /// A follower thread's bound per table: the scripts it analyses are distinct by URL, so
    /// a large memo would mostly hold texts that never come back.
    static let followerByteLimit = 64 * 1024

    /// This memo's bound per table, in bytes of text.
    private var byteLimit = TextMemo.byteLimit

    /// `SnippetEvaluator.urls(in:)` by script text.
    private var snippetURLs = Table<String, [String]>()
    /// What `Detector` makes of a script's `gtag('config', …)` calls, by catalog generation and text.
    private var gtagLoads = Table<TagIDKey, [Detector.GtagLoad]>()
    /// `Catalog.tagIDs(vendor:in:)` by catalog generation, vendor index and text.
    private var tagIDs = Table<TagIDKey, [String]>()

    struct TagIDKey: Hashable {
        var catalog: UInt64
        var vendor: Int
        var text: String
    }

    /// One bounded table: emptied whole when it reaches `entryLimit` entries or `byteLimit`
    /// bytes of text (the texts that repeat come straight back).
    struct Table<Key: Hashable, Value> {
        private var entries: [Key: Value] = [:]
        private var bytes = 0

        subscript(key: Key) -> Value? { entries[key] }

        mutating func keep(_ value: Value, for key: Key, textBytes size: Int, limit: Int) {
            if entries.count >= TextMemo.entryLimit || bytes + size > limit {
                entries.removeAll(keepingCapacity: true)
                bytes = 0
            }
            entries[key] = value
            bytes += size
        }
    }

    func snippetURLs(_ text: String, _ compute: (String) -> [String]) -> [String] {
        let size = text.utf8.count
        guard size <= Self.maxTextBytes else { return compute(text) }
        if let urls = snippetURLs[text] { return urls }
        let urls = compute(text)
        snippetURLs.keep(urls, for: text, textBytes: size, limit: byteLimit)
        return urls
    }

    func gtagLoads(catalog: UInt64, text: String, _ compute: (String) -> [Detector.GtagLoad]) -> [Detector.GtagLoad] {
        let size = text.utf8.count
        guard size <= Self.maxTextBytes else { return compute(text) }
        let key = TagIDKey(catalog: catalog, vendor: -1, text: text)
        if let loads = gtagLoads[key] { return loads }
        let loads = compute(text)
        gtagLoads.keep(loads, for: key, textBytes: size, limit: byteLimit)
        return loads
    }

    func tagIDs(catalog: UInt64, vendor: Int, text: String) -> [String]? {
        guard text.utf8.count <= Self.maxTextBytes else { return nil }
        return tagIDs[TagIDKey(catalog: catalog, vendor: vendor, text: text)]
    }

    /// Keeps a complete result (one a regex time budget cut short is computed again next time).
    func rememberTagIDs(_ ids: [String], catalog: UInt64, vendor: Int, text: String) {
        let size = text.utf8.count
        guard size <= Self.maxTextBytes else { return }
        tagIDs.keep(ids, for: TagIDKey(catalog: catalog, vendor: vendor, text: text), textBytes: size, limit: byteLimit)
    }

    private static let perThread = PerThread { TextMemo() }

    /// Bounds this thread's memo to `followerByteLimit` per table (called by the scan's
    /// follower threads before their first script).
    static func keepLittle() {
        current.byteLimit = followerByteLimit
    }

    /// This thread's memo, made on first use and released when the thread ends.
    static var current: TextMemo { perThread.current }
}
