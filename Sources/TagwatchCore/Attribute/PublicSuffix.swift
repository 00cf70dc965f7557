import CPSL

/// Registrable domains from the Public Suffix List, through libpsl and Debian's list
/// (libpsl picks the newer of the system file and its built-in copy).
public final class PublicSuffixList: @unchecked Sendable {
    // psl_ctx_t is read-only after loading, which libpsl documents as safe across threads.
    private let ctx: OpaquePointer

    public static let shared = PublicSuffixList()

    private init() {
        if let latest = psl_latest(nil) {
            ctx = latest
        } else {
            ctx = psl_builtin()
        }
    }

    /// The registrable domain of `host` ("www.example.co.uk" -> "example.co.uk"); the host itself
    /// for IP addresses, single labels and public suffixes.
    ///
    /// Remembered per thread (`DomainCache`): a scan asks about the same few hosts on every page.
    public func registrableDomain(_ host: String) -> String {
        let cache = DomainCache.current
        if let domain = cache.domains[host] { return domain }
        let domain = lookUp(host)
        if cache.domains.count >= DomainCache.limit { cache.domains.removeAll(keepingCapacity: true) }
        cache.domains[host] = domain
        return domain
    }

    private func lookUp(_ host: String) -> String {
        let h = host.utf8.last == 0x2E ? String(host.dropLast()) : host
        // IP addresses have no registrable domain: the address is its own site. Hosts from the
        // URL parser are ASCII, checked byte by byte; other text keeps the Character checks.
        var ascii = true, colon = false, numeric = true
        for b in h.utf8 {
            if b >= 0x80 { ascii = false; break }
            if b == 0x3A { colon = true }
            if !(b >= 0x30 && b <= 0x39) && b != 0x2E { numeric = false }
        }
        if ascii {
            if colon || numeric { return h }
        } else if h.contains(":") || h.allSatisfy({ $0.isNumber || $0 == "." }) {
            return h
        }
        return h.withCString { p in
            if let r = psl_registrable_domain(ctx, p) { return String(cString: r) }
            return h
        }
    }
}

/// The registrable domains one thread has looked up. libpsl costs about 9,000 instructions a
/// lookup and a scan asks about the same hosts on every page; each thread (a scan's workers
/// each have one) keeps its own, so the hot path takes no lock. Emptied when it reaches
/// `limit` hosts, so a 100,000-page scan over many hosts holds at most that many.
final class DomainCache {
    static let limit = 4096
    var domains: [String: String] = [:]

    private static let perThread = PerThread { DomainCache() }

    /// This thread's cache, made on first use and released when the thread ends.
    static var current: DomainCache { perThread.current }
}
