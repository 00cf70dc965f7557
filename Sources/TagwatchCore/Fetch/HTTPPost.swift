import CCurl
import Foundation

/// One HTTP POST with libcurl (the webhook's), blocking: the fetcher's TLS and protocol rules,
/// the response body read and dropped. Kept beside the fetcher, so libcurl stays in Fetch/.
public enum HTTPPost {
    public struct Result: Sendable {
        /// The HTTP status, when the receiver answered.
        public var status: Int?
        /// Why it failed before an answer (connection refused, timeout), in libcurl's words.
        public var error: String?
        public var ok: Bool { error == nil && (status.map { (200..<300).contains($0) } ?? false) }
    }

    public static func post(url: String, body: [UInt8], headers: [String], timeout: Double,
                            userAgent: String, proxy: String? = nil, noProxy: [String] = []) -> Result {
        Fetcher.initializeCurl()
        guard let easy = curl_easy_init() else { return Result(status: nil, error: "curl_easy_init failed") }
        defer { curl_easy_cleanup(easy) }
        var list: UnsafeMutablePointer<curl_slist>?
        for h in headers { list = curl_slist_append(list, h) }
        defer { curl_slist_free_all(list) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        _ = ccurl_setopt_str(easy, CURLOPT_URL, url)
        _ = ccurl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_str(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = ccurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 10) * 1000))
        _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        _ = ccurl_setopt_str(easy, CURLOPT_USERAGENT, userAgent)
        if let proxy {
            _ = ccurl_setopt_str(easy, CURLOPT_PROXY, proxy)
            _ = ccurl_setopt_str(easy, CURLOPT_NOPROXY, noProxy.joined(separator: ","))
        }
        _ = ccurl_setopt_ptr(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
        _ = ccurl_setopt_long(easy, CURLOPT_POST, 1)
        _ = ccurl_setopt_write(easy, CURLOPT_WRITEFUNCTION) { _, size, count, _ in size * count }
        let code: CURLcode = body.withUnsafeBufferPointer { buf in
            _ = ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buf.count))
            _ = ccurl_setopt_ptr(easy, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buf.baseAddress))
            return curl_easy_perform(easy)
        }
        var status = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        if code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            return Result(status: status == 0 ? nil : status,
                          error: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        return Result(status: status, error: nil)
    }
}
