#if canImport(Glibc)
import Glibc
#endif

/// Results of pure functions of a text that every page of a site repeats: the same tag snippets
/// (GTM, Meta Pixel, OneTrust…) and the same vendor URLs come back on page after page, and
/// scanning a snippet for the URLs it loads, or running a vendor's tag-id regular expressions
/// over it, gives the same answer each time (bench/issue12/round3-extract.md). One per thread,
/// as `DomainCache`: a scan's workers each keep their own, so the hot path takes no lock, and
/// it is released when the thread ends. Bounded: texts over `maxTextBytes` are not kept, and a
/// table is emptied when it reaches `entryLimit` entries or `byteLimit` bytes of text.
final class TextMemo {
    static let entryLimit = 4096
    static let byteLimit = 4 << 20
    static let maxTextBytes = 64 * 1024

    /// `InlineURLScanner.loadedURLs(in:)` by script text.
    private var inlineURLs: [String: [String]] = [:]
    private var inlineURLBytes = 0
    /// `Catalog.tagIDs(vendor:in:)` by catalog generation, vendor index and text.
    private var tagIDs: [TagIDKey: [String]] = [:]
    private var tagIDBytes = 0

    struct TagIDKey: Hashable {
        var catalog: UInt64
        var vendor: Int
        var text: String
    }

    func loadedURLs(_ text: String, _ compute: (String) -> [String]) -> [String] {
        let size = text.utf8.count
        guard size <= Self.maxTextBytes else { return compute(text) }
        if let urls = inlineURLs[text] { return urls }
        let urls = compute(text)
        if inlineURLs.count >= Self.entryLimit || inlineURLBytes + size > Self.byteLimit {
            inlineURLs.removeAll(keepingCapacity: true)
            inlineURLBytes = 0
        }
        inlineURLs[text] = urls
        inlineURLBytes += size
        return urls
    }

    func tagIDs(catalog: UInt64, vendor: Int, text: String) -> [String]? {
        guard text.utf8.count <= Self.maxTextBytes else { return nil }
        return tagIDs[TagIDKey(catalog: catalog, vendor: vendor, text: text)]
    }

    /// Keeps a complete result (one a regex time budget cut short is computed again next time).
    func rememberTagIDs(_ ids: [String], catalog: UInt64, vendor: Int, text: String) {
        let size = text.utf8.count
        guard size <= Self.maxTextBytes else { return }
        if tagIDs.count >= Self.entryLimit || tagIDBytes + size > Self.byteLimit {
            tagIDs.removeAll(keepingCapacity: true)
            tagIDBytes = 0
        }
        tagIDs[TagIDKey(catalog: catalog, vendor: vendor, text: text)] = ids
        tagIDBytes += size
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { p in
            if let p { Unmanaged<TextMemo>.fromOpaque(p).release() }
        }
        return key
    }()

    /// This thread's memo, made on first use and released when the thread ends.
    static var current: TextMemo {
        if let p = pthread_getspecific(key) { return Unmanaged<TextMemo>.fromOpaque(p).takeUnretainedValue() }
        let memo = TextMemo()
        pthread_setspecific(key, Unmanaged.passRetained(memo).toOpaque())
        return memo
    }
}
