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
    public func registrableDomain(_ host: String) -> String {
        let h = host.hasSuffix(".") ? String(host.dropLast()) : host
        // IP addresses have no registrable domain: the address is its own site.
        if h.contains(":") || h.allSatisfy({ $0.isNumber || $0 == "." }) { return h }
        return h.withCString { p in
            if let r = psl_registrable_domain(ctx, p) { return String(cString: r) }
            return h
        }
    }
}
