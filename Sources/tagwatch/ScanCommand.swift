import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TagwatchCore

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `scan --format`: also SARIF 2.1.0, for CI code scanning.
enum ScanFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

extension Severity: ExpressibleByArgument {}

/// `tagwatch scan`: an ad-hoc scan of URLs, saved pages or built-site folders; keeps no state.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan pages (URLs, saved HTML files or folders of built HTML) and list their third-party resources.",
        discussion: """
            With a registry (--registry FILE, or approved.yaml in the rules folder) each resource is held \
            against it and findings are listed.

            Exit codes: 0 every target scanned (and no finding at or above --fail-on); 1 a finding at or \
            above --fail-on; 2 usage or rules error; 3 some targets could not be scanned.
            """
    )

    @Argument(help: "Page URLs (http or https), saved HTML files (.html or .html.gz), or folders of built HTML.")
    var targets: [String] = []

    /// 100,000 URLs do not fit on a command line (the kernel caps argv at a few MB), so they can come from a file.
    @Option(name: .customLong("targets-from"), help: "A file of targets, one a line (blank lines and lines starting with # skipped); - reads standard input.")
    var targetsFrom: String?

    @Option(name: .long, help: "Rules folder: its vendors/*.yaml add to (or, by file name, replace) the built-in catalog, its approved.yaml is the registry (default: ./rules, then /etc/tagwatch/rules, when present).")
    var rules: String?

    @Flag(name: .customLong("no-builtin-catalog"), help: "Use only the rules folder's vendors/*.yaml, not the catalog built into tagwatch.")
    var noBuiltinCatalog = false

    @Option(name: .long, help: "Approved-vendor registry (default: approved.yaml in the rules folder, if present).")
    var registry: String?

    @Option(name: .long, help: "A label every target carries, e.g. payment (repeatable).")
    var label: [String] = []

    @Option(name: .customLong("fail-on"), help: "Exit 1 when a finding of this severity or above exists.")
    var failOn: Severity?

    @Option(name: .customLong("first-party"), help: "A domain the company owns (repeatable).")
    var firstParty: [String] = []

    @Option(name: .customLong("base-url"), help: "The URL a saved file (or the root of a folder) is served at.")
    var baseURL: String?

    @Option(name: .long, help: "Output format.")
    var format: ScanFormat = .text

    @Option(name: .long, help: "Transfers at once.")
    var concurrency: Int = 16

    @Option(name: .customLong("per-host"), help: "Transfers at once to one host: pages, and on a count of their own the scripts followed.")
    var perHost: Int = 4

    @Option(name: .long, help: "How long a transfer may take in all, as in the config: 20s, 1m, or seconds.")
    var timeout = DurationArgument(seconds: 20)

    @Option(name: .customLong("connect-timeout"), help: "How long establishing a connection may take (10s, or seconds).")
    var connectTimeout = DurationArgument(seconds: 10)

    @Option(name: .customLong("max-page-bytes"), help: "Largest page body accepted, as in the config: 5MB, 500KB, or bytes.")
    var maxPageBytes = SizeArgument(bytes: 5 * 1024 * 1024)

    @Option(name: .customLong("user-agent"), help: "User-Agent header sent with each request.")
    var userAgent: String?

    @Option(name: .long, help: "HTTP proxy for every fetch, e.g. http://proxy:3128; it replaces the *_proxy and no_proxy variables for this run.")
    var proxy: String?

    @Option(name: .customLong("no-proxy"), help: "With --proxy: a host that is fetched directly (repeatable).")
    var noProxy: [String] = []

    @Flag(name: .customLong("no-follow"), help: "Report only what the HTML names: do not fetch the scripts pages load.")
    var noFollow = false

    @Flag(name: .customLong("follow-remote"), help: "For files and folders, also fetch scripts that are not on disk.")
    var followRemote = false

    @Option(name: .customLong("max-script-bytes"), help: "Largest script or container followed: 8MB, 500KB, or bytes.")
    var maxScriptBytes = SizeArgument(bytes: FollowOptions().maxScriptBytes)

    func validate() throws {
        if targets.isEmpty && targetsFrom == nil { throw ValidationError("name at least one URL, file or folder to scan") }
        if concurrency < 1 || concurrency > 1024 { throw ValidationError("--concurrency must be between 1 and 1024") }
        if !Limits.perHost.contains(perHost) { throw ValidationError("--per-host must be between 1 and \(Limits.perHost.upperBound)") }
        for (name, value) in [("--timeout", timeout.seconds), ("--connect-timeout", connectTimeout.seconds)] where !Limits.check(value, Limits.timeout) {
            throw ValidationError("\(name) must be a duration \(Limits.describeSeconds(Limits.timeout)), not \(value)s")
        }
        if !Limits.maxPageBytes.contains(maxPageBytes.bytes) {
            throw ValidationError("--max-page-bytes must be between \(Limits.maxPageBytes.lowerBound) and \(Limits.maxPageBytes.upperBound) bytes")
        }
        if maxScriptBytes.bytes < 1024 || maxScriptBytes.bytes > Limits.maxPageBytes.upperBound {
            throw ValidationError("--max-script-bytes must be between 1024 and \(Limits.maxPageBytes.upperBound) bytes")
        }
        if let p = proxy, !Config.isProxyURL(p) { throw ValidationError("--proxy must be a proxy URL such as http://proxy:3128, not '\(p)'") }
        if !noProxy.isEmpty && proxy == nil { throw ValidationError("--no-proxy needs --proxy") }
        if let b = baseURL, !(b.hasPrefix("http://") || b.hasPrefix("https://")) || URL(string: b)?.host == nil {
            throw ValidationError("--base-url must be an absolute http(s) URL, not '\(b)'")
        }
    }

    func run() throws {
        FreedMemory.limitArenas()
        let loaded: Rules
        do {
            loaded = try Rules.load(directory: try RulesLocation.resolve(rules).directory, registryFile: registry,
                                    builtinCatalog: !noBuiltinCatalog)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        if failOn != nil && loaded.registry == nil {
            printError("--fail-on needs a registry: pass --registry FILE or put approved.yaml in the rules folder")
            throw ExitCode(ExitStatus.usage)
        }
        let catalog = loaded.catalog
        // Pages given a --label are held to SRI (a third-party script without a pin is a finding).
        let policy = loaded.registry.map { r -> Policy in
            var p = Policy(registry: r, catalog: catalog)
            p.integrityLabels = Set(label)
            return p
        }
        var options = FetchOptions()
        options.concurrency = concurrency
        options.perHost = perHost
        options.timeout = timeout.seconds
        options.connectTimeout = connectTimeout.seconds
        options.maxBodyBytes = maxPageBytes.bytes
        if let userAgent { options.userAgent = userAgent }
        options.proxy = proxy
        options.noProxy = noProxy

        let detector = Detector(catalog: catalog, firstPartyDomains: firstParty)
        var follow = FollowOptions()
        follow.enabled = !noFollow
        follow.remoteForFiles = followRemote
        follow.maxScriptBytes = maxScriptBytes.bytes
        let follower = ScriptFollower(catalog: catalog, detector: detector, fetchOptions: options, options: follow)
        let scanner = Scanner(detector: detector, fetchOptions: options, follower: follower)
        var source: TargetLines?
        if let file = targetsFrom {
            do {
                source = try TargetLines(file)
            } catch {
                printError("--targets-from \(file): \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        var pending = targets[...]
        // Pages are printed in the order given as soon as they and all before them are done,
        // so memory holds only the pages still out of order, not the whole scan; and targets
        // become jobs a chunk at a time, so 100,000 URLs are not 100,000 jobs held at once.
        var printed = 0
        var failed = false
        var worst: Severity?
        var text = TextReport()
        var sarifPages: [PageReport] = []
        let out = StandardOutput()
        if format == .json { out.write("{\n  \"pages\": [") }
        // The command line's targets, then the file's, a chunk at a time: the file is read as
        // it is scanned (100,000 URLs held up front were a fifth of the scan's peak RSS).
        while true {
            var chunk = Array(pending.prefix(Self.chunk))
            pending = pending.dropFirst(chunk.count)
            if chunk.count < Self.chunk, let lines = source {
                chunk += lines.next(Self.chunk - chunk.count)
            }
            if chunk.isEmpty { break }
            let jobs = Scanner.jobs(for: chunk.map { Self.target(for: $0, baseURL: baseURL) })
            var outOfOrder: [Int: PageReport] = [:]
            var next = 0
            scanner.scan(jobs) { i, report in
                var report = report
                if let e = report.error { printError("\(report.target.name): \(e)") }
                if let policy, report.error == nil {
                    report.findings = policy.evaluate(report, labels: label + jobs[i].target.labels)
                }
                outOfOrder[i] = report
                while let r = outOfOrder.removeValue(forKey: next) {
                    if r.error != nil { failed = true }
                    for f in r.findings where worst.map({ f.severity > $0 }) ?? true { worst = f.severity }
                    switch format {
                    case .json:
                        let page = ScanOutput.page(r, withFindings: policy != nil)
                        out.append { buffer in
                            buffer.append(contentsOf: (printed == 0 ? "\n    " : ",\n    ").utf8)
                            page.write(into: &buffer, pretty: true, indent: 2)
                        }
                    case .text:
                        out.write(text.page(r))
                    case .sarif:
                        sarifPages.append(r)
                    }
                    next += 1
                    printed += 1
                }
            }
            FreedMemory.release()
        }
        switch format {
        case .json: out.write(printed == 0 ? "]\n}\n" : "\n  ]\n}\n")
        case .text: out.write(text.totals())
        case .sarif:
            let document = SARIFOutput.document(sarifPages, toolVersion: TagwatchVersion.string, registryUsed: policy != nil)
            out.append { buffer in
                document.write(into: &buffer, pretty: true)
                buffer.append(0x0A)
            }
        }
        out.flush()
        if printed == 0 {
            printError("no HTML pages found in the targets given")
            throw ExitCode(ExitStatus.targetsFailed)
        }
        if failed { throw ExitCode(ExitStatus.targetsFailed) }
        if let failOn, let worst, worst >= failOn { throw ExitCode(ExitStatus.findings) }
    }

    /// Targets turned into jobs and scanned at a time (a folder target is all its files at once).
    static let chunk = 1_000

    /// The targets of a `--targets-from` file (or standard input for `-`), read as they are
    /// needed: one a line, surrounding blanks trimmed, blank lines and `#` comments skipped.
    final class TargetLines {
        private let file: UnsafeMutablePointer<FILE>

        init(_ path: String) throws {
            if path == "-" {
                // A stream of its own on descriptor 0 (the C `stdin` global is shared mutable state to Swift 6).
                guard let f = fdopen(dup(0), "r") else { throw ValidationError(String(cString: strerror(errno))) }
                file = f
            } else {
                guard let f = fopen(path, "r") else {
                    throw ValidationError(String(cString: strerror(errno)))
                }
                file = f
            }
        }

        /// Up to `count` more targets (fewer only at the end of the file).
        func next(_ count: Int) -> [String] {
            var out: [String] = []
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            defer { free(line) }
            while out.count < count, getline(&line, &capacity, file) >= 0, let line {
                let text = String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty && !text.hasPrefix("#") { out.append(text) }
            }
            return out
        }

        deinit { fclose(file) }
    }

    static func target(for argument: String, baseURL: String? = nil) -> Target {
        if argument.contains("://") { return Target(source: .url(argument)) }
        return Target(source: .file(path: argument, baseURL: baseURL))
    }
}

/// Where the rules live when the user does not say: `./rules`, then `/etc/tagwatch/rules`, when
/// either is a folder; otherwise none, and the built-in catalog is used alone.
struct RulesLocation {
    var directory: String?

    static let searched = ["rules", Config.defaultRules]

    static func resolve(_ given: String?) throws -> RulesLocation {
        if let given {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: given, isDirectory: &isDir), isDir.boolValue else {
                throw SourceError(file: given, line: nil, "rules folder not found")
            }
            return RulesLocation(directory: given)
        }
        for candidate in searched {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), isDir.boolValue {
                return RulesLocation(directory: candidate)
            }
        }
        return RulesLocation(directory: nil)
    }
}

/// Buffered standard output (print() per page would flush a pipe line by line).
final class StandardOutput {
    private var buffer: [UInt8] = []

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count > 1 << 16 { flush() }
    }

    /// Lets `body` append bytes straight to the buffer (a page's JSON, written as bytes).
    func append(_ body: (inout [UInt8]) -> Void) {
        body(&buffer)
        if buffer.count > 1 << 16 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR { continue }; break }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
