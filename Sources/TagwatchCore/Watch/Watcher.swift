import Foundation

/// What one daemon cycle did, for logs, sd_notify STATUS and exit codes.
public struct CycleSummary: Sendable {
    public var pages: Int
    public var failed: Int
    public var resources: Int
    public var events: [AlertEvent]
    public var openAlerts: [Alert]
    public var finished: String
    public var cancelled: Bool
    /// Sinks that could not be written this cycle (with the OS error); their events stay pending.
    public var sinkErrors: [String] = []
    /// Events still in the webhook's outbox after the cycle (the receiver failed).
    public var webhookPending = 0
}

/// The daemon's job, once: expand targets, scan, hold against the registry, remember,
/// diff, and write the alert log and feed. The daemon is the loop around `cycle`.
public struct Watcher: Sendable {
    public let config: Config
    public let rules: Rules

    /// Loads the rules the config names; a bad rules file fails here, before anything runs.
    public init(config: Config) throws {
        self.config = config
        rules = try Rules.load(directory: config.rules, registryFile: config.registry, builtinCatalog: config.builtinCatalog)
    }

    /// Turns the configured targets into page jobs; sitemaps are fetched and read here.
    public func jobs(cancellation: FetchCancellation?) -> [ScanJob] {
        let (targets, failed) = targets(cancellation: cancellation)
        return Scanner.jobs(for: targets) + failed
    }

    /// The configured targets with sitemaps read into their pages, and the sitemaps that failed
    /// as failed jobs. A cycle turns the targets into jobs a batch at a time: a job is several
    /// hundred bytes, a target one URL.
    func targets(cancellation: FetchCancellation?) -> (targets: [Target], failed: [ScanJob]) {
        var targets: [Target] = []
        var sitemapErrors: [ScanJob] = []
        for spec in config.targets {
            switch spec.kind {
            case .url(let u):
                targets.append(Target(source: .url(u), labels: spec.labels))
            case .file(let p, let base):
                targets.append(Target(source: .file(path: p, baseURL: base), labels: spec.labels))
            case .sitemap(let s, let limit):
                switch expandSitemap(s, limit: limit, cancellation: cancellation) {
                case .success(let (pages, rejected)):
                    targets += pages.map { Target(source: .url($0), labels: spec.labels) }
                    if let first = rejected.first {
                        // Remote content names only http(s) URLs; anything else is refused, visibly.
                        sitemapErrors.append(ScanJob(target: Target(source: .url(s), labels: spec.labels), url: s, path: nil,
                                                     error: "sitemap \(s): \(rejected.count) <loc> that are not http(s) URLs were refused (first: '\(first)')"))
                    }
                case .failure(let e):
                    // The sitemap itself becomes a failed target, so its failure is seen and alerted on.
                    sitemapErrors.append(ScanJob(target: Target(source: .url(s), labels: spec.labels), url: s, path: nil,
                                                 error: e.description))
                }
            }
        }
        return (targets, sitemapErrors)
    }

    /// The pages of the sitemap at `location` (the config's URL or file) and of the sitemaps it
    /// indexes, and the `<loc>`s refused: what a sitemap names must be http(s), since only the
    /// operator's config may name a local file.
    private func expandSitemap(_ location: String, limit: Int,
                               cancellation: FetchCancellation?) -> Result<([String], [String]), FileSourceError> {
        func load(_ loc: String) -> Result<[UInt8], FileSourceError> {
            if !Config.isHTTPURL(loc) {
                guard loc == location else { return .failure(FileSourceError("sitemap \(loc): not an http(s) URL")) }
                do { return .success(try FileSource.read(loc, maxBytes: 50 * 1024 * 1024)) } catch {
                    return .failure(FileSourceError("sitemap \(loc): \(error)"))
                }
            }
            var options = config.fetchOptions
            options.maxBodyBytes = 50 * 1024 * 1024
            var result: FetchResult?
            Fetcher(options: options).fetch([loc], cancellation: cancellation) { _, r in result = r }
            guard let r = result else { return .failure(FileSourceError("sitemap \(loc): not fetched")) }
            if let e = r.error { return .failure(FileSourceError("sitemap \(loc): \(e)")) }
            if let s = r.status, !(200..<300).contains(s) { return .failure(FileSourceError("sitemap \(loc): HTTP \(s)")) }
            return .success(r.body)
        }
        var pages: [String] = []
        var rejected: [String] = []
        var queue = [location]
        var visited = Set<String>()
        while let loc = queue.first, pages.count < limit, visited.count < 50 {
            queue.removeFirst()
            guard visited.insert(loc).inserted else { continue }
            switch load(loc) {
            case .failure(let e):
                if loc == location { return .failure(e) }
            case .success(let body):
                guard let parsed = SitemapExtractor.extract(body) else {
                    if loc == location { return .failure(FileSourceError("sitemap \(loc): not a sitemap (no <urlset> or <sitemapindex>)")) }
                    continue
                }
                // Pages are fetched as a browser would read the <loc>: normalised by the URL parser.
                for u in parsed.pages {
                    if Config.isHTTPURL(u), let url = WebURL(u) { pages.append(url.href) } else { rejected.append(u) }
                }
                for u in parsed.childSitemaps { if Config.isHTTPURL(u) { queue.append(u) } else { rejected.append(u) } }
            }
        }
        return .success((Array(pages.prefix(limit)), rejected))
    }

    /// Pages scanned and written per batch of a cycle: memory holds one batch's observations
    /// (and stored observations of unchanged pages), not the site's. A site this size or smaller
    /// is one batch, as before batches.
    public var batchSize = 500

    /// Runs one full cycle. A cancelled cycle records nothing, so the state stays as the last whole scan left it.
    public func cycle(cancellation: FetchCancellation? = nil, now: @Sendable () -> Date = Date.init) throws -> CycleSummary {
        let store = try Store(path: config.state, grouping: config.alertGrouping)
        store.fingerprint = AnalysisFingerprint.of(catalog: rules.catalog, firstParty: config.firstParty)
        // Anything a killed process or a failing sink left undelivered; a sink that still fails
        // is reported by the delivery at the end of this cycle, once.
        _ = try deliver(store: store)
        let startedAt = now()
        let started = Timestamp.string(startedAt)
        let (targets, failedTargets) = targets(cancellation: cancellation)
        let integrityLabels = Set(config.integrityLabels)
        let detector = Detector(catalog: rules.catalog, firstPartyDomains: config.firstParty)
        // A new follower per cycle: each distinct script is fetched once per cycle, and again the next.
        // Scripts stored by earlier cycles are asked for conditionally, and their analysis reused when unchanged.
        let scriptCache = try store.scriptCacheReader()
        let follower = ScriptFollower(catalog: rules.catalog, detector: detector, fetchOptions: config.fetchOptions,
                                      options: config.follow, storedScript: { scriptCache.stored($0) })
        var scanner = Scanner(detector: detector, fetchOptions: config.fetchOptions, follower: follower)
        scanner.fingerprintPages = true
        var policy = Policy(registry: rules.registry ?? Registry(), catalog: rules.catalog)
        policy.integrityLabels = Set(config.integrityLabels)
        let anyChangesExpected = policy.anyChangesExpected
        let today = Policy.today(now())
        let recorder = CycleRecorder(store: store, started: started, unreachableAfter: config.unreachableAfter)
        var tally = CycleTally()
        var finishedAt = startedAt
        // Targets become jobs a batch at a time (a folder target is its files, all in its batch);
        // failed sitemaps come last, as they always did.
        var next = 0
        repeat {
            let end = min(targets.count, next + max(1, batchSize))
            var batch = Scanner.jobs(for: Array(targets[next..<end]))
            next = end
            if next == targets.count { batch += failedTargets }
            // Pages whose last observation is stored are fetched conditionally (their scripts are
            // followed again either way). Payment pages (with an integrity label) are always fetched
            // and parsed whole: their headers are watched, and a 304 need not repeat them.
            let candidates = batch.indices.filter { batch[$0].path == nil && batch[$0].error == nil }
            let known = try store.pageValidators(pages: candidates.map { batch[$0].url })
            var conditional: [Int] = []
            for i in candidates {
                if !integrityLabels.isEmpty && !integrityLabels.isDisjoint(with: batch[i].target.labels) {
                    // Their scripts too: fetched and hashed whole, never answered by a 304.
                    batch[i].fetchScriptsWhole = true
                    continue
                }
                if known[batch[i].url] != nil { conditional.append(i) }
            }
            // Their stored observations, read in one query (decoded by the scanning thread that
            // finds the page unchanged).
            let stored = try store.storedObservations(pages: conditional.map { batch[$0].url })
            for i in conditional {
                guard let observation = stored[batch[i].url] else { continue }
                batch[i].validators = known[batch[i].url]
                batch[i].stored = observation
            }
            // Each page is observed (policy) and encoded on the scanning thread that finished its report,
            // then written on this thread as it comes in, while the next pages are fetched and
            // parsed, rather than all after the batch's scan (where it was a quarter of a first
            // cycle's time, the cores idle but one). Pages are written in the order they are listed
            // (one that comes early waits for those before it), so the state is written in the same
            // order as a batch written whole. They are stamped with the time the batch began (the
            // cycle's start for the first).
            let time = Timestamp.string(finishedAt)
            var waiting = [Observed?](repeating: nil, count: batch.count)
            var written = 0
            var failure: (any Error)?
            let jobsOfBatch = batch
            func writeReady() {
                while written < waiting.count, failure == nil, let o = waiting[written] {
                    waiting[written] = nil
                    do {
                        try recorder.add(o.observation, storedForm: o.storedForm, at: time)
                    } catch {
                        failure = error
                    }
                    tally.add(o.observation)
                    written += 1
                }
            }
            let observe = { @Sendable [self, policy] (i: Int, report: PageReport) -> Observed? in
                guard cancellation?.isCancelled != true else { return nil }
                let o = self.observe(report, page: jobsOfBatch[i].url, labels: jobsOfBatch[i].target.labels,
                                     policy: policy, integrityLabels: integrityLabels, anyChangesExpected: anyChangesExpected,
                                     today: today)
                return Observed(observation: o, storedForm: Store.storedForm(o))
            }
            scanner.scan(jobsOfBatch, cancellation: cancellation, prepare: observe) { i, observed in
                guard failure == nil, cancellation?.isCancelled != true, let observed else { return }
                waiting[i] = observed
                writeReady()
            }
            if cancellation?.isCancelled == true {
                recorder.cancel()
                return CycleSummary(pages: 0, failed: 0, resources: 0, events: [], openAlerts: try store.openAlerts(),
                                    finished: Timestamp.string(now()), cancelled: true)
            }
            if let failure { throw failure }
            // Pages that never reported (none should) are skipped, as before.
            while written < waiting.count {
                if waiting[written] == nil { written += 1 } else { writeReady() }
                if let failure { throw failure }
            }
            finishedAt = now()
            FreedMemory.release()
        } while next < targets.count
        let finished = Timestamp.string(finishedAt)
        let events = try recorder.finish(finished: finished, scriptCache: follower.cacheUpdates())
        let delivery = try deliverAll(store: store, afterCycle: true)
        var sinkErrors = delivery.errors
        if let report = config.report {
            try Report.load(store: store, registry: rules.registry, title: config.feedTitle, now: now()).write(to: report)
        }
        var summary = CycleSummary(pages: recorder.pages, failed: recorder.failed, resources: recorder.resources, events: events,
                                   openAlerts: try store.openAlerts(), finished: finished, cancelled: false, sinkErrors: [])
        summary.webhookPending = delivery.webhookPending
        if let metrics = config.metrics {
            // The metrics file fails alone: the cycle is recorded and its alerts delivered already.
            do {
                try MetricsFile(path: metrics).write(Self.metrics(tally, summary, started: startedAt, finished: finishedAt))
            } catch {
                sinkErrors.append("\(error)")
            }
        }
        summary.sinkErrors = sinkErrors
        return summary
    }

    /// A page observed and encoded on a scanning thread, for the writing thread.
    struct Observed: Sendable {
        var observation: PageObservation
        /// `Store.storedForm(observation)`.
        var storedForm: String?
    }

    /// What the metrics file says of a cycle's pages, counted batch by batch.
    struct CycleTally {
        var resources = 0
        var thirdPartyResources = 0
        var vendors = Set<String>()
        var unknownHosts = Set<String>()

        mutating func add(_ o: PageObservation) {
            resources += o.report.resources.count
            for r in o.report.resources where r.party == .third {
                thirdPartyResources += 1
                if r.vendor == nil { unknownHosts.insert(r.host) }
            }
            for r in o.report.resources { if let v = r.vendor { vendors.insert(v.id) } }
        }
    }

    static func metrics(_ t: CycleTally, _ s: CycleSummary, started: Date, finished: Date) -> CycleMetrics {
        var open: [Severity: Int] = [:]
        for a in s.openAlerts { open[a.severity, default: 0] += 1 }
        let raised = s.events.filter { $0.event == .raised }.count
        return CycleMetrics(durationSeconds: finished.timeIntervalSince(started), pages: s.pages, failed: s.failed,
                            resources: t.resources, thirdPartyResources: t.thirdPartyResources,
                            vendors: t.vendors.count, unknownHosts: t.unknownHosts.count,
                            openAlerts: open, raised: raised, resolved: s.events.count - raised,
                            finishedAt: finished.timeIntervalSince1970)
    }

    private func observe(_ report: PageReport, page: String, labels: [String], policy: Policy, integrityLabels: Set<String>,
                         anyChangesExpected: Bool, today: String) -> PageObservation {
        var findings = policy.evaluate(report, labels: labels, today: today)
        for i in findings.indices { findings[i].page = page }
        var o = PageObservation(page: page, target: report.target.name, labels: labels, report: report, findings: findings)
        o.integrity = integrityLabels.isEmpty || !integrityLabels.isDisjoint(with: labels)
        o.integrityLabelled = !integrityLabels.isEmpty && !integrityLabels.isDisjoint(with: labels)
        if !report.scripts.isEmpty && anyChangesExpected {
            let vendors = Dictionary(report.resources.map { ($0.url, $0.vendor) }, uniquingKeysWith: { a, _ in a })
            o.expectedChanges = Set(report.scripts.filter { policy.changesExpected(vendors[$0.url] ?? nil) }.map(\.url))
        }
        return o
    }

    /// Writes undelivered events to the alert log, rewrites the feed, then marks them delivered:
    /// a crash in between re-delivers rather than loses. Each sink fails alone: one that cannot
    /// write keeps its events pending (returned as an error naming the sink and the OS error)
    /// and gets each of them once when it works again, while the others are not written twice.
    /// After a cycle the feed is written even with nothing new, so a reader subscribed at install
    /// time finds a (possibly empty) feed. Throws only when the state itself cannot be read or written.
    /// The webhook's events are enqueued in its outbox first, then POSTed after the others; a
    /// receiver that fails is an error here too, and the events wait for the next pass.
    @discardableResult
    public func deliver(store: Store, afterCycle: Bool = false) throws -> [String] {
        try deliverAll(store: store, afterCycle: afterCycle).errors
    }

    func deliverAll(store: Store, afterCycle: Bool) throws -> (errors: [String], webhookPending: Int) {
        if config.webhook != nil { try store.enqueueWebhookEvents() }
        var errors = try deliverFiles(store: store, afterCycle: afterCycle)
        let pass = try deliverWebhook(store: store)
        if let e = pass.error { errors.append(e) }
        return (errors, pass.pending)
    }

    private func deliverFiles(store: Store, afterCycle: Bool) throws -> [String] {
        let pending = try store.undeliveredEvents()
        let last = pending.map(\.seq).max()
        guard last != nil || afterCycle else { return [] }
        var errors: [String] = []
        if let log = config.alertLog, let last {
            let done = try store.sinkProgress("log")
            let todo = pending.filter { $0.seq > done }
            if !todo.isEmpty {
                do {
                    try AlertLog(path: log, format: config.logFormat).append(todo)
                    try store.setSinkProgress("log", seq: last)
                } catch let e as FileSourceError {
                    errors.append("\(e); \(todo.count) event\(todo.count == 1 ? "" : "s") stay pending for it")
                }
            }
        }
        if let feed = config.feed, try last.map({ try store.sinkProgress("feed") < $0 }) ?? afterCycle {
            do {
                var sink = AlertFeed(path: feed, title: config.feedTitle, homeURL: config.feedHomeURL)
                sink.mode = config.feedPublic ? 0o644 : nil
                try sink.write(try store.recentEvents(limit: config.feedItems), store: store)
                if let last { try store.setSinkProgress("feed", seq: last) }
            } catch let e as FileSourceError {
                errors.append("\(e); the feed is rewritten when it can be")
            }
        }
        if errors.isEmpty, let last { try store.markDelivered(upTo: last) }
        return errors
    }

    /// A pass over the webhook's outbox on its own, for the daemon's retries between cycles.
    public func retryWebhook() throws -> WebhookSender.Pass {
        try deliverWebhook(store: try Store(path: config.state, grouping: config.alertGrouping))
    }

    /// One pass over the webhook's outbox (none without a webhook).
    public func deliverWebhook(store: Store) throws -> WebhookSender.Pass {
        guard let hook = config.webhook else { return WebhookSender.Pass() }
        return try WebhookSender(config: hook, userAgent: config.userAgent, proxy: config.proxy, noProxy: config.noProxy).deliver(store: store)
    }
}
