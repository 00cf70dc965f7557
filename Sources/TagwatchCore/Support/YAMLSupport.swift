import Foundation
// libyaml as Yams builds it (its `CYaml` target). Yams exports no product for it, so this import
// rests on the module being in the build graph: a system libyaml instead would link a second copy
// of the same C symbols beside Yams'. If a SwiftPM release refuses it, `Yams.compose` with
// `Resolver.basic` is the fallback (bench/issue12/round3-startup.md).
import CYaml
import Yams

/// A problem in a file the user wrote, located to the line so it can be fixed.
public struct SourceError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// A YAML node as the loaders read it: the text of a scalar, the items of a list, the pairs of
/// a mapping, each with the line it starts on (1-based).
///
/// Yams' `Node` resolved every plain scalar's implicit tag through ICU regexes (to hash mapping
/// keys for its duplicate check) and copied nodes on each lookup: most of a 1-page scan's CPU
/// went there when loading the catalog. `YAMLDocument` builds these nodes from libyaml's events
/// instead, and asks Yams only when a document holds something whose meaning depends on tags.
indirect enum YAMLNode: Equatable {
    case scalar(String, line: Int?)
    case sequence([YAMLNode], line: Int?)
    /// `string` is what Yams' `Node.string` gives for the mapping (the value under a `=` key),
    /// nil in all but that case.
    case mapping([YAMLPair], string: String?, line: Int?)
    /// A node Yams hands back that is none of these (an alias; `compose` resolves them all).
    case other(line: Int?)

    var line: Int? {
        switch self {
        case .scalar(_, let line), .sequence(_, let line), .mapping(_, _, let line), .other(let line): return line
        }
    }

    /// The node's text as Yams' `Node.string` gives it: a scalar's text, nil for a list.
    var string: String? {
        switch self {
        case .scalar(let s, _): return s
        case .mapping(_, let s, _): return s
        case .sequence, .other: return nil
        }
    }
}

/// A key and its value; `keyString` is the key's text as Yams' `Node.string` gives it.
struct YAMLPair: Equatable {
    let key: YAMLNode
    let keyString: String?
    let value: YAMLNode
}

/// Reads one YAML document into `YAMLNode`s: straight from libyaml's events (libyaml is what
/// Yams parses with), or through Yams when the document holds what only Yams' tag resolution
/// decides: a parse error (Yams words the message), an alias, a key that is not a plain string
/// (a list or mapping key, an explicitly tagged key, the `=` value key), two keys with the same
/// text (Yams calls them duplicates only when their resolved tags agree), more than one document.
enum YAMLDocument {
    static func compose(_ text: String) throws -> YAMLNode? {
        if case .document(let root) = fastCompose(text) { return root }
        return try Yams.compose(yaml: text).map(convert)
    }

    enum Outcome {
        case document(YAMLNode?)
        /// Something `fastCompose` leaves to Yams.
        case fallback
    }

    /// The document as Yams would compose it, or `.fallback`.
    static func fastCompose(_ text: String) -> Outcome {
        var text = text
        return text.withUTF8 { bytes -> Outcome in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return .fallback }
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return .fallback }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, base, bytes.count)
            return withUnsafeMutablePointer(to: &parser) { p -> Outcome in
                var composer = EventComposer(parser: p)
                return composer.document()
            }
        }
    }

    /// Yams' node tree, for documents `fastCompose` leaves to it.
    static func convert(_ node: Node) -> YAMLNode {
        let line = node.mark?.line
        switch node {
        case .scalar(let s):
            return .scalar(s.string, line: line)
        case .sequence(let seq):
            return .sequence(seq.map(convert), line: line)
        case .mapping(let m):
            return .mapping(m.map { YAMLPair(key: convert($0.key), keyString: $0.key.string, value: convert($0.value)) },
                            string: node.string, line: line)
        case .alias:
            return .other(line: line)
        }
    }

    /// Builds nodes from libyaml's events the way Yams' `Parser` does (`singleRoot`).
    private struct EventComposer {
        let parser: UnsafeMutablePointer<yaml_parser_t>

        /// The next event (the caller deletes it), or nil on a parse error.
        func next() -> yaml_event_t? {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) == 1 else { return nil }
            return event
        }

        /// Skips an event of the expected type; false otherwise.
        func skip(_ type: yaml_event_type_t) -> Bool {
            guard var e = next() else { return false }
            defer { yaml_event_delete(&e) }
            return e.type == type
        }

        mutating func document() -> Outcome {
            guard skip(YAML_STREAM_START_EVENT), var first = next() else { return .fallback }
            let type = first.type
            yaml_event_delete(&first)
            if type == YAML_STREAM_END_EVENT { return .document(nil) }
            guard type == YAML_DOCUMENT_START_EVENT, var rootEvent = next(), let root = node(&rootEvent),
                  skip(YAML_DOCUMENT_END_EVENT), skip(YAML_STREAM_END_EVENT) else { return .fallback }
            return .document(root)
        }

        /// The node `event` starts (deleting it), or nil to fall back to Yams.
        mutating func node(_ event: inout yaml_event_t) -> YAMLNode? {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                let s = String(decoding: UnsafeBufferPointer(start: event.data.scalar.value, count: event.data.scalar.length), as: UTF8.self)
                yaml_event_delete(&event)
                return .scalar(s, line: line)
            case YAML_SEQUENCE_START_EVENT:
                yaml_event_delete(&event)
                var items: [YAMLNode] = []
                while var e = next() {
                    if e.type == YAML_SEQUENCE_END_EVENT {
                        yaml_event_delete(&e)
                        return .sequence(items, line: line)
                    }
                    guard let item = node(&e) else { return nil }
                    items.append(item)
                }
                return nil
            case YAML_MAPPING_START_EVENT:
                yaml_event_delete(&event)
                var pairs: [YAMLPair] = []
                while var k = next() {
                    if k.type == YAML_MAPPING_END_EVENT {
                        yaml_event_delete(&k)
                        return Self.hasRepeatedKey(pairs) ? nil : .mapping(pairs, string: nil, line: line)
                    }
                    guard k.type == YAML_SCALAR_EVENT, k.data.scalar.tag == nil else {
                        yaml_event_delete(&k)
                        return nil
                    }
                    guard let key = node(&k), let keyString = key.string, keyString != "=",
                          var v = next(), let value = node(&v) else { return nil }
                    pairs.append(YAMLPair(key: key, keyString: keyString, value: value))
                }
                return nil
            default:
                // An alias (Yams resolves it against the anchors it has seen), or a stray event.
                yaml_event_delete(&event)
                return nil
            }
        }

        static func hasRepeatedKey(_ pairs: [YAMLPair]) -> Bool {
            if pairs.count <= 16 {
                for i in pairs.indices {
                    for j in 0..<i where pairs[i].keyString == pairs[j].keyString { return true }
                }
                return false
            }
            var seen = Set<String>(minimumCapacity: pairs.count)
            for p in pairs where !seen.insert(p.keyString ?? "").inserted { return true }
            return false
        }
    }
}

/// A YAML mapping read strictly: every key must be known, every value of the expected shape.
struct YAMLMap {
    let file: String
    let pairs: [YAMLPair]
    let line: Int?

    init(file: String, node: YAMLNode, what: String) throws {
        guard case .mapping(let pairs, _, let line) = node else {
            throw SourceError(file: file, line: node.line, "\(what) must be a mapping of keys to values")
        }
        self.file = file
        self.pairs = pairs
        self.line = line
    }

    static func load(file: String, text: String, what: String) throws -> YAMLMap? {
        guard let node = try compose(file: file, text: text) else { return nil }
        return try YAMLMap(file: file, node: node, what: what)
    }

    /// The document's root (nil: empty), or the YAML error located in `file`.
    static func compose(file: String, text: String) throws -> YAMLNode? {
        do {
            return try YAMLDocument.compose(text)
        } catch let e as YamlError {
            throw SourceError(file: file, line: Self.line(of: e), "not valid YAML: \(Self.problem(of: e))")
        }
    }

    private static func line(of e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func problem(of e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(e)"
        }
    }

    var keys: [(String, YAMLNode)] {
        pairs.compactMap { pair in pair.keyString.map { ($0, pair.value) } }
    }

    func node(_ key: String) -> YAMLNode? {
        for p in pairs where p.keyString == key { return p.value }
        return nil
    }

    func lineOf(_ key: String) -> Int? {
        for p in pairs where p.keyString == key { return p.key.line }
        return line
    }

    /// Rejects keys outside `allowed`, naming the nearest allowed one.
    func checkKeys(_ allowed: [String], in what: String) throws {
        for (i, p) in pairs.enumerated() {
            guard let key = p.keyString else {
                throw SourceError(file: file, line: p.key.line, "keys in \(what) must be strings")
            }
            // A mapping has a handful of keys: comparing with the earlier ones beats hashing.
            if pairs[..<i].contains(where: { $0.keyString == key }) {
                throw SourceError(file: file, line: p.key.line, "'\(key)' appears twice in \(what); keep one")
            }
            if !allowed.contains(key) {
                let hint = allowed.min(by: { editDistance($0, key) < editDistance($1, key) })
                    .flatMap { editDistance($0, key) <= 3 ? " (did you mean '\($0)'?)" : nil } ?? ""
                throw SourceError(file: file, line: p.key.line,
                                  "unknown field '\(key)' in \(what)\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
        }
    }

    func string(_ key: String) throws -> String? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s, _) = n else {
            throw SourceError(file: file, line: n.line, "'\(key)' must be a single value, not a list or mapping")
        }
        return s
    }

    func requiredString(_ key: String, in what: String) throws -> String {
        guard let s = try string(key), !Self.isBlank(s) else {
            throw SourceError(file: file, line: line, "\(what) lacks '\(key)'; add it")
        }
        return s
    }

    /// Whether `s` is empty once `.whitespaces` are trimmed; a first character that is plainly
    /// not one (an ASCII letter, digit or punctuation) answers without Foundation.
    static func isBlank(_ s: String) -> Bool {
        if let b = s.utf8.first, b > 0x20, b < 0x7F { return false }
        return s.trimmingCharacters(in: .whitespaces).isEmpty
    }

    func int(_ key: String) throws -> Int? {
        guard let s = try string(key) else { return nil }
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else {
            throw SourceError(file: file, line: lineOf(key), "'\(key)' must be a whole number, not '\(s)'")
        }
        return v
    }

    /// A list of strings; a single string is taken as a list of one.
    func strings(_ key: String) throws -> [String] {
        guard let n = node(key) else { return [] }
        switch n {
        case .scalar(let s, _):
            return s.isEmpty ? [] : [s]
        case .sequence(let seq, _):
            return try seq.map { item in
                guard case .scalar(let s, _) = item else {
                    throw SourceError(file: file, line: item.line, "each item of '\(key)' must be a single value")
                }
                return s
            }
        default:
            throw SourceError(file: file, line: n.line, "'\(key)' must be a list")
        }
    }

    func strings(_ key: String, withLines: Void) throws -> [(String, Int?)] {
        guard let n = node(key) else { return [] }
        switch n {
        case .scalar(let s, let line):
            return s.isEmpty ? [] : [(s, line)]
        case .sequence(let seq, _):
            return try seq.map { item in
                guard case .scalar(let s, let line) = item else {
                    throw SourceError(file: file, line: item.line, "each item of '\(key)' must be a single value")
                }
                return (s, line)
            }
        default:
            throw SourceError(file: file, line: n.line, "'\(key)' must be a list")
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

/// The node trees `scripts/embed-catalog` pre-parses from the built-in catalog files at build
/// time, so a start does not run libyaml over 165 KB of catalog: `TWY1` then one node in prefix
/// form, `S<line>,<bytes>:<text>` (a scalar), `L<line>,<count>:<items>` (a list),
/// `M<line>,<count>:<key><value>…` (a mapping with scalar keys). The tests check each tree
/// against what `YAMLDocument` makes of the file's text.
enum CompiledYAML {
    /// The tree, or nil when `text` is not a well-formed tree (the caller parses the YAML instead).
    static func decode(_ text: String) -> YAMLNode? {
        var text = text
        return text.withUTF8 { bytes -> YAMLNode? in
            guard bytes.count > 4, bytes[0] == UInt8(ascii: "T"), bytes[1] == UInt8(ascii: "W"),
                  bytes[2] == UInt8(ascii: "Y"), bytes[3] == UInt8(ascii: "1") else { return nil }
            var reader = Reader(bytes: bytes, at: 4)
            guard let root = reader.node(depth: 0), reader.at == bytes.count else { return nil }
            return root
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at: Int

        /// A decimal number ended by `end` (consumed).
        mutating func number(until end: UInt8) -> Int? {
            var n = 0
            var digits = 0
            while at < bytes.count, bytes[at] != end {
                let d = Int(bytes[at]) &- 48
                guard d >= 0, d <= 9, digits < 12 else { return nil }
                n = n * 10 + d
                digits += 1
                at += 1
            }
            guard digits > 0, at < bytes.count else { return nil }
            at += 1
            return n
        }

        mutating func node(depth: Int) -> YAMLNode? {
            guard depth < 100, at < bytes.count else { return nil }
            let kind = bytes[at]
            at += 1
            guard let line = number(until: UInt8(ascii: ",")), let count = number(until: UInt8(ascii: ":")) else { return nil }
            switch kind {
            case UInt8(ascii: "S"):
                guard count <= bytes.count - at else { return nil }
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[at..<(at + count)]), as: UTF8.self)
                at += count
                return .scalar(s, line: line)
            case UInt8(ascii: "L"):
                var items: [YAMLNode] = []
                items.reserveCapacity(min(count, bytes.count))
                for _ in 0..<count {
                    guard let item = node(depth: depth + 1) else { return nil }
                    items.append(item)
                }
                return .sequence(items, line: line)
            case UInt8(ascii: "M"):
                var pairs: [YAMLPair] = []
                pairs.reserveCapacity(min(count, bytes.count))
                for _ in 0..<count {
                    guard let key = node(depth: depth + 1), case .scalar(let keyString, _) = key,
                          let value = node(depth: depth + 1) else { return nil }
                    pairs.append(YAMLPair(key: key, keyString: keyString, value: value))
                }
                return .mapping(pairs, string: nil, line: line)
            default:
                return nil
            }
        }
    }
}
