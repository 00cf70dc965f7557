import CCrypto
import Foundation

/// A script's content fingerprint: what PCI DSS 6.4.3 asks to keep per script, and what an
/// `integrity` attribute pins. SHA-384 (base64, as SRI writes it) identifies the content;
/// SHA-256 (hex) is for people comparing with `sha256sum`.
public struct ScriptDigest: Sendable, Hashable, Codable {
    public var sha384: String
    public var sha256: String
    public var size: Int
    /// SHA-256 and SHA-512 in base64, for `integrity` attributes that use them.
    public var sha256Base64: String
    public var sha512Base64: String

    public init(sha384: String, sha256: String, size: Int, sha256Base64: String = "", sha512Base64: String = "") {
        self.sha384 = sha384
        self.sha256 = sha256
        self.size = size
        self.sha256Base64 = sha256Base64
        self.sha512Base64 = sha512Base64
    }

    public init(of bytes: [UInt8]) {
        let s256 = Digest.bytes("SHA256", bytes)
        sha384 = Data(Digest.bytes("SHA384", bytes)).base64EncodedString()
        sha256 = s256.map { String(format: "%02x", $0) }.joined()
        sha256Base64 = Data(s256).base64EncodedString()
        sha512Base64 = Data(Digest.bytes("SHA512", bytes)).base64EncodedString()
        size = bytes.count
    }

    /// The SHA-256 of `bytes` in hex (a page body's fingerprint between cycles).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Digest.bytes("SHA256", bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The attribute value that pins these bytes.
    public var sriValue: String { "sha384-" + sha384 }
}

/// Digests through the system's libcrypto (OpenSSL), never a hand-written hash.
enum Digest {
    static func bytes(_ algorithm: String, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let n = data.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { o in ccrypto_digest(algorithm, raw.baseAddress, raw.count, o.baseAddress) }
        }
        precondition(n > 0, "libcrypto has no \(algorithm) digest")
        return Array(out.prefix(Int(n)))
    }
}

/// Subresource Integrity (https://www.w3.org/TR/SRI/): a browser loads a script or stylesheet
/// only when one of the strongest hashes its `integrity` attribute names matches the bytes.
public enum SubresourceIntegrity {
    public enum Verdict: String, Sendable {
        /// The attribute's strongest hash matches the bytes: the browser loads it.
        case matches
        /// No hash of the strongest algorithm matches: the browser blocks it (or it was changed).
        case mismatch
        /// The attribute names no algorithm a browser knows (sha256, sha384, sha512).
        case unusable
    }

    /// Checks `attribute` against the bytes' digest as a browser does: only the strongest
    /// algorithm present counts, and any of its values may match (base64 or base64url).
    public static func verify(_ attribute: String, _ digest: ScriptDigest) -> Verdict {
        let rank = ["sha256": 1, "sha384": 2, "sha512": 3]
        var byAlgorithm: [String: [String]] = [:]
        for token in attribute.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
            let expression = token.split(separator: "?", maxSplits: 1).first.map(String.init) ?? String(token)
            guard let dash = expression.firstIndex(of: "-") else { continue }
            let algorithm = expression[..<dash].lowercased()
            guard rank[algorithm] != nil else { continue }
            let value = expression[expression.index(after: dash)...]
                .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            byAlgorithm[algorithm, default: []].append(value.trimmingCharacters(in: CharacterSet(charactersIn: "=")))
        }
        guard let strongest = byAlgorithm.keys.max(by: { rank[$0]! < rank[$1]! }) else { return .unusable }
        let actual = strongest == "sha512" ? digest.sha512Base64 : (strongest == "sha384" ? digest.sha384 : digest.sha256Base64)
        return byAlgorithm[strongest]!.contains(actual.trimmingCharacters(in: CharacterSet(charactersIn: "="))) ? .matches : .mismatch
    }
}

/// What the follower learned about one script (or SRI-pinned stylesheet) a page loads.
public struct ScriptRecord: Sendable, Hashable, Codable {
    public var url: String
    /// `script` or `stylesheet`.
    public var kind: String
    /// The page's `integrity` attribute for it, if any.
    public var integrity: String?
    public var digest: ScriptDigest?
    /// Set when the bytes could not be had this time (the last good hash is kept by the state).
    public var error: String?
    /// For a tag-manager container: its id and version, and its tags (`type #id`), so a change
    /// is described by what changed rather than by hash alone.
    public var containerVersion: String?
    public var containerTags: [String]
    /// The script or container that loads it (nil: the page's HTML).
    public var via: String?

    /// The record with the wording of its error left out, for telling whether following found
    /// what was stored: libcurl's messages carry timings ("after 3 ms"), so the same failure reads
    /// differently every cycle, and a page whose blocked script failed again was taken for changed
    /// (its observation re-encoded and its resources rewritten: 12 % of a steady-state cycle). The
    /// error itself is recorded every cycle from the fresh record, not from the stored one.
    var comparable: ScriptRecord {
        var c = self
        if c.error != nil { c.error = "" }
        return c
    }

    public init(url: String, kind: String, integrity: String? = nil, digest: ScriptDigest? = nil, error: String? = nil,
                containerVersion: String? = nil, containerTags: [String] = [], via: String? = nil) {
        self.url = url
        self.kind = kind
        self.integrity = integrity
        self.digest = digest
        self.error = error
        self.containerVersion = containerVersion
        self.containerTags = containerTags
        self.via = via
    }
}
