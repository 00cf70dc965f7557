import Foundation

/// What a resource reference is, as it appears in the JSON output's `kind` field.
public enum ResourceKind: String, Sendable, Codable, CaseIterable {
    case script
    case inlineScript = "inline-script"
    case iframe
    case img
    case link
    case form
    case object
    case noscriptImg = "noscript-img"
}

/// Whether a resource belongs to the company that runs the page.
public enum Party: String, Sendable, Codable {
    case first
    case third
}

/// A page to scan: a URL to fetch, or a saved HTML file with the URL it was saved from.
public struct Target: Sendable, Hashable, Codable {
    public enum Source: Sendable, Hashable, Codable {
        case url(String)
        case file(path: String, baseURL: String?)
    }
    public var source: Source
    public var labels: [String]

    public init(source: Source, labels: [String] = []) {
        self.source = source
        self.labels = labels
    }

    /// How the user named the target, as echoed in reports.
    public var name: String {
        switch source {
        case .url(let u): return u
        case .file(let p, _): return p
        }
    }
}

/// What the fetcher brought back for one target: the bytes and the headers that matter.
public struct Page: Sendable {
    public var target: Target
    /// The URL the page is served at (after redirects), used to resolve relative references.
    public var url: String
    public var status: Int?
    public var contentType: String?
    public var contentSecurityPolicy: String?
    public var setCookieNames: [String]
    public var body: [UInt8]
    /// Why the page could not be had; nil when `body` holds the page.
    public var error: String?

    public init(target: Target, url: String, status: Int? = nil, contentType: String? = nil,
                contentSecurityPolicy: String? = nil, setCookieNames: [String] = [],
                body: [UInt8] = [], error: String? = nil) {
        self.target = target
        self.url = url
        self.status = status
        self.contentType = contentType
        self.contentSecurityPolicy = contentSecurityPolicy
        self.setCookieNames = setCookieNames
        self.body = body
        self.error = error
    }
}

/// One reference a page makes to something it loads, as the extractor found it.
public struct ExtractedResource: Sendable, Hashable {
    public var url: String
    public var kind: ResourceKind
    /// The `integrity` attribute of a script or stylesheet, if any.
    public var integrity: String?
    /// For inline scripts: the index of the inline script on the page (0-based).
    public var inlineIndex: Int?
    /// The script or container whose content named this resource; nil for the page's own HTML.
    public var via: String?
    /// The tag-manager tag it came from.
    public var tag: TagRef?
    /// The vendor the rules data names for it (a known tag type), which beats the host's.
    public var vendorID: String?
    /// Tag or account ids the tag's own parameters name.
    public var tagIDs: [String]

    public init(url: String, kind: ResourceKind, integrity: String? = nil, inlineIndex: Int? = nil,
                via: String? = nil, tag: TagRef? = nil, vendorID: String? = nil, tagIDs: [String] = []) {
        self.url = url
        self.kind = kind
        self.integrity = integrity
        self.inlineIndex = inlineIndex
        self.via = via
        self.tag = tag
        self.vendorID = vendorID
        self.tagIDs = tagIDs
    }
}

/// The tag-manager tag a resource came from, so privacy review can see which tags wait for consent.
public struct TagRef: Sendable, Hashable, Codable {
    /// The tag's type as the container names it (`__hjtc`, `__html`, `__cvt_123_45`, a Segment integration…).
    public var type: String
    /// Its id inside the container (GTM's `tag_id`), when it has one.
    public var id: String?
    /// The consent types it waits for (GTM's `consent` list), empty when it names none.
    public var consent: [String]
    /// The container's own id (`GTM-ABC1234`), for "inside GTM-ABC1234" in reports.
    public var container: String?

    public init(type: String, id: String? = nil, consent: [String] = [], container: String? = nil) {
        self.type = type
        self.id = id
        self.consent = consent
        self.container = container
    }
}

/// The extractor's result for a page: the resources and the inline script texts.
public struct Extraction: Sendable {
    public var resources: [ExtractedResource]
    public var inlineScripts: [String]
    public var baseURL: String
    /// The URL the page says it is served at (`<link rel=canonical>`, else `<meta property=og:url>`),
    /// absolute http(s) only: for a saved file, the site that first-party is judged against.
    public var canonicalURL: String?
    /// What the parser could not read or changed on the way (stopped early, a charset ignored).
    public var warnings: [String] = []

    public init(resources: [ExtractedResource], inlineScripts: [String], baseURL: String, canonicalURL: String? = nil) {
        self.resources = resources
        self.inlineScripts = inlineScripts
        self.baseURL = baseURL
        self.canonicalURL = canonicalURL
    }
}

/// The part of a catalog vendor that travels with a resource in reports.
public struct VendorRef: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var company: String
    public var category: String

    public init(id: String, name: String, company: String, category: String) {
        self.id = id
        self.name = name
        self.company = company
        self.category = category
    }
}

/// A resource after detection: its party and the vendor that claims it.
public struct Resource: Sendable, Hashable, Codable {
    public var url: String
    public var host: String
    public var kind: ResourceKind
    public var party: Party
    public var vendor: VendorRef?
    public var integrity: String?
    public var tagIDs: [String]
    /// The script or container whose content named it (nil: the page's HTML names it).
    public var via: String?
    /// The tag-manager tag it came from.
    public var tag: TagRef?

    public init(url: String, host: String, kind: ResourceKind, party: Party, vendor: VendorRef?,
                integrity: String? = nil, tagIDs: [String] = [], via: String? = nil, tag: TagRef? = nil) {
        self.url = url
        self.host = host
        self.kind = kind
        self.party = party
        self.vendor = vendor
        self.integrity = integrity
        self.tagIDs = tagIDs
        self.via = via
        self.tag = tag
    }

    /// How it got onto the page, as a verb phrase for findings and alerts ("loaded from inside
    /// GTM-ABC1234 (tag __hjtc #12)", "loaded by URL"): nil for the page's own HTML.
    public var provenance: String? {
        guard let via else { return nil }
        if let tag {
            let container = tag.container ?? via
            var s = "loaded from inside \(container) (tag \(tag.type)"
            if let id = tag.id { s += " #\(id)" }
            if !tag.consent.isEmpty { s += ", waits for consent: \(tag.consent.joined(separator: ", "))" }
            return s + ")"
        }
        return "loaded by \(via)"
    }
}

/// Everything a scan learned about one target.
public struct PageReport: Sendable, Codable {
    public var target: Target
    public var url: String
    public var status: Int?
    public var error: String?
    /// Problems that did not stop the scan, such as bytes that are not valid UTF-8.
    public var warnings: [String]
    public var resources: [Resource]
    /// Policy findings, when a registry was applied.
    public var findings: [Finding] = []
    /// The scripts (and SRI-pinned stylesheets) it loads, with their hashes, when they were followed.
    public var scripts: [ScriptRecord] = []
    /// The security headers the page was served with (lowercased names), for URL targets.
    public var securityHeaders: [String: String] = [:]
    /// What the server said identifies this version of the page (daemon cycles only).
    public var validators: PageValidators?
    /// The server answered 304, or the same bytes as last time, and following the stored
    /// observation's scripts again found what it holds: the daemon only touches "last seen".
    public var unchanged = false

    /// Findings are the policy's verdict of the day, so a stored report leaves them out.
    enum CodingKeys: String, CodingKey {
        case target, url, status, error, warnings, resources, scripts, securityHeaders, validators
    }

    public init(target: Target, url: String, status: Int?, error: String?, warnings: [String] = [], resources: [Resource]) {
        self.target = target
        self.url = url
        self.status = status
        self.error = error
        self.warnings = warnings
        self.resources = resources
    }
}

/// How a daemon cycle knows a page is unchanged without parsing it: the validators the server
/// gave (sent back as `If-None-Match` / `If-Modified-Since`) and the SHA-256 of the body.
public struct PageValidators: Sendable, Hashable, Codable {
    public var etag: String?
    public var lastModified: String?
    public var bodySHA256: String

    public init(etag: String?, lastModified: String?, bodySHA256: String) {
        self.etag = etag
        self.lastModified = lastModified
        self.bodySHA256 = bodySHA256
    }

    /// The request headers of a conditional GET for the version these validators name.
    public var requestHeaders: [String] {
        var h: [String] = []
        if let etag { h.append("If-None-Match: " + etag) }
        if let lastModified { h.append("If-Modified-Since: " + lastModified) }
        return h
    }
}
