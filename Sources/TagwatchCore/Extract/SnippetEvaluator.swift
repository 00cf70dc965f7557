#if canImport(Glibc)
import Glibc
#endif

/// Loader snippets build their script URL from pieces: GTM's `'…/gtm.js?id='+i+dl` with `i` bound
/// to `'GTM-ABC1234'` by the call around it, Hotjar's `t+h._hjSettings.hjid+j+…`, Segment's
/// `"…/v1/"+key+"/analytics.min.js"` with `analytics.load("KEY")`. Reporting the literal alone
/// gives cut-off URLs (`…/gtm.js?id=`); this evaluates those concatenations far enough to give
/// the whole URL, without running anything: string and number literals, parameters bound by an
/// immediately invoked function or by a later call with literal arguments, and simple
/// assignments of literals and object literals. A piece it cannot know ends the URL there.
enum SnippetEvaluator {
    /// Scripts larger than this are not evaluated (loader snippets are small; bundles are not).
    static let maxBytes = 256 * 1024

    /// The URLs (http, https or scheme-relative) that concatenations in `text` build from more
    /// than one piece, in order of appearance, each once.
    /// Remembered per thread (`TextMemo`) for scripts that pass the gate: the loader snippets
    /// come back on every page of a site, and tokenizing one makes a string per token.
    static func urls(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes, mayBuildURL(bytes) else { return [] }
        return TextMemo.current.snippetURLs(text) { _ in evaluate(bytes) }
    }

    private static func evaluate(_ bytes: [UInt8]) -> [String] {
        let tokens = Tokenizer.tokens(bytes)
        guard !tokens.isEmpty else { return [] }
        let env = Environment(tokens: tokens)
        var found: [String] = []
        var seen = Set<String>()
        var i = 0
        while i < tokens.count {
            // A chain starts at a term followed by `+` that is not itself the tail of a chain.
            guard tokens[i].isTerm, i + 1 < tokens.count, tokens[i + 1].is("+"),
                  i == 0 || !tokens[i - 1].is("+") else { i += 1; continue }
            var pieces: [String] = []
            var j = i
            var complete = true
            while j < tokens.count, tokens[j].isTerm {
                guard let v = env.value(of: tokens[j], at: j) else { complete = false; break }
                pieces.append(v)
                if j + 1 < tokens.count, tokens[j + 1].is("+") { j += 2 } else { j += 1; break }
            }
            _ = complete
            if pieces.count >= 2 {
                let url = pieces.joined()
                if isURLStart(url), url.count > pieces[0].count, seen.insert(url).inserted { found.append(url) }
            }
            i = max(j, i + 1)
        }
        return found
    }

    private static func isURLStart(_ s: String) -> Bool {
        let l = s.prefix(8).lowercased()
        return l.hasPrefix("https://") || l.hasPrefix("http://") || l.hasPrefix("//")
    }

    /// Cheap gate: a quote followed by `http` or `//`, and a `+` somewhere.
    private static func mayBuildURL(_ b: [UInt8]) -> Bool {
        var plus = false, url = false
        var i = 0
        let n = b.count
        // Most scripts have no `+` (JSON state, config): memchr says so without a byte loop.
        // The loop below reads a `+` only before the last two bytes; so does this.
        guard n > 2, b.withUnsafeBufferPointer({ memchr($0.baseAddress!, 0x2B, n - 2) != nil }) else { return false }
        while i + 2 < n && !(plus && url) {
            let c = b[i]
            if c == UInt8(ascii: "+") { plus = true }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                let d = b[i + 1]
                if d == UInt8(ascii: "h") || d == UInt8(ascii: "H") || (d == UInt8(ascii: "/") && b[i + 2] == UInt8(ascii: "/")) { url = true }
            }
            i += 1
        }
        return plus && url
    }

    struct Token {
        enum Kind { case string, number, ident, punct, other }
        var kind: Kind
        var text: String

        var isTerm: Bool { kind == .string || kind == .number || kind == .ident }
        func `is`(_ p: String) -> Bool { kind == .punct && text == p }
    }

    enum Tokenizer {
        static func tokens(_ b: [UInt8]) -> [Token] {
            var out: [Token] = []
            let n = b.count
            var i = 0
            func isIdentStart(_ c: UInt8) -> Bool {
                (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F || c == 0x24
            }
            func isIdentByte(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }
            while i < n {
                let c = b[i]
                if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1; continue }
                if c == UInt8(ascii: "/") && i + 1 < n && b[i + 1] == UInt8(ascii: "/") {
                    while i < n && b[i] != 0x0A { i += 1 }
                    continue
                }
                if c == UInt8(ascii: "/") && i + 1 < n && b[i + 1] == UInt8(ascii: "*") {
                    i += 2
                    while i + 1 < n && !(b[i] == UInt8(ascii: "*") && b[i + 1] == UInt8(ascii: "/")) { i += 1 }
                    i += 2
                    continue
                }
                if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "`") {
                    var s: [UInt8] = []
                    var j = i + 1
                    var closed = false
                    while j < n {
                        let d = b[j]
                        if d == c { closed = true; break }
                        if d == 0x0A && c != UInt8(ascii: "`") { break }
                        if d == UInt8(ascii: "\\") && j + 1 < n {
                            j += 1
                            let e = b[j]
                            switch e {
                            case UInt8(ascii: "x") where j + 2 < n:
                                if let v = UInt8(String(decoding: b[(j + 1)...(j + 2)], as: UTF8.self), radix: 16) { s.append(v); j += 2 } else { s.append(e) }
                            case UInt8(ascii: "u") where j + 4 < n:
                                if let v = UInt32(String(decoding: b[(j + 1)...(j + 4)], as: UTF8.self), radix: 16),
                                   let scalar = Unicode.Scalar(v) {
                                    s.append(contentsOf: Array(String(Character(scalar)).utf8)); j += 4
                                } else { s.append(e) }
                            case UInt8(ascii: "n"): s.append(0x0A)
                            case UInt8(ascii: "t"): s.append(0x09)
                            default: s.append(e)
                            }
                            j += 1
                            continue
                        }
                        // A template literal's `${…}` is code, not text: treat the literal as unknown.
                        if c == UInt8(ascii: "`") && d == UInt8(ascii: "$") && j + 1 < n && b[j + 1] == UInt8(ascii: "{") {
                            closed = false
                            while j < n && b[j] != c { j += 1 }
                            break
                        }
                        s.append(d)
                        j += 1
                    }
                    out.append(closed ? Token(kind: .string, text: String(decoding: s, as: UTF8.self)) : Token(kind: .other, text: ""))
                    i = j + 1
                    continue
                }
                if c >= 0x30 && c <= 0x39 {
                    var j = i
                    while j < n && (isIdentByte(b[j]) || b[j] == UInt8(ascii: ".")) { j += 1 }
                    out.append(Token(kind: .number, text: String(decoding: b[i..<j], as: UTF8.self)))
                    i = j
                    continue
                }
                if isIdentStart(c) {
                    // A dotted name such as `h._hjSettings.hjid` is one token.
                    var j = i
                    while j < n {
                        if isIdentByte(b[j]) { j += 1; continue }
                        if b[j] == UInt8(ascii: "."), j + 1 < n, isIdentStart(b[j + 1]) { j += 1; continue }
                        break
                    }
                    out.append(Token(kind: .ident, text: String(decoding: b[i..<j], as: UTF8.self)))
                    i = j
                    continue
                }
                switch c {
                case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","),
                     UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "]"):
                    out.append(Token(kind: .punct, text: String(UnicodeScalar(c))))
                case UInt8(ascii: "+"):
                    if i + 1 < n && (b[i + 1] == UInt8(ascii: "+") || b[i + 1] == UInt8(ascii: "=")) {
                        out.append(Token(kind: .other, text: "")); i += 2; continue
                    }
                    out.append(Token(kind: .punct, text: "+"))
                case UInt8(ascii: "="):
                    if i + 1 < n && b[i + 1] == UInt8(ascii: "=") {
                        var j = i
                        while j < n && b[j] == UInt8(ascii: "=") { j += 1 }
                        out.append(Token(kind: .other, text: "")); i = j; continue
                    }
                    out.append(Token(kind: .punct, text: "="))
                default:
                    out.append(Token(kind: .other, text: ""))
                }
                i += 1
            }
            return out
        }
    }

    /// Names bound to literal values, each over the token range where the binding holds.
    struct Environment {
        struct Binding { var name: String; var value: String; var start: Int; var end: Int }
        var bindings: [String: [Binding]] = [:]

        init(tokens t: [Token]) {
            let n = t.count
            var functionRanges: [(params: [String], body: ClosedRange<Int>, name: String?)] = []
            var i = 0
            while i < n {
                // function [name] ( params ) { body }
                if t[i].kind == .ident && t[i].text == "function" {
                    var j = i + 1
                    var declared: String?
                    if j < n, t[j].kind == .ident { declared = t[j].text; j += 1 }
                    if j < n, t[j].is("("), let (params, afterParams) = Self.params(t, from: j),
                       afterParams < n, t[afterParams].is("{"), let close = Self.matching(t, from: afterParams) {
                        var name = declared
                        // NAME = function (…) {…}
                        if name == nil, i >= 2, t[i - 1].is("="), t[i - 2].kind == .ident { name = t[i - 2].text }
                        if name == nil, i >= 2, t[i - 1].is(":"), t[i - 2].kind == .ident { name = t[i - 2].text }
                        functionRanges.append((params, afterParams...close, name))
                        // Immediately invoked: `}(args)` or `})(args)`.
                        var k = close + 1
                        if k < n, t[k].is(")") { k += 1 }
                        if k < n, t[k].is("("), let args = Self.arguments(t, from: k, known: { name in
                            bindings[name]?.first(where: { $0.start == 0 })?.value }) {
                            bind(params, args, afterParams, close)
                        }
                    }
                }
                // NAME = literal  /  NAME = { key: literal, … }
                if t[i].is("="), i >= 1, t[i - 1].kind == .ident, i + 1 < n {
                    let name = t[i - 1].text
                    if t[i + 1].kind == .string || t[i + 1].kind == .number,
                       i + 2 >= n || !t[i + 2].is("+") {
                        add(Binding(name: name, value: t[i + 1].text, start: 0, end: n))
                    } else if t[i + 1].is("{"), let close = Self.matching(t, from: i + 1) {
                        var k = i + 2
                        while k + 2 <= close {
                            if (t[k].kind == .ident || t[k].kind == .string), t[k + 1].is(":"),
                               t[k + 2].kind == .string || t[k + 2].kind == .number,
                               k + 3 > close || t[k + 3].is(",") || t[k + 3].is("}") {
                                add(Binding(name: name + "." + t[k].text, value: t[k + 2].text, start: 0, end: n))
                            }
                            k += 1
                        }
                    }
                }
                i += 1
            }
            // Named functions called later with literal arguments: `analytics.load("KEY")`.
            var byName: [String: Int] = [:]
            for (index, f) in functionRanges.enumerated() {
                if let name = f.name, byName[name] == nil { byName[name] = index }
            }
            var boundFunctions = Set<Int>()
            if !byName.isEmpty {
                var k = 0
                while k + 1 < n {
                    if t[k].kind == .ident, t[k + 1].is("("), let index = byName[t[k].text], !boundFunctions.contains(index) {
                        let f = functionRanges[index]
                        if !f.body.contains(k), let args = Self.arguments(t, from: k + 1), args.contains(where: { $0 != nil }) {
                            bind(f.params, args, f.body.lowerBound, f.body.upperBound)
                            boundFunctions.insert(index)
                        }
                    }
                    k += 1
                }
            }
        }

        private mutating func bind(_ params: [String], _ args: [String?], _ start: Int, _ end: Int) {
            for (p, a) in zip(params, args) {
                if let a { add(Binding(name: p, value: a, start: start, end: end)) }
                else { add(Binding(name: p, value: "\u{0}", start: start, end: end)) }  // bound, but unknown
            }
        }

        private mutating func add(_ b: Binding) { bindings[b.name, default: []].append(b) }

        /// The value of a term at token `position`: literals are themselves; a name takes its
        /// innermost binding. nil when unknown.
        func value(of token: Token, at position: Int) -> String? {
            switch token.kind {
            case .string, .number: return token.text
            case .ident:
                guard let list = bindings[token.text] else { return nil }
                var best: Binding?
                for b in list where b.start <= position && position <= b.end {
                    if best == nil || (b.end - b.start) < (best!.end - best!.start) { best = b }
                }
                guard let v = best?.value, v != "\u{0}" else { return nil }
                return v
            default: return nil
            }
        }

        /// `( a , b , c )` starting at `open`: the names and the index after `)`.
        static func params(_ t: [Token], from open: Int) -> ([String], Int)? {
            var names: [String] = []
            var k = open + 1
            while k < t.count {
                if t[k].is(")") { return (names, k + 1) }
                if t[k].kind == .ident { names.append(t[k].text) } else if !t[k].is(",") { return nil }
                k += 1
            }
            return nil
        }

        /// The arguments of a call starting at `open`: a literal's value, or nil for anything else.
        static func arguments(_ t: [Token], from open: Int, known: (String) -> String? = { _ in nil }) -> [String?]? {
            guard let close = matching(t, from: open) else { return nil }
            var args: [String?] = []
            var current: [Token] = []
            var depth = 0
            for k in (open + 1)..<close {
                let tok = t[k]
                if tok.is("(") || tok.is("{") || tok.is("[") { depth += 1 }
                if tok.is(")") || tok.is("}") || tok.is("]") { depth -= 1 }
                if depth == 0 && tok.is(",") {
                    args.append(Self.literal(current, known))
                    current = []
                } else {
                    current.append(tok)
                }
            }
            if !current.isEmpty { args.append(Self.literal(current, known)) }
            return args
        }

        /// A one-token argument's value: a literal, or a name assigned a literal earlier.
        static func literal(_ tokens: [Token], _ known: (String) -> String?) -> String? {
            guard tokens.count == 1 else { return nil }
            switch tokens[0].kind {
            case .string, .number: return tokens[0].text
            case .ident: return known(tokens[0].text)
            default: return nil
            }
        }

        /// The index of the bracket closing the one at `open`.
        static func matching(_ t: [Token], from open: Int) -> Int? {
            let o = t[open].text
            let c = o == "(" ? ")" : (o == "{" ? "}" : "]")
            var depth = 0
            var k = open
            while k < t.count {
                if t[k].kind == .punct {
                    if t[k].text == o { depth += 1 } else if t[k].text == c {
                        depth -= 1
                        if depth == 0 { return k }
                    }
                }
                k += 1
            }
            return nil
        }
    }
}
