import Foundation
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

/// A YAML mapping read strictly: every key must be known, every value of the expected shape.
struct YAMLMap {
    let file: String
    let mapping: Node.Mapping
    let line: Int?

    init(file: String, node: Node, what: String) throws {
        guard case .mapping(let m) = node else {
            throw SourceError(file: file, line: node.mark?.line, "\(what) must be a mapping of keys to values")
        }
        self.file = file
        self.mapping = m
        self.line = node.mark?.line
    }

    static func load(file: String, text: String, what: String) throws -> YAMLMap? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw SourceError(file: file, line: Self.line(of: e), "not valid YAML: \(Self.problem(of: e))")
        }
        guard let node else { return nil }
        return try YAMLMap(file: file, node: node, what: what)
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

    var keys: [(String, Node)] {
        mapping.compactMap { pair in pair.key.string.map { ($0, pair.value) } }
    }

    func node(_ key: String) -> Node? {
        for (k, v) in mapping where k.string == key { return v }
        return nil
    }

    func lineOf(_ key: String) -> Int? {
        for (k, _) in mapping where k.string == key { return k.mark?.line }
        return line
    }

    /// Rejects keys outside `allowed`, naming the nearest allowed one.
    func checkKeys(_ allowed: [String], in what: String) throws {
        var seen = Set<String>()
        for (k, _) in mapping {
            guard let key = k.string else {
                throw SourceError(file: file, line: k.mark?.line, "keys in \(what) must be strings")
            }
            if !seen.insert(key).inserted {
                throw SourceError(file: file, line: k.mark?.line, "'\(key)' appears twice in \(what); keep one")
            }
            if !allowed.contains(key) {
                let hint = allowed.min(by: { editDistance($0, key) < editDistance($1, key) })
                    .flatMap { editDistance($0, key) <= 3 ? " (did you mean '\($0)'?)" : nil } ?? ""
                throw SourceError(file: file, line: k.mark?.line,
                                  "unknown field '\(key)' in \(what)\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
        }
    }

    func string(_ key: String) throws -> String? {
        guard let n = node(key) else { return nil }
        guard case .scalar(let s) = n else {
            throw SourceError(file: file, line: n.mark?.line, "'\(key)' must be a single value, not a list or mapping")
        }
        return s.string
    }

    func requiredString(_ key: String, in what: String) throws -> String {
        guard let s = try string(key), !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw SourceError(file: file, line: line, "\(what) lacks '\(key)'; add it")
        }
        return s
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
        case .scalar(let s):
            return s.string.isEmpty ? [] : [s.string]
        case .sequence(let seq):
            return try seq.map { item in
                guard case .scalar(let s) = item else {
                    throw SourceError(file: file, line: item.mark?.line, "each item of '\(key)' must be a single value")
                }
                return s.string
            }
        default:
            throw SourceError(file: file, line: n.mark?.line, "'\(key)' must be a list")
        }
    }

    func strings(_ key: String, withLines: Void) throws -> [(String, Int?)] {
        guard let n = node(key) else { return [] }
        switch n {
        case .scalar(let s):
            return s.string.isEmpty ? [] : [(s.string, n.mark?.line)]
        case .sequence(let seq):
            return try seq.map { item in
                guard case .scalar(let s) = item else {
                    throw SourceError(file: file, line: item.mark?.line, "each item of '\(key)' must be a single value")
                }
                return (s.string, item.mark?.line)
            }
        default:
            throw SourceError(file: file, line: n.mark?.line, "'\(key)' must be a list")
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
