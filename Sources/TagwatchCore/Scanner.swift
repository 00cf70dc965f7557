import Foundation
import Synchronization

/// One page to scan after targets are expanded: folders become their HTML files.
public struct ScanJob: Sendable {
    public var target: Target
    /// The URL to fetch, or the URL a file is served at.
    public var url: String
    /// For files: the path to read.
    public var path: String?
    /// Set when the job failed before it could be scanned (e.g. its sitemap could not be read).
    public var error: String?
    /// For files: the folder the operator named (or the file's own folder), which bounds where
    /// the scripts the page loads are looked for on disk.
    public var root: String?
    /// What the last cycle stored for this page: sent as a conditional GET, and compared with
    /// the body's hash, so an unchanged page is not parsed again.
    public var validators: PageValidators?
    /// The observation stored with `validators`: an unchanged page starts from it, and only its
    /// scripts are followed again.
    public var stored: StoredObservation?
    /// The scripts it loads are fetched whole every cycle, never conditionally (pages with an
    /// integrity label: each cycle re-reads and re-hashes what a payment page runs).
    public var fetchScriptsWhole = false

    public init(target: Target, url: String, path: String?, error: String? = nil, root: String? = nil) {
        self.target = target
        self.url = url
        self.path = path
        self.error = error
        self.root = root
    }

    /// A saved script or tag-manager container (`.js`, or a container export `.json`) rather than a page.
    public var isScriptFile: Bool {
        guard let p = path?.lowercased() else { return false }
        let name = p.hasSuffix(".gz") ? String(p.dropLast(3)) : p
        return name.hasSuffix(".js") || name.hasSuffix(".mjs") || name.hasSuffix(".json") || name.hasSuffix(".js.download")
    }
}

/// Runs the pipeline for a list of targets: fetch (or read), extract, detect.
/// Fetching runs on its own thread while pages already fetched are parsed on the caller's.
public struct Scanner: Sendable {
    public var detector: Detector
    public var fetchOptions: FetchOptions
    /// Follows the scripts pages load (nil: the HTML alone is reported).
    public var follower: ScriptFollower?
    private let extractor = Extractor()
    /// Hash each fetched page's body and keep its validators (the daemon, which remembers them).
    public var fingerprintPages = false

    public init(detector: Detector, fetchOptions: FetchOptions, follower: ScriptFollower? = nil) {
        self.detector = detector
        self.fetchOptions = fetchOptions
        self.follower = follower
    }

    /// Expands targets into pages: a folder target yields one job per HTML file below it.
    public static func jobs(for targets: [Target]) -> [ScanJob] {
        var jobs: [ScanJob] = []
        for t in targets {
            switch t.source {
            case .url(let u):
                jobs.append(ScanJob(target: t, url: u, path: nil))
            case .file(let path, let base):
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
                    for rel in FileSource.htmlFiles(in: path) {
                        let full = (path as NSString).appendingPathComponent(rel)
                        let url = base.map { FileSource.servedURL(base: $0, relativePath: rel) }
                            ?? URL(fileURLWithPath: full).absoluteString
                        jobs.append(ScanJob(target: Target(source: .file(path: full, baseURL: url), labels: t.labels),
                                            url: url, path: full, root: path))
                    }
                } else {
                    jobs.append(ScanJob(target: t, url: base ?? URL(fileURLWithPath: path).absoluteString, path: path,
                                        root: (path as NSString).deletingLastPathComponent))
                }
            }
        }
        return jobs
    }

    /// Pages parsed at once: one worker thread per core (libxml2 is safe with one document per thread).
    public var workers: Int = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
    /// Pages whose scripts are followed at once, each on a thread that mostly waits on the network.
    public var followers: Int = max(1, min(32, 8 * ProcessInfo.processInfo.activeProcessorCount))

    /// Work for the parsing threads: a fetched page, or a file to read.
    private enum Work: Sendable {
        case fetched(Int, FetchResult)
        case file(Int)
    }

    /// A page's report, or its report less what following its scripts adds: that waits on the
    /// network, so a scan leaves it to threads of its own and the parsing threads go on parsing.
    enum Stage: Sendable {
        case done(PageReport)
        /// Follows the page's scripts and returns the finished report.
        case follow(@Sendable () -> PageReport)

        /// The finished report: follows the page's scripts now, on this thread, if that is left
        /// (a method, not a property: it may wait on the network).
        func finish() -> PageReport {
            switch self {
            case .done(let r): return r
            case .follow(let rest): return rest()
            }
        }
    }

    /// Scans every job; `onReport` is called on the calling thread once per job, in completion order.
    /// Fetching runs on one thread, parsing on `workers` threads; the fetcher starts no new transfer
    /// while `4 × workers` fetched pages wait, so memory stays bounded however many pages there are.
    /// A fetched page's scripts are followed on threads of their own (`followers`), which mostly
    /// wait on the network: a parsing thread hands the page over and parses the next one. (When
    /// parsing threads followed, pages blocked on script fetches held them and the pages queued for
    /// them, and the cores idled: a third of the scan's pages/s on a site whose every page loads
    /// scripts of its own.)
    public func scan(_ jobs: [ScanJob], cancellation: FetchCancellation? = nil,
                     onReport: (Int, PageReport) -> Void) {
        scan(jobs, cancellation: cancellation, prepare: { $1 }, onReport: onReport)
    }

    /// Scans every job as `scan(_:cancellation:onReport:)` does, and runs `prepare` on each report
    /// on the thread that finished it (parsing or following), in parallel, before `onReport` gets
    /// the result on the calling thread: the daemon observes and encodes each page there, so the
    /// one thread that writes the state does only the writing.
    public func scan<Prepared: Sendable>(_ jobs: [ScanJob], cancellation: FetchCancellation? = nil,
                                         prepare: @escaping @Sendable (Int, PageReport) -> Prepared,
                                         onReport: (Int, Prepared) -> Void) {
        let work = BlockingQueue<Work>()
        let results = BlockingQueue<(Int, Prepared)>()
        let waiting = Atomic<Int>(0)
        let maxWaiting = workers * 4
        for i in jobs.indices where jobs[i].error != nil {
            results.push((i, prepare(i, PageReport(target: jobs[i].target, url: jobs[i].url, status: nil, error: jobs[i].error, resources: []))))
        }
        let urlJobs = jobs.indices.filter { jobs[$0].path == nil && jobs[$0].error == nil }
        for i in jobs.indices where jobs[i].path != nil && jobs[i].error == nil { work.push(.file(i)) }
        if urlJobs.isEmpty {
            work.close()
        } else {
            let fetcher = Fetcher(options: fetchOptions)
            let urls = urlJobs.map { jobs[$0].url }
            let headers = urlJobs.map { jobs[$0].validators?.requestHeaders ?? [] }
            let thread = Thread {
                fetcher.fetch(urls, requestHeaders: headers, cancellation: cancellation,
                              admit: { waiting.load(ordering: .relaxed) < maxWaiting }) { i, r in
                    waiting.add(1, ordering: .relaxed)
                    work.push(.fetched(urlJobs[i], r))
                }
                work.close()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        // Fetched pages whose scripts are left to follow, bounded like the fetched pages: when the
        // followers fall behind, parsing waits for them rather than piling up reports.
        let following = follower?.options.enabled == true && !urlJobs.isEmpty
        let followers = following ? self.followers : 0
        let toFollow = BlockingQueue<(Int, @Sendable () -> PageReport)>(capacity: max(1, followers * 2))
        let running = Atomic<Int>(workers)
        for _ in 0..<workers {
            let thread = Thread { [self] in
                while let item = work.pop() {
                    switch item {
                    case .file(let i):
                        results.push((i, prepare(i, readAndAnalyse(jobs[i], cancellation: cancellation))))
                    case .fetched(let i, let r):
                        // Taken: the fetcher may fetch the next page meanwhile.
                        waiting.subtract(1, ordering: .relaxed)
                        switch analyse(fetched: r, job: jobs[i], cancellation: cancellation) {
                        case .done(let report): results.push((i, prepare(i, report)))
                        case .follow(let rest):
                            if following { toFollow.push((i, rest)) } else { results.push((i, prepare(i, rest()))) }
                        }
                    }
                }
                if running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    if following { toFollow.close() } else { results.close() }
                }
            }
            // Deeply nested markup is walked iteratively, but libxml2 itself recurses while parsing.
            thread.stackSize = 8 << 20
            thread.start()
        }
        let followersRunning = Atomic<Int>(followers)
        for _ in 0..<followers {
            let thread = Thread {
                TextMemo.keepLittle()
                while let (i, rest) = toFollow.pop() { results.push((i, prepare(i, rest()))) }
                if followersRunning.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { results.close() }
            }
            // What a followed script loads is analysed here too (a container's JSON, nested).
            thread.stackSize = 8 << 20
            thread.start()
        }
        while let (i, r) = results.pop() { onReport(i, r) }
    }

    private func readAndAnalyse(_ j: ScanJob, cancellation: FetchCancellation?) -> PageReport {
        guard let path = j.path else { return PageReport(target: j.target, url: j.url, status: nil, error: "no file", resources: []) }
        if cancellation?.isCancelled == true {
            return PageReport(target: j.target, url: j.url, status: nil, error: "cancelled", resources: [])
        }
        if j.isScriptFile {
            guard let follower else {
                return PageReport(target: j.target, url: j.url, status: nil, error: "a script file is analysed by following it, which is off", resources: [])
            }
            var report = PageReport(target: j.target, url: j.url, status: nil, error: nil, resources: [])
            follower.follow(&report, job: j, cancellation: cancellation)
            if let w = report.warnings.first(where: { $0.hasPrefix("script \(j.url) not followed: ") }) {
                report.error = String(w.dropFirst("script \(j.url) not followed: ".count))
                report.warnings.removeAll { $0 == w }
            }
            return report
        }
        do {
            let body = try FileSource.read(path, maxBytes: fetchOptions.maxBodyBytes)
            return analyse(job: j, url: j.url, status: nil, body: body, contentType: nil, cancellation: cancellation).finish()
        } catch {
            return PageReport(target: j.target, url: j.url, status: nil, error: "\(error)", resources: [])
        }
    }

    private func analyse(fetched r: FetchResult, job j: ScanJob, cancellation: FetchCancellation?) -> Stage {
        if let e = r.error {
            return .done(PageReport(target: j.target, url: r.finalURL, status: r.status, error: e, resources: []))
        }
        if r.status == 304, let v = j.validators, let storedForm = j.stored {
            guard let stored = storedForm.decoded() else {
                // The state's copy cannot be read (damaged): the page is asked for again, whole.
                var whole = j
                whole.validators = nil
                whole.stored = nil
                var again: FetchResult?
                Fetcher(options: fetchOptions).fetch([j.url], cancellation: cancellation) { _, r in again = r }
                guard let again else {
                    return .done(PageReport(target: j.target, url: j.url, status: nil, error: "cancelled before it was fetched", resources: []))
                }
                return analyse(fetched: again, job: whole, cancellation: cancellation)
            }
            return revisit(stored, job: j, cancellation: cancellation, headers: nil,
                           validators: PageValidators(etag: r.etag ?? v.etag, lastModified: r.lastModified ?? v.lastModified,
                                                      bodySHA256: v.bodySHA256))
        }
        if let status = r.status, !(200..<300).contains(status) {
            return .done(PageReport(target: j.target, url: r.finalURL, status: status,
                                    error: "HTTP \(status) \(HTTPStatus.reason(status)) from \(r.finalURL)", resources: []))
        }
        if let ct = r.contentType, !Self.isHTML(ct) {
            return .done(PageReport(target: j.target, url: r.finalURL, status: r.status,
                                    error: "not an HTML page: Content-Type is \(ct)", resources: []))
        }
        var validators: PageValidators?
        if fingerprintPages {
            let v = PageValidators(etag: r.etag, lastModified: r.lastModified, bodySHA256: ScriptDigest.sha256Hex(r.body))
            if v.bodySHA256 == j.validators?.bodySHA256, let stored = j.stored?.decoded() {
                // The same bytes as last time (a server without validators): nothing to parse.
                return revisit(stored, job: j, cancellation: cancellation, headers: r.securityHeaders, validators: v)
            }
            validators = v
        }
        // Following reads neither the headers nor the validators: they are set before it.
        return analyse(job: j, url: r.finalURL, status: r.status, body: r.body, contentType: r.contentType,
                       cancellation: cancellation) { report in
            report.securityHeaders = r.securityHeaders
            if report.error == nil { report.validators = validators }
        }
    }

    /// An unchanged page: its HTML is not parsed again, but the scripts it names are followed
    /// again (a tag can be added inside a container behind an unchanged page). The report is
    /// `unchanged` only when following found exactly what the stored observation holds and the
    /// headers (when the answer carried them) are the same; the daemon records scripts and
    /// headers either way.
    private func revisit(_ stored: PageReport, job j: ScanJob, cancellation: FetchCancellation?,
                         headers: [String: String]?, validators: PageValidators) -> Stage {
        var report = stored
        report.validators = validators
        if let headers { report.securityHeaders = headers }
        if let follower, follower.options.enabled {
            report.resources = stored.resources.filter { $0.via == nil }
            report.scripts = []
            var job = j
            job.url = stored.url
            let unfollowed = report, revisited = job
            return .follow {
                var report = unfollowed
                follower.follow(&report, job: revisited, seeds: [], cancellation: cancellation)
                report.warnings = stored.warnings
                Self.markUnchanged(&report, stored: stored)
                return report
            }
        }
        Self.markUnchanged(&report, stored: stored)
        return .done(report)
    }

    /// Following an unchanged page again finds what it found before in the same order, so
    /// the arrays are compared first; the sets only when the order differs (hashing every
    /// resource of every page was 4 % of a steady-state cycle).
    private static func markUnchanged(_ report: inout PageReport, stored: PageReport) {
        report.unchanged = report.securityHeaders == stored.securityHeaders
            && (report.resources == stored.resources || Set(report.resources) == Set(stored.resources))
            && (report.scripts.elementsEqual(stored.scripts, by: { $0.comparable == $1.comparable })
                || Set(report.scripts.map(\.comparable)) == Set(stored.scripts.map(\.comparable)))
    }

    /// Scans all jobs and returns their reports in job order.
    public func scanAll(_ jobs: [ScanJob], cancellation: FetchCancellation? = nil) -> [PageReport] {
        var reports = [PageReport?](repeating: nil, count: jobs.count)
        scan(jobs, cancellation: cancellation) { i, r in reports[i] = r }
        return reports.map { $0! }
    }

    static func isHTML(_ contentType: String) -> Bool {
        let mime = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return mime.isEmpty || mime == "text/html" || mime == "application/xhtml+xml" || mime == "text/plain"
    }

    static func charset(of contentType: String?) -> String? {
        guard let ct = contentType else { return nil }
        for part in ct.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "charset" {
                return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
            }
        }
        return nil
    }

    /// Extracts and detects, with the checks that turn bad bodies into clear errors or warnings;
    /// what following the page's scripts adds is left in the `Stage`. `amend` is applied to the
    /// report before that (following reads nothing it sets).
    func analyse(job: ScanJob, url: String, status: Int?, body: [UInt8], contentType: String?,
                 cancellation: FetchCancellation? = nil, amend: (inout PageReport) -> Void = { _ in }) -> Stage {
        if body.isEmpty {
            var report = PageReport(target: job.target, url: url, status: status, error: "empty body: nothing to scan", resources: [])
            amend(&report)
            return .done(report)
        }
        var warnings: [String] = []
        let headerCharset = Self.charset(of: contentType)
        let declared = headerCharset ?? Self.metaCharset(body)
        // Checked once: the answer also spares the extractor its own check.
        var validUTF8: Bool?
        if declared == nil || declared!.lowercased().replacingOccurrences(of: "-", with: "") == "utf8" {
            let bad = Self.firstInvalidUTF8(body)
            validUTF8 = bad == nil
            if let bad {
                warnings.append("body is not valid UTF-8 (first bad byte at offset \(bad)); scanned with the bad bytes replaced")
            }
        }
        if Self.containsNUL(body) {
            warnings.append("body contains NUL bytes; scanned with each replaced by U+FFFD, as browsers do")
        }
        let extraction = extractor.extract(body: body, pageURL: url, charset: headerCharset, validUTF8: validUTF8)
        warnings += extraction.warnings
        // A saved file given no --base-url (a file: URL) is judged against the site it names as
        // its own (canonical link, og:url); with neither, first-party cannot be judged, and it says so.
        var siteURL: String?
        if url.hasPrefix("file:") {
            if let canonical = extraction.canonicalURL {
                siteURL = canonical
            } else {
                warnings.append("first-party could not be judged: no --base-url (base_url:) and no <link rel=canonical> or og:url in the page, so the site's own hosts are listed as third-party")
            }
        }
        let resources = detector.detect(extraction, pageURL: url, siteURL: siteURL)
        var report = PageReport(target: job.target, url: url, status: status, error: nil, warnings: warnings, resources: resources)
        amend(&report)
        guard let follower, follower.options.enabled else { return .done(report) }
        var j = job
        j.url = url
        // Scripts beside a saved page (file: URLs) are followed though they are not reported.
        let seeds = extraction.resources.filter {
            $0.url.hasPrefix("file:") && ($0.kind == .script || ($0.kind == .inlineScript && Detector.isScriptPath($0.url, url: $0.url)))
        }.map(\.url)
        let unfollowed = report, followedJob = j
        return .follow {
            var report = unfollowed
            follower.follow(&report, job: followedJob, seeds: seeds, cancellation: cancellation)
            return report
        }
    }

    /// memchr rather than `contains(0)`, which compared the page's bytes one at a time (1.5 % of a scan).
    static func containsNUL(_ body: [UInt8]) -> Bool {
        body.withUnsafeBytes { p in p.count > 0 && memchr(p.baseAddress!, 0, p.count) != nil }
    }

    static func metaCharset(_ body: [UInt8]) -> String? {
        let prefix = body.prefix(2048)
        // An ASCII head (nearly every page's) is searched as bytes, in place: lowercasing it as a
        // String for every page was 0.3 % of a scan, and so was a lowercased copy of its bytes.
        // Anything else takes the String path below.
        if let ascii = body.withUnsafeBufferPointer({ b in
            Self.asciiMetaCharset(UnsafeBufferPointer(rebasing: b[..<min(b.count, 2048)]))
        }) {
            return ascii
        }
        let head = String(decoding: prefix, as: UTF8.self).lowercased()
        guard let r = head.range(of: "charset=") else { return nil }
        let rest = head[r.upperBound...].drop { $0 == "\"" || $0 == "'" || $0 == " " }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return name.isEmpty ? nil : String(name)
    }

    /// `metaCharset` of an ASCII head: `.some(nil)` when it names none; nil when the head is not all ASCII.
    private static func asciiMetaCharset(_ p: UnsafeBufferPointer<UInt8>) -> String?? {
        @inline(__always) func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 0x20 : b }
        let n = p.count
        var i = 0
        // ASCII 8 bytes at a time.
        if let base = p.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return nil }
                i += 8
            }
        }
        while i < n {
            if p[i] >= 0x80 { return nil }
            i += 1
        }
        let needle: [UInt8] = Array("charset=".utf8)
        var at = -1
        i = 0
        while i + needle.count <= n {
            if lower(p[i]) == 0x63 {
                var k = 1
                while k < needle.count && lower(p[i + k]) == needle[k] { k += 1 }
                if k == needle.count { at = i; break }
            }
            i += 1
        }
        guard at >= 0 else { return .some(nil) }
        var j = at + needle.count
        while j < n && (p[j] == 0x22 || p[j] == 0x27 || p[j] == 0x20) { j += 1 }
        var name: [UInt8] = []
        while j < n {
            let c = lower(p[j])
            guard (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F else { break }
            name.append(c)
            j += 1
        }
        return .some(name.isEmpty ? nil : String(decoding: name, as: UTF8.self))
    }

    /// The byte offset of the first sequence that is not UTF-8 (RFC 3629), nil when all of it is.
    /// Runs of ASCII are skipped eight bytes at a time: this runs on every page, and the stdlib's
    /// scalar-by-scalar decoder showed at 5% of a cycle's profile.
    static func firstInvalidUTF8(_ body: [UInt8]) -> Int? {
        body.withUnsafeBufferPointer { p -> Int? in
            guard let base = p.baseAddress else { return nil }
            let n = p.count
            var i = 0
            let raw = UnsafeRawPointer(base)
            while i < n {
                // ASCII 32 bytes at a time, then 8 (as `HTMLInput.isValidUTF8`).
                while i + 32 <= n, (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                    & 0x8080_8080_8080_8080 == 0 {
                    i += 32
                }
                while i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                guard i < n else { break }
                let b = p[i]
                if b < 0x80 { i += 1; continue }
                let length: Int
                var low: UInt8 = 0x80, high: UInt8 = 0xBF
                switch b {
                case 0xC2...0xDF: length = 2
                case 0xE0: length = 3; low = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: length = 3
                case 0xED: length = 3; high = 0x9F
                case 0xF0: length = 4; low = 0x90
                case 0xF1...0xF3: length = 4
                case 0xF4: length = 4; high = 0x8F
                default: return i
                }
                guard i + 1 < n, p[i + 1] >= low, p[i + 1] <= high else { return i }
                var k = 2
                while k < length {
                    guard i + k < n, p[i + k] & 0xC0 == 0x80 else { return i }
                    k += 1
                }
                i += length
            }
            return nil
        }
    }
}

/// A page's last stored observation as the state holds it (`Store.storedForm`), decoded by the
/// scanning thread that finds the page unchanged. A cycle decoded every stored page of a batch
/// before the batch's scan began, a phase in which nothing else ran (9 % of a steady cycle's CPU,
/// bench/issue12/round6.md); decoded here, it overlaps the fetching and following of other pages.
public struct StoredObservation: Sendable {
    let form: [UInt8]

    public init(storedForm: [UInt8]) {
        form = storedForm
    }

    /// The observation, or nil when the stored form cannot be read (the page is then scanned whole).
    public func decoded() -> PageReport? {
        try? StoredReportReader.decode(form)
    }
}

/// A blocking queue between the scan's threads (fetcher → parsers → followers → caller).
/// One mutex and two conditions: a push wakes one popper and a pop one pusher (a single condition
/// had to wake every waiting thread, the sixteen idle followers included, on every page).
final class BlockingQueue<T: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [T?] = []
    private var head = 0
    private var closed = false
    /// With a capacity, `push` waits while that many items are queued.
    private let capacity: Int?

    init(capacity: Int? = nil) {
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
    }

    func push(_ item: T) {
        pthread_mutex_lock(mutex)
        if let capacity {
            while items.count - head >= capacity && !closed { pthread_cond_wait(notFull, mutex) }
        }
        items.append(item)
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(notEmpty)
        pthread_cond_broadcast(notFull)
        pthread_mutex_unlock(mutex)
    }

    /// The next item, or nil once closed and drained.
    func pop() -> T? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == items.count && !closed { pthread_cond_wait(notEmpty, mutex) }
        if head == items.count { return nil }
        guard let item = items[head] else { return nil }
        items[head] = nil  // release it now (a page body can be megabytes), not at the next compaction
        head += 1
        if capacity != nil { pthread_cond_signal(notFull) }
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}

enum HTTPStatus {
    static func reason(_ code: Int) -> String {
        switch code {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 410: return "Gone"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 300..<400: return "Redirect (not followed further)"
        default: return ""
        }
    }
}
