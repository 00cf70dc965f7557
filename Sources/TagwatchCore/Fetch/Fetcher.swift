import CCurl
import Foundation
import Synchronization

/// Limits and identity for fetching, taken from the config or the command line.
public struct FetchOptions: Sendable {
    public var concurrency: Int = 16
    public var perHost: Int = 4
    public var connectTimeout: Double = 10
    public var timeout: Double = 20
    public var maxBodyBytes: Int = 5 * 1024 * 1024
    public var maxRedirects: Int = 10
    public var userAgent: String = "tagwatch/0.1 (+https://github.com/tagwatch/tagwatch)"
    /// An HTTP proxy for every transfer (`proxy:`, `--proxy`; CURLOPT_PROXY). When set it
    /// replaces libcurl's `*_proxy`/`no_proxy` variables: hosts in `noProxy` alone go direct.
    /// nil: libcurl reads those variables itself.
    public var proxy: String?
    public var noProxy: [String] = []
    /// A PEM file of certificate authorities to trust instead of the system's (an internal CA);
    /// nil: the system's store. Verification itself is never turned off.
    public var caFile: String?

    public init() {}
}

/// The outcome of one HTTP(S) transfer.
public struct FetchResult: Sendable {
    public static let securityHeaderNames: Set<String> = [
        "content-security-policy", "content-security-policy-report-only", "strict-transport-security",
        "x-frame-options", "permissions-policy", "referrer-policy", "x-content-type-options",
    ]

    public var requestedURL: String
    public var finalURL: String
    public var status: Int?
    public var contentType: String?
    public var contentSecurityPolicy: String?
    public var setCookieNames: [String]
    /// The security headers PCI DSS 11.6.1 watches (lowercased names; repeated headers joined by ", ").
    public var securityHeaders: [String: String] = [:]
    public var body: [UInt8]
    public var error: String?
    /// The response's validators, sent back on the next request for a conditional GET (a 304 then
    /// means the page is as it was).
    public var etag: String? = nil
    public var lastModified: String? = nil
}

/// Lets another thread stop a running fetch: pending transfers are dropped and running ones aborted.
public final class FetchCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    private let multi = Mutex<UInt>(0)  // the multi handle's address while a fetch runs

    public init() {}

    public var isCancelled: Bool { flag.load(ordering: .acquiring) }

    public func cancel() {
        flag.store(true, ordering: .releasing)
        multi.withLock { m in
            if let handle = UnsafeMutableRawPointer(bitPattern: m) { curl_multi_wakeup(handle) }
        }
    }

    fileprivate func attach(_ m: UnsafeMutableRawPointer?) {
        let address = m.map { UInt(bitPattern: $0) } ?? 0
        multi.withLock { $0 = address }
    }
}

/// Per-transfer state that libcurl's callbacks write into; lives on the fetch thread only.
private final class Transfer {
    let index: Int
    let url: String
    let hostKey: String
    let limit: Int
    var body: [UInt8] = []
    var overLimit = false
    var contentSecurityPolicy: String?
    var setCookieNames: [String] = []
    var securityHeaders: [String: String] = [:]
    var etag: String?
    var lastModified: String?
    /// Extra request headers (a conditional GET's), owned here and freed after the handle.
    var requestHeaders: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// The easy handle, to ask for the body's announced length when its first bytes arrive.
    var easy: UnsafeMutableRawPointer?

    init(index: Int, url: String, hostKey: String, limit: Int) {
        self.index = index
        self.url = url
        self.hostKey = hostKey
        self.limit = limit
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        errorBuffer.deallocate()
        if let requestHeaders { curl_slist_free_all(requestHeaders) }
    }

    /// The headers `header(_:)` keeps anything of (lowercased).
    static let keptNames: [[UInt8]] = FetchResult.securityHeaderNames.union(["etag", "last-modified", "set-cookie"])
        .sorted().map { Array($0.utf8) }

    /// One header line as libcurl hands it over. An ASCII line (nearly all) is looked at as bytes,
    /// and a String made only of a header that is kept: making and lowercasing a String of every
    /// line of every response was 1 % of a scan. Any other line takes the general path.
    func header(bytes: UnsafeRawBufferPointer) {
        var ascii = true
        var colon = -1
        for (i, b) in bytes.enumerated() {
            if b >= 0x80 { ascii = false; break }
            if b == 0x3A && colon < 0 { colon = i }
        }
        guard ascii else { return header(String(decoding: bytes, as: UTF8.self)) }
        if bytes.count >= 5, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50, bytes[4] == 0x2F {
            return header("HTTP/")  // a new response: the general path forgets the previous one's headers
        }
        guard colon >= 0 else { return }
        let isKept = Self.keptNames.contains { name in
            guard name.count == colon else { return false }
            for i in 0..<colon {
                let b = bytes[i]
                if (b >= 0x41 && b <= 0x5A ? b + 0x20 : b) != name[i] { return false }
            }
            return true
        }
        if isKept { header(String(decoding: bytes, as: UTF8.self)) }
    }

    func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or a 100 Continue): forget the previous one's headers.
            contentSecurityPolicy = nil
            setCookieNames = []
            securityHeaders = [:]
            etag = nil
            lastModified = nil
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        if FetchResult.securityHeaderNames.contains(name) {
            securityHeaders[name] = securityHeaders[name].map { $0 + ", " + value } ?? value
        }
        switch name {
        case "content-security-policy":
            contentSecurityPolicy = contentSecurityPolicy.map { $0 + ", " + value } ?? value
        case "etag":
            etag = value
        case "last-modified":
            lastModified = value
        case "set-cookie":
            if let eq = value.firstIndex(of: "=") {
                setCookieNames.append(String(value[..<eq]).trimmingCharacters(in: .whitespaces))
            }
        default:
            break
        }
    }
}

private let writeCallback: curl_write_callback = { ptr, size, nmemb, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let count = size * nmemb
    if transfer.body.count + count > transfer.limit {
        transfer.overLimit = true
        return 0  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
    }
    if transfer.body.capacity == 0, let easy = transfer.easy {
        // Room for the whole announced body at once (a page grew through four reallocations
        // and copies otherwise). Only a hint: a compressed answer announces its compressed size.
        var length: curl_off_t = -1
        if ccurl_getinfo_off(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK, length > 0 {
            transfer.body.reserveCapacity(min(Int(length), transfer.limit))
        }
    }
    if let ptr, count > 0 {
        ptr.withMemoryRebound(to: UInt8.self, capacity: count) {
            transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
        }
    }
    return count
}

private let headerCallback: curl_write_callback = { ptr, size, nmemb, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let count = size * nmemb
    if let ptr, count > 0 {
        transfer.header(bytes: UnsafeRawBufferPointer(start: ptr, count: count))
    }
    return count
}

private let curlGlobalInit: Bool = {
    curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
}()

/// A libcurl multi handle kept across fetches, and with it its cache of open connections, for a
/// caller that fetches often in small batches (the follower: a few scripts per page). Made new
/// for each batch, every batch opened its connections again (`connect` was 6 % of a steady-state
/// cycle's profile). Used by one fetch at a time.
public final class FetchSession: @unchecked Sendable {
    let multi: UnsafeMutableRawPointer
    /// Easy handles of finished transfers, reset, for the next ones.
    var spare = EasyHandles()

    public init?() {
        precondition(curlGlobalInit, "curl_global_init failed")
        guard let m = curl_multi_init() else { return nil }
        multi = m
    }

    deinit {
        spare.cleanup()
        curl_multi_cleanup(multi)
    }
}

/// Easy handles kept for reuse: `curl_easy_init` and `curl_easy_cleanup` per transfer were 1 %
/// of a scan (4,000 transfers, most of them a followed script's small answer). A handle given
/// back is `curl_easy_reset` at once, so it holds no option, callback or pointer of the transfer
/// that used it; what reset keeps (connections, DNS and TLS session caches) changes no result.
struct EasyHandles {
    private var handles: [UnsafeMutableRawPointer] = []

    mutating func take() -> UnsafeMutableRawPointer? { handles.popLast() ?? curl_easy_init() }

    mutating func giveBack(_ easy: UnsafeMutableRawPointer) {
        curl_easy_reset(easy)
        handles.append(easy)
    }

    mutating func cleanup() {
        for easy in handles { curl_easy_cleanup(easy) }
        handles = []
    }
}

/// Transfers at once to each host, shared by fetches that run on several threads at the same time
/// (the script followers): `per_host` then bounds what the whole scan asks of one host, not what
/// each thread asks of it. Hosts are keyed as `Fetcher` keys them (the host name, lowercased).
/// A fetch that finds a host's slots taken queues for it; a slot given back passes to the first
/// in the queue, whose multi handle is woken (`curl_multi_wakeup`): one wake-up per slot, in order.
public final class HostSlots: @unchecked Sendable {
    public let perHost: Int
    private struct Waiter: Hashable {
        let multi: UnsafeMutableRawPointer
        let host: String
    }
    private let lock = NSLock()
    /// Slots held per host, granted ones included.
    private var inUse: [String: Int] = [:]
    /// Fetches waiting for a host's slot, first come first served.
    private var queues: [String: [UnsafeMutableRawPointer]] = [:]
    /// Slots passed to a waiting fetch and not yet taken by it.
    private var granted: [Waiter: Int] = [:]

    public init(perHost: Int) {
        self.perHost = max(1, perHost)
    }

    /// Takes a slot for one transfer to `host`. False when its slots are held or others wait for
    /// them: the fetch is then queued, and `multi` woken when a slot is passed to it.
    func take(_ host: String, waker multi: UnsafeMutableRawPointer) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let me = Waiter(multi: multi, host: host)
        if let g = granted[me] {
            granted[me] = g > 1 ? g - 1 : nil
            return true
        }
        let n = inUse[host, default: 0]
        if n < perHost && queues[host, default: []].isEmpty {
            inUse[host] = n + 1
            return true
        }
        if !queues[host, default: []].contains(multi) { queues[host, default: []].append(multi) }
        return false
    }

    /// Gives back the slot of a transfer that ended: to the first fetch waiting for the host, or free.
    func give(_ host: String) {
        lock.lock()
        defer { lock.unlock() }
        release(host)
    }

    private func release(_ host: String) {
        if var q = queues[host], !q.isEmpty {
            let next = q.removeFirst()
            queues[host] = q.isEmpty ? nil : q
            granted[Waiter(multi: next, host: host), default: 0] += 1
            curl_multi_wakeup(next)
        } else {
            let n = inUse[host, default: 1] - 1
            inUse[host] = n > 0 ? n : nil
        }
    }

    /// A fetch that ends waits no more, and slots passed to it and not taken go on to the next.
    /// Its multi handle may be cleaned up after this.
    func forget(_ multi: UnsafeMutableRawPointer) {
        lock.lock()
        defer { lock.unlock() }
        for (host, q) in queues where q.contains(multi) {
            let rest = q.filter { $0 != multi }
            queues[host] = rest.isEmpty ? nil : rest
        }
        for (w, g) in granted where w.multi == multi {
            granted[w] = nil
            for _ in 0..<g { release(w.host) }
        }
    }

    /// Transfers running now over all hosts (slots passed on and not yet taken count as running).
    public var running: Int {
        lock.lock()
        defer { lock.unlock() }
        return inUse.values.reduce(0, +)
    }
}

/// Fetches pages over HTTP(S) with libcurl's multi interface: many transfers on one thread,
/// an overall and a per-host limit, connection reuse, only http and https.
public struct Fetcher: Sendable {
    public var options: FetchOptions

    public init(options: FetchOptions) {
        self.options = options
    }

    /// libcurl's global init, once per process (for other users of libcurl in Fetch/).
    static func initializeCurl() {
        precondition(curlGlobalInit, "curl_global_init failed")
    }

    /// Fetches every URL, calling `deliver` on the calling thread as each transfer ends.
    /// Blocks until all are done or `cancellation` fires (then the rest end with an error).
    /// `admit` is asked before each new transfer starts: while it says no, no transfer starts,
    /// so a slower consumer bounds how many fetched bodies wait in memory.
    /// `requestHeaders`, when not empty, holds extra `Name: value` request headers per URL
    /// (by index), such as a conditional GET's `If-None-Match`.
    /// `session`: a multi handle kept from earlier fetches, whose open connections are reused.
    /// `hostSlots`: per-host slots shared with fetches on other threads, taken as well as this
    /// call's own per-host count (`options.perHost`) before a transfer starts.
    public func fetch(_ urls: [String], requestHeaders: [[String]] = [], cancellation: FetchCancellation? = nil,
                      session: FetchSession? = nil, hostSlots: HostSlots? = nil, admit: () -> Bool = { true },
                      deliver: (Int, FetchResult) -> Void) {
        precondition(curlGlobalInit, "curl_global_init failed")
        guard let multi = session?.multi ?? curl_multi_init() else {
            for (i, u) in urls.enumerated() {
                deliver(i, failure(u, "libcurl could not start (curl_multi_init failed)"))
            }
            return
        }
        cancellation?.attach(multi)
        var ownHandles = EasyHandles()
        defer {
            cancellation?.attach(nil)
            hostSlots?.forget(multi)
            ownHandles.cleanup()
            if session == nil { curl_multi_cleanup(multi) }
        }
        func takeEasy() -> UnsafeMutableRawPointer? { session != nil ? session!.spare.take() : ownHandles.take() }
        func giveBack(_ easy: UnsafeMutableRawPointer) {
            if let session { session.spare.giveBack(easy) } else { ownHandles.giveBack(easy) }
        }
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(options.concurrency, 4))

        // Per-host FIFO queues, served round-robin, so one big host does not starve the others.
        var queues: [String: [(Int, String)]] = [:]
        var hostOrder: [String] = []
        for (i, u) in urls.enumerated() {
            let lower = u.lowercased()
            guard let parsed = URLComponents(string: u), let scheme = parsed.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty else {
                let isHTTP = lower.hasPrefix("http://") || lower.hasPrefix("https://")
                deliver(i, failure(u, isHTTP ? "malformed URL: \(u)" : "not an http or https URL: \(u)"))
                continue
            }
            let key = host.lowercased()
            if queues[key] == nil { hostOrder.append(key) }
            queues[key, default: []].append((i, u))
        }
        var queueHeads: [String: Int] = [:]
        var activePerHost: [String: Int] = [:]
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        var remaining = queues.values.reduce(0) { $0 + $1.count }
        var rr = 0
        /// A transfer waits for a slot another thread holds (`hostSlots`).
        var waitingForSlot = false
        /// `hostSlots` slots of ended transfers, kept for this call's next transfer to the same host:
        /// handing each one to another thread would wake a thread per transfer.
        var kept: [String: Int] = [:]

        func startMore() {
            waitingForSlot = false
            var stalledRounds = 0
            while active.count < options.concurrency, remaining > 0, stalledRounds < hostOrder.count, admit() {
                let host = hostOrder[rr % hostOrder.count]
                rr += 1
                let head = queueHeads[host, default: 0]
                guard let q = queues[host], head < q.count, activePerHost[host, default: 0] < options.perHost else {
                    stalledRounds += 1
                    continue
                }
                if let hostSlots {
                    if let k = kept[host] {
                        kept[host] = k > 1 ? k - 1 : nil
                    } else if !hostSlots.take(host, waker: multi) {
                        waitingForSlot = true
                        stalledRounds += 1
                        continue
                    }
                }
                stalledRounds = 0
                queueHeads[host] = head + 1
                remaining -= 1
                let (index, url) = q[head]
                let transfer = Transfer(index: index, url: url, hostKey: host, limit: options.maxBodyBytes)
                if index < requestHeaders.count {
                    for h in requestHeaders[index] where !h.contains("\r") && !h.contains("\n") {
                        transfer.requestHeaders = curl_slist_append(transfer.requestHeaders, h)
                    }
                }
                guard let easy = takeEasy().map({ configure($0, for: transfer) }) else {
                    hostSlots?.give(host)
                    deliver(index, failure(url, "libcurl could not create a transfer"))
                    continue
                }
                curl_multi_add_handle(multi, easy)
                active[easy] = transfer
                activePerHost[host, default: 0] += 1
            }
        }

        func finish(_ easy: UnsafeMutableRawPointer, code: CURLcode) {
            guard let transfer = active.removeValue(forKey: easy) else { return }
            activePerHost[transfer.hostKey, default: 1] -= 1
            if let hostSlots {
                let host = transfer.hostKey
                if queueHeads[host, default: 0] < queues[host]?.count ?? 0 && cancellation?.isCancelled != true {
                    kept[host, default: 0] += 1
                } else {
                    hostSlots.give(host)
                }
            }
            curl_multi_remove_handle(multi, easy)
            let result = makeResult(easy, transfer: transfer, code: code)
            transfer.easy = nil
            Unmanaged.passUnretained(transfer).release()
            giveBack(easy)
            deliver(transfer.index, result)
        }

        startMore()
        var running: Int32 = 0
        while !active.isEmpty || remaining > 0 {
            if cancellation?.isCancelled == true { break }
            if active.isEmpty {
                if waitingForSlot {
                    // Every host queued here is at its `hostSlots` limit: woken when a slot frees.
                    curl_multi_poll(multi, nil, 0, 1000, nil)
                } else {
                    // Waiting for the consumer to take what was fetched.
                    usleep(1000)
                }
                startMore()
                continue
            }
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let msg = curl_multi_info_read(multi, &queued) {
                if ccurl_msg_done(msg) != 0, let easy = ccurl_msg_easy(msg) {
                    finish(easy, code: ccurl_msg_result(msg))
                }
            }
            startMore()
            if !active.isEmpty {
                // Returns early on this handle's transfers or when a slot it waits for frees.
                curl_multi_poll(multi, nil, 0, 1000, nil)
            }
        }
        // Cancelled: abort what runs and report what never ran.
        for easy in Array(active.keys) {
            finish(easy, code: CURLE_ABORTED_BY_CALLBACK)
        }
        for (host, k) in kept {
            for _ in 0..<k { hostSlots?.give(host) }
        }
        for host in hostOrder {
            let q = queues[host] ?? []
            for (index, url) in q[queueHeads[host, default: 0]...] {
                deliver(index, failure(url, "cancelled before it was fetched"))
            }
        }
    }

    private func failure(_ url: String, _ message: String) -> FetchResult {
        FetchResult(requestedURL: url, finalURL: url, status: nil, contentType: nil,
                    contentSecurityPolicy: nil, setCookieNames: [], body: [], error: message)
    }

    /// Sets every option of a transfer on a new or reset easy handle.
    private func configure(_ easy: UnsafeMutableRawPointer, for transfer: Transfer) -> UnsafeMutableRawPointer {
        transfer.easy = easy
        let me = Unmanaged.passRetained(transfer).toOpaque()
        _ = ccurl_setopt_str(easy, CURLOPT_URL, transfer.url)
        _ = ccurl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_str(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = ccurl_setopt_str(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = ccurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_MAXREDIRS, options.maxRedirects)
        _ = ccurl_setopt_str(easy, CURLOPT_ACCEPT_ENCODING, "")  // every encoding this libcurl decodes
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Limits.milliseconds(options.connectTimeout))
        _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Limits.milliseconds(options.timeout))
        _ = ccurl_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.maxBodyBytes))
        _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = options.caFile { _ = ccurl_setopt_str(easy, CURLOPT_CAINFO, caFile) }
        _ = ccurl_setopt_str(easy, CURLOPT_USERAGENT, options.userAgent)
        if let proxy = options.proxy {
            _ = ccurl_setopt_str(easy, CURLOPT_PROXY, proxy)
            _ = ccurl_setopt_str(easy, CURLOPT_NOPROXY, options.noProxy.joined(separator: ","))
        }
        if let headers = transfer.requestHeaders { _ = ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, headers) }
        _ = ccurl_setopt_write(easy, CURLOPT_WRITEFUNCTION, writeCallback)
        _ = ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, me)
        _ = ccurl_setopt_write(easy, CURLOPT_HEADERFUNCTION, headerCallback)
        _ = ccurl_setopt_ptr(easy, CURLOPT_HEADERDATA, me)
        return easy
    }

    private func makeResult(_ easy: UnsafeMutableRawPointer, transfer: Transfer, code: CURLcode) -> FetchResult {
        var status = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_str(easy, CURLINFO_EFFECTIVE_URL, &effective)
        var ctype: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_str(easy, CURLINFO_CONTENT_TYPE, &ctype)
        let finalURL = effective.map { String(cString: $0) } ?? transfer.url
        var error: String?
        if code != CURLE_OK {
            if transfer.overLimit || code == CURLE_FILESIZE_EXCEEDED {
                error = "body larger than the limit of \(options.maxBodyBytes) bytes; transfer aborted"
            } else if code == CURLE_ABORTED_BY_CALLBACK {
                error = "cancelled"
            } else {
                let detail = String(cString: transfer.errorBuffer)
                let summary = String(cString: curl_easy_strerror(code))
                error = detail.isEmpty ? summary : "\(summary): \(detail)"
            }
        }
        return FetchResult(requestedURL: transfer.url, finalURL: finalURL,
                           status: status == 0 ? nil : status,
                           contentType: ctype.map { String(cString: $0) },
                           contentSecurityPolicy: transfer.contentSecurityPolicy,
                           setCookieNames: transfer.setCookieNames, securityHeaders: transfer.securityHeaders,
                           body: error == nil ? transfer.body : [], error: error,
                           etag: transfer.etag, lastModified: transfer.lastModified)
    }
}
