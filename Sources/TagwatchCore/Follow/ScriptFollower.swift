import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Limits of script following, per scan or daemon cycle.
public struct FollowOptions: Sendable, Equatable {
    /// Off: only what the page's HTML names is reported.
    public var enabled = true
    /// Largest script body read (a container of 10,000 tags is a few MB).
    public var maxScriptBytes = 8 * 1024 * 1024
    /// Distinct scripts fetched or read per scan or cycle.
    public var maxScripts = 5000
    /// Bytes of scripts fetched or read per scan or cycle.
    public var maxTotalBytes = 512 * 1024 * 1024
    /// How many scripts deep: page → container → a tag's script → what that script loads.
    public var depth = 3
    /// For file and folder targets, also fetch scripts that are not on disk (off: offline).
    public var remoteForFiles = false

    public init() {}
}

/// Fetches each distinct script a scan's pages load once (or reads it from disk for saved and
/// built pages), analyses it once, and adds what it loads to every page that loads it, with
/// `via` naming the script. Shared by the scan's parsing threads: a script two pages load at
/// the same time is fetched once, the second page waiting for the first's result.
public final class ScriptFollower: @unchecked Sendable {
    public let options: FollowOptions
    let analyzer: ScriptAnalyzer
    let detector: Detector
    let fetchOptions: FetchOptions

    private let lock = NSCondition()
    /// What the disk holds, asked once per scan: pages of one folder look for the same files.
    let files = FileCache()
    private var cache: [String: ScriptAnalysis] = [:]
    private var pending = Set<String>()
    private var scriptsTaken = 0
    private var bytesTaken = 0
    /// What the last cycle stored about a script (nil: a scan, which remembers nothing).
    private let storedScript: (@Sendable (String) -> StoredScript?)?
    /// Scripts this cycle's cache holds from a 304: not re-read, so not what a page that must
    /// be verified whole (a payment page) may use.
    private var notModified = Set<String>()
    /// Scripts fetched whole whose bytes or validators differ from what was stored.
    private var toStore: [String: StoredScript] = [:]
    /// Scripts asked for conditionally and answered 304 (for the cycle's log and tests).
    private var notModifiedCount = 0
    /// `containerScripts(_:)`'s answers, by container id.
    private var containerURLs: [String: [String]] = [:]
    private let containerLock = NSLock()
    /// Multi handles (and their open connections) free for the next batch of fetches.
    private var sessions: [FetchSession] = []
    /// `per_host` over all the follower threads: each fetches one page's scripts, and without a
    /// shared count as many threads could each ask one host for `per_host` scripts at once.
    let hostSlots: HostSlots

    /// Runs `body` with a session no other thread uses meanwhile, kept for the next batch.
    private func withSession(_ body: (FetchSession?) -> Void) {
        lock.lock()
        let session = sessions.popLast() ?? FetchSession()
        lock.unlock()
        body(session)
        guard let session else { return }
        lock.lock()
        sessions.append(session)
        lock.unlock()
    }

    /// `storedScript`: the state's copy of a script, when the caller keeps one between runs (the
    /// daemon): it is then fetched conditionally and its analysis reused when unchanged.
    public init(catalog: Catalog, detector: Detector, fetchOptions: FetchOptions, options: FollowOptions,
                storedScript: (@Sendable (String) -> StoredScript?)? = nil) {
        self.analyzer = ScriptAnalyzer(catalog: catalog)
        self.detector = detector
        self.options = options
        var fo = fetchOptions
        fo.maxBodyBytes = options.maxScriptBytes
        self.fetchOptions = fo
        self.hostSlots = HostSlots(perHost: fetchOptions.perHost)
        self.storedScript = storedScript
    }

    /// What to write to the state's `script_cache` after the cycle, sorted by URL.
    public func cacheUpdates() -> [ScriptCacheEntry] {
        lock.lock()
        defer { lock.unlock() }
        return toStore.keys.sorted().map { ScriptCacheEntry(url: $0, stored: toStore[$0]!) }
    }

    /// How many scripts were answered 304 and their stored analysis reused.
    public var reusedOnNotModified: Int {
        lock.lock()
        defer { lock.unlock() }
        return notModifiedCount
    }

    /// Scripts fetched or read so far, and their bytes.
    public var usage: (scripts: Int, bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (scriptsTaken, bytesTaken)
    }

    /// Adds to `report` what the scripts it loads load, level by level up to `options.depth`.
    /// `seeds` are script URLs the page loads that are not reported as resources (files beside a
    /// saved page, which have no host).
    public func follow(_ report: inout PageReport, job: ScanJob, seeds: [String] = [], cancellation: FetchCancellation? = nil) {
        guard options.enabled, report.error == nil else { return }
        var local = LocalScripts(job: job, files: files)
        if job.isScriptFile, let p = job.path { local?.explicit[job.url] = p }
        // (kind, url) pairs, not "kind url" strings: no string is built per resource per page. Made
        // when a followed script first yields a resource: a page whose scripts all fail (every
        // page of a daemon cycle whose scripts are down) never needs it.
        var keysMade: Set<ResourceKey>?
        var level: [String] = []
        for r in report.resources where r.kind == .script || (r.kind == .inlineScript && Self.mayBeScriptPath(r.url)
            && Detector.isScriptPath(URLResolver.hostAndPath(r.url)?.path ?? "", url: r.url)) {
            if !level.contains(r.url) { level.append(r.url) }
        }
        for u in seeds where !level.contains(u) { level.append(u) }
        // A container id the page names (the <noscript> iframe's `ns.html?id=GTM-…`) means its container loads.
        for r in report.resources {
            for id in r.tagIDs where id.hasPrefix("GTM-") {
                for url in containerScripts(id) where !level.contains(url) { level.append(url) }
            }
        }
        // A container or script scanned as a file is the first thing followed.
        if job.isScriptFile { level = [job.url] }
        // Stylesheets pinned with SRI are fetched to check the pin, not read for what they load.
        var hashOnly = Set<String>()
        for r in report.resources where r.kind == .link && r.integrity != nil && !level.contains(r.url) {
            hashOnly.insert(r.url)
            level.append(r.url)
        }
        let integrityByURL = Dictionary(report.resources.compactMap { r in r.integrity.map { (r.url, $0) } }, uniquingKeysWith: { a, _ in a })
        var viaOf: [String: String] = [:]
        var followed = Set<String>()
        var skippedRemote = 0
        for _ in 0..<options.depth {
            let urls = level.filter { followed.insert($0).inserted }
            if urls.isEmpty || cancellation?.isCancelled == true { break }
            var remote: [String] = []
            var localPaths: [String: String] = [:]
            for u in urls {
                if let p = local?.path(for: u) { localPaths[u] = p } else if job.path != nil && !options.remoteForFiles && !job.isScriptFile {
                    skippedRemote += 1
                } else if job.path == nil || options.remoteForFiles {
                    remote.append(u)
                }
            }
            let analyses = analyses(remote: remote, local: localPaths, hashOnly: hashOnly, whole: job.fetchScriptsWhole,
                                    cancellation: cancellation)
            var next: [String] = []
            for u in urls {
                guard let a = analyses[u] else { continue }
                if u != job.url || !job.isScriptFile {
                    report.scripts.append(ScriptRecord(url: u, kind: hashOnly.contains(u) ? "stylesheet" : "script",
                                                       integrity: integrityByURL[u], digest: a.digest, error: a.error,
                                                       containerVersion: a.containerVersion, containerTags: a.containerTags,
                                                       via: viaOf[u]))
                }
                if let e = a.error {
                    report.warnings.append("\(hashOnly.contains(u) ? "stylesheet" : "script") \(u) not followed: \(e)")
                    continue
                }
                for w in a.warnings where !report.warnings.contains(w) { report.warnings.append(w) }
                for r in detector.detectFollowed(a.found, pageURL: report.url) {
                    if r.kind == .script, !next.contains(r.url) {
                        next.append(r.url)
                        if viaOf[r.url] == nil { viaOf[r.url] = u }
                    }
                    if keysMade == nil { keysMade = Set(report.resources.map { ResourceKey(kind: $0.kind, url: $0.url) }) }
                    if keysMade!.insert(ResourceKey(kind: r.kind, url: r.url)).inserted { report.resources.append(r) }
                }
                next += a.follow.filter { !next.contains($0) }
            }
            level = next
        }
        if skippedRemote > 0 {
            report.warnings.append("\(skippedRemote) script\(skippedRemote == 1 ? "" : "s") not on disk were not fetched (a file target is scanned offline; --follow-remote fetches them)")
        }
    }

    /// False only when `Detector.isScriptPath` of the URL's path is false for sure, so the URL
    /// need not be parsed: every test there needs "js" in the path or the URL, and the path is
    /// made of the URL's characters (the parser only drops tabs and line breaks, and its percent
    /// escapes have no j or s), so a URL with neither "js" nor those characters has no such path.
    /// Inline scripts are named `page#inline-script-N`: most are not worth a parse.
    static func mayBeScriptPath(_ url: String) -> Bool {
        url.containsBytes("js") || url.utf8.contains { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }

    /// The scripts a container id loads by the catalog's gtag rules (`gtm.js?id=…`), worked out
    /// once per id per scan: every page of a site names the same container, and a daemon cycle
    /// asks again for each page it revisits (filling the templates showed at 3 % of a cycle).
    private func containerScripts(_ id: String) -> [String] {
        containerLock.lock()
        if let known = containerURLs[id] { containerLock.unlock(); return known }
        containerLock.unlock()
        var urls: [String] = []
        if ScriptAnalyzer.isDestinationID(id), let (_, rule) = analyzer.catalog.tagType(.gtag, id) {
            for u in rule.loads where ScriptAnalyzer.kind(forLoad: u) == .script {
                let url = ScriptAnalyzer.fill(u, ["id": id]).url
                if !urls.contains(url) { urls.append(url) }
            }
        }
        containerLock.lock()
        containerURLs[id] = urls
        containerLock.unlock()
        return urls
    }

    /// The analysis of each URL: cached, or fetched/read now (once across threads). `whole`: the
    /// page's scripts must be read whole this cycle (a payment page): no conditional request, and
    /// no analysis this cycle took from a 304.
    private func analyses(remote: [String], local: [String: String], hashOnly: Set<String>, whole: Bool = false,
                          cancellation: FetchCancellation?) -> [String: ScriptAnalysis] {
        func analyse(_ body: [UInt8], _ u: String) -> ScriptAnalysis {
            if hashOnly.contains(u) {
                var a = ScriptAnalysis()
                a.size = body.count
                a.digest = ScriptDigest(of: body)
                return a
            }
            return analyzer.analyse(body: body, url: u)
        }
        var result: [String: ScriptAnalysis] = [:]
        var mine: [String] = []
        var waitFor: [String] = []
        lock.lock()
        var conditional = Set<String>()
        for u in remote + local.keys.sorted() {
            let mustReread = whole && notModified.contains(u)
            if let a = cache[u], !mustReread { result[u] = a } else if pending.contains(u) { waitFor.append(u) } else {
                if mustReread {
                    // Taken from a 304 for another page: fetched again whole, not counted twice.
                    cache[u] = nil
                    pending.insert(u)
                    mine.append(u)
                    continue
                }
                if !whole { conditional.insert(u) }
                if scriptsTaken >= options.maxScripts || bytesTaken >= options.maxTotalBytes {
                    var a = ScriptAnalysis()
                    a.error = "the follow budget of this scan is spent (\(options.maxScripts) scripts or \(options.maxTotalBytes) bytes)"
                    result[u] = a
                    continue
                }
                scriptsTaken += 1
                pending.insert(u)
                mine.append(u)
            }
        }
        lock.unlock()

        var done: [String: ScriptAnalysis] = [:]
        let mineRemote = mine.filter { local[$0] == nil }
        for u in mine where local[u] != nil {
            var a: ScriptAnalysis
            do {
                let body = try FileSource.read(local[u]!, maxBytes: options.maxScriptBytes)
                a = analyse(body, u)
            } catch {
                a = ScriptAnalysis()
                a.error = "\(error)"
            }
            done[u] = a
        }
        var fromNotModified = Set<String>()
        var updates: [String: StoredScript] = [:]
        var reusedOn304 = 0
        if !mineRemote.isEmpty {
            var collected: [String: ScriptAnalysis] = [:]
            let stored = storedScript.map { lookup in
                Dictionary(mineRemote.compactMap { u in lookup(u).map { (u, $0) } }, uniquingKeysWith: { a, _ in a })
            } ?? [:]
            // Asked again whole: a 304 (or a stored copy that cannot be read) leaves no bytes to analyse.
            var again: [String] = []
            func take(_ r: FetchResult, _ u: String, conditionally: Bool) {
                var a: ScriptAnalysis
                let old = stored[u]
                if let e = r.error {
                    a = ScriptAnalysis()
                    // An ASCII message (libcurl's, ours) is searched as bytes: Foundation's `contains`
                    // showed at 0.4 % of a cycle whose scripts all fail. Anything else as before.
                    let overLimit = e.utf8.allSatisfy { $0 < 0x80 } ? e.containsBytes("limit") : e.contains("limit")
                    a.error = overLimit ? "\(e) (follow: max_script_bytes is \(options.maxScriptBytes))" : e
                } else if r.status == 304 && conditionally {
                    guard let old, let reused = ScriptAnalysis(encoded: old.analysis, hashOnly: hashOnly.contains(u)) else {
                        again.append(u)
                        return
                    }
                    // Not modified: the same bytes as stored, so the same hash and analysis.
                    a = reused
                    fromNotModified.insert(u)
                    reusedOn304 += 1
                    let etag = r.etag ?? old.etag, lastModified = r.lastModified ?? old.lastModified
                    if etag != old.etag || lastModified != old.lastModified {
                        updates[u] = StoredScript(etag: etag, lastModified: lastModified, bodySHA256: old.bodySHA256,
                                                  analysis: old.analysis)
                    }
                } else if let s = r.status, !(200..<300).contains(s) {
                    a = ScriptAnalysis()
                    a.error = "HTTP \(s) from \(r.finalURL)"
                } else {
                    // Hashed once more only when a stored copy may spare the analysis (which hashes it itself).
                    let sha = old.map { _ in ScriptDigest.sha256Hex(r.body) }
                    if let old, old.bodySHA256 == sha, let reused = ScriptAnalysis(encoded: old.analysis, hashOnly: hashOnly.contains(u)) {
                        // The same bytes as stored (the SHA-256 says so): the stored analysis holds.
                        a = reused
                        if r.etag != old.etag || r.lastModified != old.lastModified {
                            updates[u] = StoredScript(etag: r.etag, lastModified: r.lastModified, bodySHA256: old.bodySHA256,
                                                      analysis: old.analysis)
                        }
                    } else {
                        a = analyse(r.body, u)
                        if storedScript != nil, a.error == nil, let hash = sha ?? a.digest?.sha256 {
                            updates[u] = StoredScript(etag: r.etag, lastModified: r.lastModified, bodySHA256: hash,
                                                      analysis: a.encoded(hashOnly: hashOnly.contains(u)))
                        }
                    }
                }
                collected[u] = a
            }
            let headers = mineRemote.map { u in conditional.contains(u) ? stored[u]?.requestHeaders ?? [] : [] }
            withSession { session in
                Fetcher(options: fetchOptions).fetch(mineRemote, requestHeaders: headers, cancellation: cancellation, session: session,
                                                     hostSlots: hostSlots) { i, r in
                    take(r, mineRemote[i], conditionally: !headers[i].isEmpty)
                }
                if !again.isEmpty {
                    Fetcher(options: fetchOptions).fetch(again, cancellation: cancellation, session: session, hostSlots: hostSlots) { i, r in
                        take(r, again[i], conditionally: false)
                    }
                }
            }
            for (u, a) in collected { done[u] = a }
            for u in mineRemote where done[u] == nil {
                var a = ScriptAnalysis()
                a.error = "not fetched"
                done[u] = a
            }
        }

        lock.lock()
        for (u, a) in done {
            // A cancelled fetch is not remembered: the next cycle tries again.
            if cancellation?.isCancelled != true {
                cache[u] = a
                if fromNotModified.contains(u) { notModified.insert(u) } else { notModified.remove(u) }
                if let s = updates[u] { toStore[u] = s }
            }
            bytesTaken += a.size
            pending.remove(u)
            result[u] = a
        }
        notModifiedCount += reusedOn304
        lock.broadcast()
        var reread: [String] = []
        for u in waitFor {
            while cache[u] == nil && pending.contains(u) { lock.wait() }
            var missing = ScriptAnalysis()
            missing.error = "cancelled"
            result[u] = cache[u] ?? missing
            if whole && notModified.contains(u) { reread.append(u) }
        }
        lock.unlock()
        // Another page's conditional fetch answered what this one waited for with a 304.
        if !reread.isEmpty {
            let wholeAgain = analyses(remote: reread, local: [:], hashOnly: hashOnly, whole: true, cancellation: cancellation)
            for (u, a) in wholeAgain { result[u] = a }
        }
        return result
    }
}

/// A resource's identity within a page: its kind and URL.
private struct ResourceKey: Hashable {
    var kind: ResourceKind
    var url: String
}

/// Where a script a saved or built page loads is on disk: beside the page (a `*_files/` folder,
/// a built `dist/`), in a mirror laid out by host (`www.googletagmanager.com/gtm.js`), or, for
/// a tag-manager container, a file beside the page named with its id (`…GTM-ABC1234….js`).
/// Only regular files under the folders the operator named are read.
struct LocalScripts {
    let pageDirectory: String
    let roots: [String]
    let siteRoot: String
    let pageURL: String

    let files: FileCache

    init?(job: ScanJob, files: FileCache) {
        guard let path = job.path else { return nil }
        self.files = files
        let dir = (path as NSString).deletingLastPathComponent
        pageDirectory = dir.isEmpty ? "." : dir
        pageURL = job.url
        // The site's root: the page's folder less the folders its URL path has.
        var site = pageDirectory
        if let (_, urlPath) = URLResolver.hostAndPath(job.url) {
            let dirs = urlPath.split(separator: "/", omittingEmptySubsequences: true).dropLast(urlPath.hasSuffix("/") ? 0 : 1)
            var components = (site as NSString).pathComponents
            for d in dirs.reversed() {
                if components.last == String(d).removingPercentEncoding ?? String(d) { components.removeLast() } else { break }
            }
            site = NSString.path(withComponents: components)
        }
        siteRoot = site
        var roots = [job.root ?? pageDirectory, siteRoot, pageDirectory]
        // A mirror saved by host (`www.example.com/index.html`): its parent holds the other hosts.
        if let host = URLResolver.hostAndPath(job.url)?.host, (siteRoot as NSString).lastPathComponent == host {
            roots.append((siteRoot as NSString).deletingLastPathComponent)
        }
        var unique: [String] = []
        for r in roots.map({ ($0 as NSString).standardizingPath }) where !unique.contains(r) { unique.append(r) }
        self.roots = unique
    }

    /// The script file scanned as a target is itself.
    var explicit: [String: String] = [:]

    func path(for url: String) -> String? {
        if let p = explicit[url] { return p }
        if url.hasPrefix("file://") {
            guard let p = URL(string: url)?.path else { return nil }
            return allowed(p) && files.isRegularFile(p) ? p : nil
        }
        guard let (host, rawPath) = URLResolver.hostAndPath(url) else { return nil }
        let path = rawPath.removingPercentEncoding ?? rawPath
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        var candidates: [String] = []
        if let page = URLResolver.hostAndPath(pageURL), page.host == host {
            candidates.append(siteRoot + path)
        }
        // A mirror by host: only roots that hold a folder named after the host (one listing per root per scan).
        for root in roots where files.names(in: root).contains(host) {
            candidates.append(root + "/" + host + path + query)
            candidates.append(root + "/" + host + path)
            if path.hasSuffix("/") { candidates.append(root + "/" + host + path + "index.html") }
        }
        for c in candidates where allowed(c) && files.isRegularFile(c) { return c }
        // A container saved beside the page under a name carrying its id.
        if let id = Self.containerID(in: url) {
            for dir in [pageDirectory] + roots {
                for n in files.names(in: dir, containing: id) {
                    let lower = n.lowercased()
                    guard lower.hasSuffix(".js") || lower.hasSuffix(".js.gz") || lower.hasSuffix(".json")
                        || lower.hasSuffix(".download") else { continue }
                    let p = dir + "/" + n
                    if files.isRegularFile(p) { return p }
                }
            }
        }
        return nil
    }

    /// `GTM-…` in a `gtm.js?id=` URL.
    static func containerID(in url: String) -> String? {
        guard url.containsBytes("gtm") else { return nil }
        let bytes = Array(url.utf8)
        let needle = Array("GTM-".utf8)
        guard let at = TagManagerContainer.find(needle, in: bytes, from: 0, limit: bytes.count) else { return nil }
        var end = at + needle.count
        while end < bytes.count, (bytes[end] >= 0x30 && bytes[end] <= 0x39) || (bytes[end] >= 0x41 && bytes[end] <= 0x5A)
            || (bytes[end] >= 0x61 && bytes[end] <= 0x7A) { end += 1 }
        return end - at >= 8 ? String(decoding: bytes[at..<end], as: UTF8.self) : nil
    }

    /// Under one of the roots, with no `.` or `..` segment that could climb out of it.
    private func allowed(_ p: String) -> Bool {
        if p.containsBytes("/../") || p.hasSuffix("/..") || p.containsBytes("/./") || p.hasPrefix("../") { return false }
        return roots.contains { p == $0 || p.hasPrefix($0 == "/" ? "/" : $0 + "/") }
    }


}

/// Answers about the disk, remembered for one scan: whether a path is a regular file (never a
/// FIFO or a device, which could hang a read), and the names in a folder.
final class FileCache: @unchecked Sendable {
    private let lock = NSLock()
    private var regular: [String: Bool] = [:]
    private var listings: [String: [String]] = [:]

    func isRegularFile(_ path: String) -> Bool {
        lock.lock()
        if let known = regular[path] { lock.unlock(); return known }
        lock.unlock()
        var st = stat()
        let isRegular = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        lock.lock()
        regular[path] = isRegular
        lock.unlock()
        return isRegular
    }

    private var matches: [String: [String]] = [:]

    /// The names in `directory` that contain `needle` (a container id), remembered per scan.
    func names(in directory: String, containing needle: String) -> [String] {
        let key = directory + "\u{0}" + needle
        lock.lock()
        if let known = matches[key] { lock.unlock(); return known }
        lock.unlock()
        let found = names(in: directory).filter { $0.containsBytes(needle) }
        lock.lock()
        matches[key] = found
        lock.unlock()
        return found
    }

    func names(in directory: String) -> [String] {
        lock.lock()
        if let known = listings[directory] { lock.unlock(); return known }
        lock.unlock()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        lock.lock()
        listings[directory] = names
        lock.unlock()
        return names
    }
}
