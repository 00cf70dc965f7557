import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TagwatchCore
import UnixSignals

/// `tagwatch run`: the daemon. Scans the configured targets on a schedule, remembers them,
/// and raises alerts to the alert log and the feed. `--once` runs one cycle and exits.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon (or one cycle with --once): scan on a schedule, remember, alert.",
        discussion: """
            Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads config and rules (a bad file is \
            reported and the old one kept); SIGUSR1 starts a scan now. Under systemd (Type=notify) it \
            reports READY, STATUS and feeds the watchdog.

            Exit codes of --once: 0 every target scanned; 1 an open alert at or above --fail-on; \
            2 config or rules error; 3 some targets could not be scanned.
            """
    )

    @Option(name: .long, help: "Config file.")
    var config: String = "/etc/tagwatch/tagwatch.yaml"

    @Flag(name: .long, help: "Run one full cycle (same state, log and feed), then exit.")
    var once = false

    @Option(name: .customLong("fail-on"), help: "With --once: exit 1 when an open alert has this severity or above.")
    var failOn: Severity?

    func validate() throws {
        if failOn != nil && !once { throw ValidationError("--fail-on only applies with --once") }
    }

    func run() async throws {
        FreedMemory.limitArenas()
        let logger = TagwatchLogging.logger()
        let watcher: Watcher
        do {
            watcher = try Watcher(config: try Config.load(file: config))
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        // One process per state file, daemon or --once; held until this process exits.
        let lock: StateLock
        do { lock = try StateLock(statePath: watcher.config.state) } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        defer { withExtendedLifetime(lock) {} }
        if once {
            let summary: CycleSummary
            do { summary = try watcher.cycle() } catch {
                printError("cycle failed: \(error)")
                throw ExitCode(ExitStatus.targetsFailed)
            }
            print(DaemonService.describe(summary))
            for e in summary.events {
                print("  \(e.event.rawValue): [\(e.alert.severity.rawValue)] \(e.alert.message)")
            }
            // The scan is recorded; a sink that could not be written is a failure of the run.
            for e in summary.sinkErrors { printError("sink failed: \(e)") }
            if !summary.sinkErrors.isEmpty { throw ExitCode(ExitStatus.targetsFailed) }
            if summary.failed > 0 { throw ExitCode(ExitStatus.targetsFailed) }
            if let failOn, summary.openAlerts.contains(where: { $0.severity >= failOn }) { throw ExitCode(ExitStatus.findings) }
            return
        }
        let service = DaemonService(configPath: config, watcher: watcher, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

enum TagwatchLogging {
    private static let bootstrapped: Void = {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["TAGWATCH_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
            return h
        }
    }()

    static func logger() -> Logger {
        bootstrapped
        return Logger(label: "tagwatch")
    }
}

/// The long-running work as a swift-service-lifecycle `Service`: the loop around `Watcher.cycle`.
final class DaemonService: Service, Sendable {
    enum Wake: Sendable { case timer(Int), scanNow, reload, shutdown, webhookRetry(Int) }

    let configPath: String
    let logger: Logger
    let notifier = SystemdNotifier()
    private let watcher: Mutex<Watcher>
    private let running = Mutex<FetchCancellation?>(nil)
    private let wake: AsyncStream<Wake>
    private let wakeContinuation: AsyncStream<Wake>.Continuation

    init(configPath: String, watcher: Watcher, logger: Logger) {
        self.configPath = configPath
        self.watcher = Mutex(watcher)
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Wake.self)
    }

    static func describe(_ s: CycleSummary) -> String {
        let raised = s.events.filter { $0.event == .raised }.count
        let resolved = s.events.count - raised
        return "scan finished \(s.finished): \(s.pages) pages, \(s.failed) failed, \(s.resources) resources; \(raised) alerts raised, \(resolved) resolved; \(s.openAlerts.count) open"
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        let continuation = wakeContinuation
        let signalTask = Task {
            for await s in signals {
                continuation.yield(s == .sighup ? .reload : .scanNow)
            }
        }
        defer { signalTask.cancel() }
        let watchdogTask = Task { [notifier] in
            guard let interval = notifier.watchdogInterval else { return }
            while !Task.isCancelled {
                notifier.notify("WATCHDOG=1")
                try? await Task.sleep(for: interval)
            }
        }
        defer { watchdogTask.cancel() }
        notifier.notify("READY=1\nSTATUS=starting the first scan")
        logger.info("tagwatch started", metadata: ["config": "\(configPath)", "pid": "\(getpid())", "catalog": "\(watcher.withLock { $0.rules.catalogDescription }), \(watcher.withLock { $0.rules.catalog.count }) vendors"])

        await withGracefulShutdownHandler {
            var generation = 0
            var timerTask: Task<Void, Never>?
            var shuttingDown = false
            // Webhook retries between cycles: after a failed delivery, again after `retry`, then
            // twice as long each time (up to 30 minutes), until the outbox is empty.
            var retryGeneration = 0
            var retryDelay = 0.0
            var retryTask: Task<Void, Never>?
            func scheduleRetry(pending: Int) {
                retryTask?.cancel()
                retryGeneration += 1
                guard pending > 0, let hook = watcher.withLock({ $0.config.webhook }) else { retryDelay = 0; return }
                retryDelay = retryDelay == 0 ? hook.retry : min(retryDelay * 2, max(hook.retry, 1800))
                let rg = retryGeneration, delay = retryDelay
                logger.info("webhook: \(pending) event\(pending == 1 ? "" : "s") in the outbox; retrying in \(Int(delay))s")
                retryTask = Task {
                    try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    if !Task.isCancelled { continuation.yield(.webhookRetry(rg)) }
                }
            }
            while !shuttingDown {
                let pending = await runCycle()
                if Task.isCancelled { break }
                retryDelay = 0
                scheduleRetry(pending: pending)
                generation += 1
                let config = watcher.withLock { $0.config }
                let delay = config.interval * (1 + Double.random(in: -config.jitter...config.jitter))
                let g = generation
                timerTask?.cancel()
                timerTask = Task {
                    try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                    if !Task.isCancelled { continuation.yield(.timer(g)) }
                }
                logger.debug("next scan scheduled", metadata: ["in_seconds": "\(Int(delay))"])
                waiting: for await w in wake {
                    switch w {
                    case .timer(let tg) where tg == g: break waiting
                    case .timer: continue
                    case .scanNow:
                        logger.info("SIGUSR1: scanning now")
                        break waiting
                    case .reload:
                        reload()
                    case .shutdown:
                        shuttingDown = true
                        break waiting
                    case .webhookRetry(let rg) where rg == retryGeneration:
                        scheduleRetry(pending: await retryWebhook())
                    case .webhookRetry:
                        continue
                    }
                }
                if Task.isCancelled { break }
            }
            timerTask?.cancel()
            retryTask?.cancel()
        } onGracefulShutdown: { [self, continuation, notifier, logger] in
            logger.info("stopping: cancelling in-flight transfers")
            RegexBudget.interrupted.store(true, ordering: .relaxed)
            notifier.notify("STOPPING=1")
            self.running.withLock { $0?.cancel() }
            continuation.yield(.shutdown)
        }
        logger.info("tagwatch stopped")
    }

    private func reload() {
        notifier.notify("RELOADING=1")
        do {
            let fresh = try Watcher(config: try Config.load(file: configPath))
            let current = watcher.withLock { $0.config.state }
            guard fresh.config.state == current else {
                throw StateLock.Held(description: "'state' changed from \(current) to \(fresh.config.state); that needs a restart, not a reload")
            }
            watcher.withLock { $0 = fresh }
            logger.info("reloaded config and rules", metadata: ["vendors": "\(fresh.rules.catalog.count)", "catalog": "\(fresh.rules.catalogDescription)", "targets": "\(fresh.config.targets.count)"])
        } catch {
            logger.error("reload failed, keeping the previous config and rules: \(error)")
        }
        notifier.notify("READY=1")
    }

    /// One pass over the webhook's outbox on its own thread (it blocks in libcurl); the events left.
    private func retryWebhook() async -> Int {
        let current = watcher.withLock { $0 }
        let result: Result<WebhookSender.Pass, Error> = await withCheckedContinuation { cont in
            Thread { cont.resume(returning: Result { try current.retryWebhook() }) }.start()
        }
        switch result {
        case .success(let pass):
            if let e = pass.error { logger.warning("\(e)") }
            if pass.delivered > 0 { logger.info("webhook: \(pass.delivered) event\(pass.delivered == 1 ? "" : "s") delivered on retry") }
            return pass.pending
        case .failure(let e):
            logger.error("webhook retry failed: \(e)")
            return 1
        }
    }

    /// Runs one cycle on its own thread (it blocks in libcurl), cancellable by shutdown; the
    /// events left in the webhook's outbox.
    private func runCycle() async -> Int {
        let cancellation = FetchCancellation()
        running.withLock { $0 = cancellation }
        defer { running.withLock { $0 = nil } }
        let current = watcher.withLock { $0 }
        let result: Result<CycleSummary, Error> = await withCheckedContinuation { cont in
            let thread = Thread {
                cont.resume(returning: Result { try current.cycle(cancellation: cancellation) })
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        switch result {
        case .success(let s) where s.cancelled:
            logger.info("scan cancelled; nothing recorded for it")
            return 0
        case .success(let s):
            logger.info("\(Self.describe(s))")
            for e in s.sinkErrors { logger.error("sink failed: \(e)") }
            let worst = s.openAlerts.map(\.severity).max()
            notifier.notify("STATUS=last scan \(s.finished): \(s.pages) pages, \(s.failed) failed; \(s.openAlerts.count) open alerts\(worst.map { " (worst \($0.rawValue))" } ?? "")")
            return s.webhookPending
        case .failure(let e):
            logger.error("scan failed: \(e)")
            notifier.notify("STATUS=last scan failed: \(e)")
            return 0
        }
    }
}
