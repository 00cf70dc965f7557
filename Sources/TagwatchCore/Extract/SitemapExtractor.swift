import CLibXML2
import Foundation

/// Reads page URLs out of a sitemap (urlset) or the child sitemaps of a sitemap index,
/// with libxml2's XML parser, network access and entity expansion off.
public enum SitemapExtractor {
    public struct Result: Sendable {
        public var pages: [String] = []
        public var childSitemaps: [String] = []
    }

    public static func extract(_ body: [UInt8]) -> Result? {
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
            | XML_PARSE_RECOVER.rawValue | XML_PARSE_NOBLANKS.rawValue)
        guard !body.isEmpty else { return nil }
        let doc: xmlDocPtr? = body.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
                xmlReadMemory($0, Int32(clamping: b.count), "sitemap.xml", nil, options)
            }
        }
        guard let doc else { return nil }
        defer { xmlFreeDoc(doc) }
        guard let root = xmlDocGetRootElement(doc), let rootName = root.pointee.name else { return nil }
        let isIndex = String(cString: rootName) == "sitemapindex"
        guard isIndex || String(cString: rootName) == "urlset" else { return nil }
        var result = Result()
        var node = root.pointee.children
        while let entry = node {
            var child = entry.pointee.children
            while let c = child {
                if c.pointee.type == XML_ELEMENT_NODE, let n = c.pointee.name, String(cString: n) == "loc",
                   let text = xmlNodeGetContent(c) {
                    let loc = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
                    cxml_free(text)
                    if !loc.isEmpty {
                        if isIndex { result.childSitemaps.append(loc) } else { result.pages.append(loc) }
                    }
                }
                child = c.pointee.next
            }
            node = entry.pointee.next
        }
        return result
    }
}
