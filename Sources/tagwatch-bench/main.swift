// tagwatch-bench: in-process measurements for bench/run.
//
//   tagwatch-bench parse-ceiling DIR [--threads 2] [--rounds 3]
//       libxml2 alone: htmlReadMemory + xmlFreeDoc over every .html page of DIR, held in
//       memory, split over THREADS threads; no extraction. The best of ROUNDS is printed.
//   tagwatch-bench sax-ceiling DIR [--threads 2] [--rounds 3] [--push] [--chunk 16384]
//       libxml2 alone without a tree: the same pages through the HTML parser with SAX callbacks
//       that do nothing but count elements (what the Extractor's walk starts from), the pull
//       parser (htmlCtxtReadMemory, as the Extractor) or with --push the push parser
//       (htmlCreatePushParserCtxt + htmlParseChunk in CHUNK-byte pieces). Same output as parse-ceiling.
//   tagwatch-bench extract-dump DIR [--fragment] [--detect [--rules DIR]]
//       Every page's extraction (or, with --fragment, each page's text parsed as a tag's Custom
//       HTML) as JSON lines, for comparing two builds byte for byte; --detect adds each page's
//       Detector result (first party example.com), as `extract` measures it.
//   tagwatch-bench extract DIR [--rules DIR] [--rounds 3]
//       On one core: bare parse of every page (the DOM: htmlReadMemory + xmlFreeDoc; and the
//       SAX pull parser with empty callbacks), then Extractor + Detector on every page; prints the
//       rates and the ratios (extract pages/s over each bare parse's pages/s), from wall time and
//       from the thread's CPU time. --only extract|dom|sax runs that one part alone (for profiling).
//   tagwatch-bench urls [--count 200000] [--rounds 3]
//       Resolving references the way pages write them against a page URL: WebURL (the WHATWG
//       parser the extractor uses) against Foundation's URL(string:relativeTo:); ns per URL.
//   tagwatch-bench lookup [--rules DIR] [--synthetic 10000] [--queries 200000]
//       Catalog.match cost (ns per lookup) with the real catalog and with a generated
//       catalog of SYNTHETIC vendors, on the same mix of hits and misses.
//   tagwatch-bench report-state OUT.sqlite [--pages 1000] [--vendors 50] [--cycles 30] [--rules DIR]
//       Writes a daemon state as CYCLES cycles over PAGES pages would leave it, each page carrying
//       a seeded subset of the catalog's first VENDORS vendors (a few join or leave each cycle),
//       held against rules/approved.example.yaml; for measuring the HTML report (bench/report.sh).
//   tagwatch-bench record-cycle CONFIG.yaml FROM.sqlite OUT.sqlite [--rounds 3]
//       The daemon's write of a first cycle alone, on one thread: the page reports FROM (a state
//       a cycle with CONFIG left) stores are read back, observed against CONFIG's registry as a
//       cycle does, then written one page at a time into a new state OUT (made afresh each round)
//       and committed, as `run --once` does on an empty state. Prints the best round's thread CPU
//       seconds for the write (observe, encode, SQL, commit) and the commit alone; for comparing
//       builds (also under callgrind, which cannot run `run`).
//
// Every command prints one JSON object on stdout.
import CLibXML2
import Dispatch
import Foundation
import TagwatchCore

struct Page: Sendable {
    let name: String
    let bytes: [UInt8]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("tagwatch-bench: " + message + "\n").utf8))
    exit(2)
}

func option(_ args: [String], _ name: String, _ fallback: String) -> String {
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

func intOption(_ args: [String], _ name: String, _ fallback: Int) -> Int {
    let v = option(args, name, String(fallback))
    guard let n = Int(v), n > 0 else { fail("\(name) must be a positive integer, not '\(v)'") }
    return n
}

func loadPages(_ dir: String) -> [Page] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { fail("cannot list \(dir)") }
    let pages = names.filter { $0.hasSuffix(".html") }.sorted().map { name -> Page in
        guard let data = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent(name)) else {
            fail("cannot read \(name)")
        }
        return Page(name: name, bytes: [UInt8](data))
    }
    if pages.isEmpty { fail("no .html pages in \(dir)") }
    return pages
}

/// The options the Extractor parses with.
let parseOptions = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
    | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue | HTML_PARSE_NOBLANKS.rawValue)

func bareParse(_ page: Page) {
    page.bytes.withUnsafeBufferPointer { buf in
        buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
            if let doc = htmlReadMemory(p, Int32(clamping: buf.count), "https://www.example.com/", nil, parseOptions) {
                xmlFreeDoc(doc)
            }
        }
    }
}

/// Empty SAX callbacks but for an element count: the parse a SAX walk cannot go below.
func countingHandler() -> htmlSAXHandler {
    var h = htmlSAXHandler()
    h.initialized = 1
    h.startElement = { ctx, _, _ in
        guard let ctx else { return }
        let c = ctx.assumingMemoryBound(to: htmlParserCtxt.self)
        c.pointee._private?.assumingMemoryBound(to: Int.self).pointee += 1
    }
    h.characters = { _, _, _ in }
    h.cdataBlock = { _, _, _ in }
    return h
}

/// The Extractor's options (documentOptions).
let extractorOptions = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
    | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue | HTML_PARSE_NOBLANKS.rawValue
    | HTML_PARSE_IGNORE_ENC.rawValue | XML_PARSE_HUGE.rawValue)

/// Pull parser with SAX callbacks (as the Extractor parses); returns the element count.
@discardableResult
func saxParse(_ page: Page) -> Int {
    guard let ctxt = htmlNewParserCtxt() else { return 0 }
    defer { htmlFreeParserCtxt(ctxt) }
    ctxt.pointee.sax.pointee = countingHandler()
    var count = 0
    withUnsafeMutablePointer(to: &count) { counter in
        ctxt.pointee._private = UnsafeMutableRawPointer(counter)
        page.bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                _ = htmlCtxtReadMemory(ctxt, p, Int32(clamping: buf.count), "https://www.example.com/", nil, extractorOptions)
            }
        }
        ctxt.pointee._private = nil
    }
    return count
}

/// Push parser with SAX callbacks, fed `chunk` bytes at a time; returns the element count.
@discardableResult
func saxPushParse(_ page: Page, chunk: Int) -> Int {
    var handler = countingHandler()
    var count = 0
    return withUnsafeMutablePointer(to: &count) { counter -> Int in
        guard let ctxt = htmlCreatePushParserCtxt(&handler, nil, nil, 0, "https://www.example.com/", XML_CHAR_ENCODING_NONE) else { return 0 }
        defer { htmlFreeParserCtxt(ctxt) }
        _ = htmlCtxtUseOptions(ctxt, extractorOptions)
        ctxt.pointee._private = UnsafeMutableRawPointer(counter)
        page.bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                var at = 0
                while at < buf.count {
                    let n = min(chunk, buf.count - at)
                    _ = htmlParseChunk(ctxt, p + at, Int32(n), 0)
                    at += n
                }
                _ = htmlParseChunk(ctxt, p, 0, 1)
            }
        }
        ctxt.pointee._private = nil
        return counter.pointee
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

/// CPU seconds of the calling thread: a phase's cost that other processes on the machine do not inflate.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func json(_ pairs: [(String, Any)]) -> String {
    "{" + pairs.map { k, v in
        let value: String
        switch v {
        case let d as Double: value = String(format: "%.6g", d)
        case let s as String: value = "\"" + s + "\""
        default: value = "\(v)"
        }
        return "\"\(k)\": \(value)"
    }.joined(separator: ", ") + "}"
}

func parseCeiling(_ args: [String], parse: @escaping @Sendable (Page) -> Void = { bareParse($0) }) {
    guard args.count >= 1 else { fail("usage: parse-ceiling|sax-ceiling DIR [--threads N] [--rounds N]") }
    let pages = loadPages(args[0])
    let threads = intOption(args, "--threads", 2)
    let rounds = intOption(args, "--rounds", 3)
    _ = Extractor()  // initialises libxml2 and silences its error output, as the product does
    let bytes = pages.reduce(0) { $0 + $1.bytes.count }
    var best = Double.infinity
    let cpu0 = cpuSeconds()
    var wallTotal = 0.0
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var i = t
            while i < pages.count {
                parse(pages[i])
                i += threads
            }
        }
        let s = seconds(ContinuousClock.now - start)
        wallTotal += s
        best = min(best, s)
    }
    let cpu = cpuSeconds() - cpu0
    print(json([("pages", pages.count), ("bytes", bytes), ("threads", threads), ("rounds", rounds),
                ("best_seconds", best), ("pages_per_s", Double(pages.count) / best),
                ("mb_per_s", Double(bytes) / best / 1e6), ("cpu_utilisation", cpu / wallTotal)]))
}

func loadCatalog(_ args: [String]) -> Catalog {
    let rules = option(args, "--rules", "rules")
    do { return try CatalogLoader.load(directory: (rules as NSString).appendingPathComponent("vendors")) } catch {
        fail("\(error)")
    }
}

/// One round's figures, written by the round's thread and read after it ended.
final class RoundResult: @unchecked Sendable {
    var wall = 0.0, cpu = 0.0, count = 0
}

/// Runs `body` on a new thread and waits for it to end.
func onFreshThread(_ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.start()
    done.wait()
}

func extract(_ args: [String]) {
    guard args.count >= 1 else { fail("usage: extract DIR [--rules DIR] [--rounds N]") }
    let pages = loadPages(args[0])
    let rounds = intOption(args, "--rounds", 3)
    let catalog = loadCatalog(args)
    let extractor = Extractor()
    let detector = Detector(catalog: catalog, firstPartyDomains: ["example.com"])
    let urls = pages.map { "https://www.example.com/pages/" + $0.name }
    var parseBest = Double.infinity, saxBest = Double.infinity, extractBest = Double.infinity
    var parseCPU = Double.infinity, saxCPU = Double.infinity, extractCPU = Double.infinity
    var resources = 0
    let only = option(args, "--only", "")
    for _ in 0..<rounds {
        var start = ContinuousClock.now
        var cpu = threadCPUSeconds()
        if only.isEmpty || only == "dom" { for p in pages { bareParse(p) } }
        parseBest = min(parseBest, seconds(ContinuousClock.now - start))
        parseCPU = min(parseCPU, threadCPUSeconds() - cpu)
        start = ContinuousClock.now
        cpu = threadCPUSeconds()
        if only.isEmpty || only == "sax" { for p in pages { saxParse(p) } }
        saxBest = min(saxBest, seconds(ContinuousClock.now - start))
        saxCPU = min(saxCPU, threadCPUSeconds() - cpu)
        // Each round on a thread of its own: the per-thread caches (TextMemo, DomainCache) start
        // empty every round, as in a fresh process, so no round reuses what an earlier one kept.
        let round = RoundResult()
        onFreshThread {
            let start = ContinuousClock.now
            let cpu = threadCPUSeconds()
            var count = 0
            for (i, p) in pages.enumerated() where only.isEmpty || only == "extract" {
                let extraction = extractor.extract(body: p.bytes, pageURL: urls[i])
                count += detector.detect(extraction, pageURL: urls[i]).count
            }
            round.wall = seconds(ContinuousClock.now - start)
            round.cpu = threadCPUSeconds() - cpu
            round.count = count
        }
        extractBest = min(extractBest, round.wall)
        extractCPU = min(extractCPU, round.cpu)
        resources = round.count
    }
    let parseRate = Double(pages.count) / parseBest
    let saxRate = Double(pages.count) / saxBest
    let extractRate = Double(pages.count) / extractBest
    print(json([("pages", pages.count), ("rounds", rounds), ("resources", resources),
                ("parse_pages_per_s", parseRate), ("sax_parse_pages_per_s", saxRate), ("extract_detect_pages_per_s", extractRate),
                ("ratio", extractRate / parseRate), ("ratio_over_sax", extractRate / saxRate),
                // The same ratios from the thread's CPU time (best of ROUNDS), steady on a busy machine.
                ("cpu_ms_per_page_parse", parseCPU / Double(pages.count) * 1e3), ("cpu_ms_per_page_sax", saxCPU / Double(pages.count) * 1e3),
                ("cpu_ms_per_page_extract_detect", extractCPU / Double(pages.count) * 1e3),
                ("cpu_ratio", parseCPU / extractCPU), ("cpu_ratio_over_sax", saxCPU / extractCPU)]))
}

/// One JSON string literal (for extract-dump).
func quoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

func extractDump(_ args: [String]) {
    guard args.count >= 1 else { fail("usage: extract-dump DIR [--fragment]") }
    let pages = loadPages(args[0])
    let fragment = args.contains("--fragment")
    let detector = args.contains("--detect") ? Detector(catalog: loadCatalog(args), firstPartyDomains: ["example.com"]) : nil
    let extractor = Extractor()
    for p in pages {
        let url = "https://www.example.com/pages/" + p.name
        var fields: [String] = ["\"page\": " + quoted(p.name)]
        let resources: [ExtractedResource]
        let scripts: [String]
        if fragment {
            let r = extractor.extractFragment(html: String(decoding: p.bytes, as: UTF8.self), baseURL: url)
            resources = r.resources
            scripts = r.inlineScripts
        } else {
            let e = extractor.extract(body: p.bytes, pageURL: url)
            resources = e.resources
            scripts = e.inlineScripts
            fields.append("\"base\": " + quoted(e.baseURL))
            fields.append("\"canonical\": " + (e.canonicalURL.map(quoted) ?? "null"))
            fields.append("\"warnings\": [" + e.warnings.map(quoted).joined(separator: ", ") + "]")
            if let detector {
                let found = detector.detect(e, pageURL: url).map { r in
                    "[" + [quoted(r.url), quoted(r.host), quoted(r.kind.rawValue), quoted(r.party.rawValue), r.vendor.map { quoted($0.id) } ?? "null",
                           r.integrity.map(quoted) ?? "null", "[" + r.tagIDs.map(quoted).joined(separator: ", ") + "]"].joined(separator: ", ") + "]"
                }
                fields.append("\"detected\": [" + found.joined(separator: ", ") + "]")
            }
        }
        let rs = resources.map { r in
            "[" + [quoted(r.url), quoted(r.kind.rawValue), r.integrity.map(quoted) ?? "null", r.inlineIndex.map(String.init) ?? "null"].joined(separator: ", ") + "]"
        }
        fields.append("\"resources\": [" + rs.joined(separator: ", ") + "]")
        fields.append("\"inline_scripts\": [" + scripts.map(quoted).joined(separator: ", ") + "]")
        print("{" + fields.joined(separator: ", ") + "}")
    }
}

func urls(_ args: [String]) {
    let count = intOption(args, "--count", 200_000)
    let rounds = intOption(args, "--rounds", 3)
    let refs = ["/assets/app.js?v=3", "https://www.googletagmanager.com/gtm.js?id=GTM-ABC123", "//cdn.vendor.example/a.js",
                "../img/pixel.gif", "https://static.hotjar.com/c/hotjar-12345.js?sv=6", "https://connect.facebook.net/en_US/fbevents.js",
                "images/hero@2x.png", "https://www.google-analytics.com/analytics.js", "/css/site.css", "https://fonts.gstatic.com"]
    let pageString = "https://www.example.com/pages/section/page-17.html"
    let page = WebURL(pageString)!
    let foundationBase = URL(string: pageString)!
    var webBest = Double.infinity, foundationBest = Double.infinity
    var sink = 0
    for _ in 0..<rounds {
        var start = ContinuousClock.now
        for i in 0..<count { sink &+= WebURL.parse(refs[i % refs.count], base: page)?.href.utf8.count ?? 0 }
        webBest = min(webBest, seconds(ContinuousClock.now - start))
        start = ContinuousClock.now
        for i in 0..<count { sink &+= URL(string: refs[i % refs.count], relativeTo: foundationBase)?.absoluteString.utf8.count ?? 0 }
        foundationBest = min(foundationBest, seconds(ContinuousClock.now - start))
    }
    print(json([("urls", count), ("rounds", rounds), ("weburl_ns_per_url", webBest / Double(count) * 1e9),
                ("foundation_ns_per_url", foundationBest / Double(count) * 1e9), ("checksum", sink % 1000)]))
}

/// Writes a catalog of `count` made-up vendors (two hosts and a pattern each) as YAML.
func writeSyntheticCatalog(count: Int, into dir: String) {
    try? FileManager.default.removeItem(atPath: dir)
    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch { fail("\(error)") }
    let tlds = ["com", "net", "io", "co", "ai", "co.uk"]
    var text = "vendors:\n"
    for i in 0..<count {
        let tld = tlds[i % tlds.count]
        text += """
          - id: vendor-\(i)
            name: Vendor \(i)
            company: Company \(i / 3)
            category: \(Catalog.categories[i % Catalog.categories.count])
            hosts: [v\(i)-cdn.\(tld), tag.vendor\(i).\(tld)]
            patterns: [www.vendor\(i)-shared.\(tld)/collect/]

        """
    }
    _ = FileManager.default.createFile(atPath: (dir as NSString).appendingPathComponent("synthetic.yaml"), contents: Data(text.utf8))
}

/// The query mix: subdomains of catalog hosts (hits) and hosts no vendor claims (misses), with paths.
func queries(for catalog: Catalog, count: Int) -> [(String, String)] {
    var hosts: [String] = []
    for v in catalog.vendors {
        hosts += v.hosts
        hosts += v.patterns.map { String($0.prefix { $0 != "/" }) }
    }
    var out: [(String, String)] = []
    out.reserveCapacity(count)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(truncatingIfNeeded: state >> 33)
    }
    let prefixes = ["", "www.", "cdn.", "static.", "eu1.js."]
    for i in 0..<count {
        if i % 4 == 3 {
            out.append(("assets\(next() % 1000).unrelated-site\(next() % 5000).com", "/app.js"))
        } else {
            out.append((prefixes[next() % prefixes.count] + hosts[next() % hosts.count], "/collect/js?id=1"))
        }
    }
    return out
}

func timeLookups(_ catalog: Catalog, _ qs: [(String, String)], rounds: Int) -> (ns: Double, hits: Int) {
    var best = Double.infinity
    var hits = 0
    for _ in 0..<rounds {
        var h = 0
        let start = ContinuousClock.now
        for (host, path) in qs where catalog.match(host: host, path: path) != nil { h += 1 }
        best = min(best, seconds(ContinuousClock.now - start))
        hits = h
    }
    return (best / Double(qs.count) * 1e9, hits)
}

func lookup(_ args: [String]) {
    let real = loadCatalog(args)
    let synthetic = intOption(args, "--synthetic", 10_000)
    let count = intOption(args, "--queries", 200_000)
    let rounds = intOption(args, "--rounds", 3)
    let dir = NSTemporaryDirectory() + "tagwatch-bench-catalog-\(getpid())"
    writeSyntheticCatalog(count: synthetic, into: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let big: Catalog
    do { big = try CatalogLoader.load(directory: dir) } catch { fail("\(error)") }
    let realResult = timeLookups(real, queries(for: real, count: count), rounds: rounds)
    let bigResult = timeLookups(big, queries(for: big, count: count), rounds: rounds)
    print(json([("queries", count), ("real_vendors", real.count), ("real_ns_per_lookup", realResult.ns),
                ("real_hit_rate", Double(realResult.hits) / Double(count)),
                ("synthetic_vendors", big.count), ("synthetic_ns_per_lookup", bigResult.ns),
                ("synthetic_hit_rate", Double(bigResult.hits) / Double(count))]))
}

func reportState(_ args: [String]) {
    guard let out = args.first else { fail("usage: report-state OUT.sqlite [--pages N] [--vendors N] [--cycles N]") }
    let pages = intOption(args, "--pages", 1000), vendorCount = intOption(args, "--vendors", 50), cycles = intOption(args, "--cycles", 30)
    let rulesDir = option(args, "--rules", "rules")
    let rules: Rules
    do { rules = try Rules.load(directory: rulesDir, registryFile: rulesDir + "/approved.example.yaml") } catch { fail("\(error)") }
    // Spread over the catalog (so over its categories), starting with vendors the example registry names.
    let named = ["google-tag-manager", "google-analytics", "meta-pixel", "hotjar", "youtube", "google-fonts"].compactMap { rules.catalog.vendor(id: $0) }
    let step = max(1, rules.catalog.count / vendorCount)
    let spread = stride(from: 0, to: rules.catalog.count, by: step).map { rules.catalog.vendors[$0] }.filter { v in !named.contains { $0.id == v.id } }
    let vendors = Array((named + spread).prefix(vendorCount))
    guard vendors.count == vendorCount else { fail("the catalog has only \(vendors.count) vendors") }
    let policy = Policy(registry: rules.registry ?? Registry(), catalog: rules.catalog)
    var seed: UInt64 = 42
    func next(_ n: Int) -> Int {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Int((seed >> 33) % UInt64(n))
    }
    // Vendor i is on a page with a probability falling with i, so a few are everywhere and many are rare.
    var onPage: [[Bool]] = (0..<pages).map { _ in (0..<vendorCount).map { i in next(100) < max(2, 90 - i * 2) } }
    unlink(out)
    do {
        let store = try Store(path: out)
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        for c in 0..<cycles {
            for _ in 0..<(pages / 50) { let p = next(pages), v = next(vendorCount); onPage[p][v].toggle() }
            let at = Timestamp.string(start.addingTimeInterval(Double(c) * 6 * 3600))
            let observations = (0..<pages).map { p -> PageObservation in
                let url = "https://www.example.com/products/item-\(p).html"
                let resources = vendors.enumerated().filter { onPage[p][$0.offset] }.map { _, v in
                    Resource(url: "https://\(v.hosts.first ?? "cdn.example.net")/tag.js?page=\(p)", host: v.hosts.first ?? "cdn.example.net",
                             kind: .script, party: .third, vendor: v.ref)
                }
                let report = PageReport(target: Target(source: .url(url)), url: url, status: 200, error: nil, resources: resources)
                return PageObservation(page: url, target: url, labels: [], report: report,
                                       findings: policy.evaluate(report, labels: [], today: "2026-11-30"))
            }
            _ = try store.record(cycle: observations, started: at, finished: at, unreachableAfter: 2)
        }
        print(json([("state", out), ("pages", pages), ("vendors", vendorCount), ("cycles", cycles),
                    ("open_alerts", try store.openAlerts().count)]))
    } catch { fail("\(error)") }
}

/// `record-cycle`: see the top of this file.
func recordCycle(_ args: [String]) {
    guard args.count >= 3 else { fail("usage: tagwatch-bench record-cycle CONFIG.yaml FROM.sqlite OUT.sqlite [--rounds 3]") }
    let rounds = intOption(args, "--rounds", 3)
    func cpu() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    do {
        let config = try Config.load(file: args[0])
        let watcher = try Watcher(config: config)
        let from = try Store(path: args[1])
        from.fingerprint = AnalysisFingerprint.of(catalog: watcher.rules.catalog, firstParty: config.firstParty)
        let validators = try from.pageValidators()
        let pages = validators.keys.sorted()
        let stored = try from.storedObservations(pages: pages).compactMapValues { $0.decoded() }
        // The fingerprint names the binary: a state another build wrote is to be given this one's
        // (`UPDATE page_cache SET fingerprint = ...` with the value printed here).
        guard stored.count == pages.count, !pages.isEmpty else {
            fail("\(args[1]): \(stored.count) of \(pages.count) stored reports under this build's fingerprint \(from.fingerprint)")
        }
        var policy = Policy(registry: watcher.rules.registry ?? Registry(), catalog: watcher.rules.catalog)
        policy.integrityLabels = Set(config.integrityLabels)
        let today = Policy.today()
        var best = (write: Double.infinity, commit: Double.infinity)
        var resources = 0
        for _ in 0..<rounds {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: args[2] + suffix) }
            let store = try Store(path: args[2])
            store.fingerprint = from.fingerprint
            let time = "2026-11-30T00:00:00Z"
            let recorder = CycleRecorder(store: store, started: time, unreachableAfter: config.unreachableAfter)
            let t0 = cpu()
            for page in pages {
                var report = stored[page]!
                report.validators = validators[page]
                // As the cycle observes a page (Watcher.observe) with no integrity labels.
                var findings = policy.evaluate(report, labels: [], today: today)
                for i in findings.indices { findings[i].page = page }
                var o = PageObservation(page: page, target: report.target.name, labels: [], report: report, findings: findings)
                if !report.scripts.isEmpty && policy.anyChangesExpected {
                    let vendors = Dictionary(report.resources.map { ($0.url, $0.vendor) }, uniquingKeysWith: { a, _ in a })
                    o.expectedChanges = Set(report.scripts.filter { policy.changesExpected(vendors[$0.url] ?? nil) }.map(\.url))
                }
                try recorder.add([o], at: time)
            }
            let t1 = cpu()
            _ = try recorder.finish(finished: time)
            let t2 = cpu()
            resources = recorder.resources
            if t2 - t0 < best.write { best = (t2 - t0, t2 - t1) }
        }
        print(json([("pages", pages.count), ("resources", resources), ("write_cpu_s", best.write), ("commit_cpu_s", best.commit)]))
    } catch { fail("\(error)") }
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "parse-ceiling": parseCeiling(Array(args.dropFirst()))
case "sax-ceiling":
    let rest = Array(args.dropFirst())
    if rest.contains("--push") {
        let chunk = intOption(rest, "--chunk", 16384)
        parseCeiling(rest) { saxPushParse($0, chunk: chunk) }
    } else {
        parseCeiling(rest) { saxParse($0) }
    }
case "extract-dump": extractDump(Array(args.dropFirst()))
case "extract": extract(Array(args.dropFirst()))
case "lookup": lookup(Array(args.dropFirst()))
case "urls": urls(Array(args.dropFirst()))
case "report-state": reportState(Array(args.dropFirst()))
case "record-cycle": recordCycle(Array(args.dropFirst()))
default: fail("usage: tagwatch-bench parse-ceiling DIR | sax-ceiling DIR [--push] | extract DIR | extract-dump DIR | lookup | urls | report-state OUT | record-cycle CONFIG FROM OUT  (see the comment at the top of main.swift)")
}
