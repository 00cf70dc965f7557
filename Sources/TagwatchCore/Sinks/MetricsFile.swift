import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What one finished cycle measured, for Prometheus.
public struct CycleMetrics: Sendable, Equatable {
    public var durationSeconds: Double
    public var pages: Int
    public var failed: Int
    public var resources: Int
    public var thirdPartyResources: Int
    public var vendors: Int
    public var unknownHosts: Int
    public var openAlerts: [Severity: Int]
    public var raised: Int
    public var resolved: Int
    /// Unix time the cycle finished.
    public var finishedAt: Double

    public init(durationSeconds: Double, pages: Int, failed: Int, resources: Int, thirdPartyResources: Int, vendors: Int,
                unknownHosts: Int, openAlerts: [Severity: Int], raised: Int, resolved: Int, finishedAt: Double) {
        self.durationSeconds = durationSeconds
        self.pages = pages
        self.failed = failed
        self.resources = resources
        self.thirdPartyResources = thirdPartyResources
        self.vendors = vendors
        self.unknownHosts = unknownHosts
        self.openAlerts = openAlerts
        self.raised = raised
        self.resolved = resolved
        self.finishedAt = finishedAt
    }
}

/// The daemon's metrics as a node_exporter textfile-collector file (Prometheus text format
/// 0.0.4), replaced atomically after each cycle so a scrape never reads half a file. The
/// collector reads only `*.prom`, so the temporary file beside it is never scraped.
public struct MetricsFile: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    public static func render(_ m: CycleMetrics) -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
        }
        func int(_ v: Int) -> [(labels: String, value: String)] { [("", String(v))] }
        gauge("tagwatch_cycle_duration_seconds", "Wall time of the last finished cycle.", [("", String(format: "%.3f", m.durationSeconds))])
        gauge("tagwatch_pages_scanned", "Pages the last cycle scanned, failed ones included.", int(m.pages))
        gauge("tagwatch_pages_failed", "Pages the last cycle could not scan.", int(m.failed))
        gauge("tagwatch_resources", "Resources the last cycle found on all pages.", int(m.resources))
        gauge("tagwatch_third_party_resources", "Third-party resources the last cycle found on all pages.", int(m.thirdPartyResources))
        gauge("tagwatch_vendors", "Distinct vendors the last cycle found.", int(m.vendors))
        gauge("tagwatch_unknown_hosts", "Distinct third-party hosts no vendor claims, last cycle.", int(m.unknownHosts))
        gauge("tagwatch_alerts_open", "Open alerts by severity.",
              Severity.allCases.map { ("{severity=\"\($0.rawValue)\"}", String(m.openAlerts[$0] ?? 0)) })
        gauge("tagwatch_alert_events", "Alert events of the last cycle.",
              [("{event=\"raised\"}", String(m.raised)), ("{event=\"resolved\"}", String(m.resolved))])
        gauge("tagwatch_last_success_timestamp_seconds", "Unix time the last successful cycle finished.",
              [("", String(format: "%.3f", m.finishedAt))])
        return out
    }

    /// Writes to a temporary file beside `path`, then renames it over `path`; mode 0644 whatever
    /// the umask, so node_exporter (another user) can read it.
    public func write(_ m: CycleMetrics) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).\(getpid()).tmp")
        let bytes = Array(Self.render(m).utf8)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MetricsWriteError("metrics \(path): cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = fchmod(fd, 0o644) == 0
        var offset = 0
        while ok && offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false; break }
            offset += n
        }
        let err = errno
        if close(fd) != 0 { ok = false }
        guard ok else {
            unlink(tmp)
            throw MetricsWriteError("metrics \(path): cannot write \(tmp): \(String(cString: strerror(err)))")
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw MetricsWriteError("metrics \(path): cannot rename \(tmp) into place: \(String(cString: strerror(e)))")
        }
    }
}

/// The metrics file could not be written; the message names the file and why.
public struct MetricsWriteError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
