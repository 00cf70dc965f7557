import Foundation

/// A conservative syntax check of the catalog's `tag_ids` patterns, so a pattern can be compiled
/// the first time a text needs it instead of at every start (ICU compiled the catalog's ~130
/// patterns in ~1.7 ms, plus its one-time set-up, for each command) while a bad pattern is still
/// reported when the catalog loads: a pattern this check passes is one ICU accepts; any other is
/// compiled at load as before, and its error reported there. Only plain ASCII syntax passes:
/// literals, `.`, `^`, `$`, escapes of punctuation and `\d \D \w \W \s \S \b \B \t \n \r`,
/// simple classes with ranges, groups `( )` `(?: )` `(?= )` `(?! )`, look-behinds of fixed
/// width, alternation, and the quantifiers `? * + {n} {n,} {n,m}` (optionally lazy or possessive).
enum RegexSyntax {
    static func isPlainlyValid(_ pattern: String) -> Bool {
        var p = Parser(bytes: Array(pattern.utf8))
        return !p.bytes.isEmpty && p.alternation(depth: 0) && p.i == p.bytes.count
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var next: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func eat(_ c: Character) -> Bool {
            guard let n = next, n == c.asciiValue! else { return false }
            i += 1
            return true
        }

        mutating func alternation(depth: Int, fixedWidth: Bool = false) -> Bool {
            guard depth < 16 else { return false }
            while true {
                guard sequence(depth: depth, fixedWidth: fixedWidth) else { return false }
                if fixedWidth || !eat("|") { return true }
            }
        }

        mutating func sequence(depth: Int, fixedWidth: Bool) -> Bool {
            while let c = next, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
                guard let quantifiable = atom(depth: depth, fixedWidth: fixedWidth) else { return false }
                if let q = next, Self.startsQuantifier(q) {
                    guard quantifiable, !fixedWidth, quantifier() else { return false }
                }
            }
            return true
        }

        static func startsQuantifier(_ c: UInt8) -> Bool {
            c == UInt8(ascii: "?") || c == UInt8(ascii: "*") || c == UInt8(ascii: "+") || c == UInt8(ascii: "{")
        }

        static func isPunctuation(_ c: UInt8) -> Bool {
            (0x21...0x2F).contains(c) || (0x3A...0x40).contains(c) || (0x5B...0x60).contains(c) || (0x7B...0x7E).contains(c)
        }

        /// One atom; nil when it is outside the plain syntax, else whether it may be quantified.
        mutating func atom(depth: Int, fixedWidth: Bool) -> Bool? {
            guard let c = next else { return nil }
            switch c {
            case UInt8(ascii: "^"), UInt8(ascii: "$"):
                i += 1
                return false
            case UInt8(ascii: "."):
                i += 1
                return true
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else { return nil }
                let e = bytes[i + 1]
                i += 2
                if e == UInt8(ascii: "b") || e == UInt8(ascii: "B") { return false }
                if "dDwWsStnr".utf8.contains(e) || Self.isPunctuation(e) { return true }
                return nil
            case UInt8(ascii: "["):
                return characterClass() ? true : nil
            case UInt8(ascii: "("):
                guard !fixedWidth else { return nil }
                i += 1
                var lookaround = false
                var lookbehind = false
                if eat("?") {
                    if eat(":") {
                    } else if eat("=") || eat("!") {
                        lookaround = true
                    } else if eat("<"), eat("=") || eat("!") {
                        lookaround = true
                        lookbehind = true
                    } else {
                        return nil
                    }
                }
                guard alternation(depth: depth + 1, fixedWidth: lookbehind), eat(")") else { return nil }
                return !lookaround
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"),
                 UInt8(ascii: "]"), UInt8(ascii: ")"), UInt8(ascii: "|"):
                return nil
            default:
                guard (0x20...0x7E).contains(c) else { return nil }
                i += 1
                return true
            }
        }

        /// `? * + {n} {n,} {n,m}`, then optionally `?` or `+`; not followed by another quantifier.
        mutating func quantifier() -> Bool {
            if eat("{") {
                guard let low = number() else { return false }
                if eat(",") {
                    if let high = number() { guard low <= high else { return false } }
                }
                guard eat("}") else { return false }
            } else {
                i += 1
            }
            _ = eat("?") || eat("+")
            if let c = next, Self.startsQuantifier(c) { return false }
            return true
        }

        mutating func number() -> Int? {
            var n = 0
            var digits = 0
            while let c = next, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                guard digits < 4 else { return nil }
                n = n * 10 + Int(c - UInt8(ascii: "0"))
                digits += 1
                i += 1
            }
            return digits > 0 ? n : nil
        }

        /// `[` `^`? items `]`: literals, ranges of two literals, escapes, and a final `-`.
        mutating func characterClass() -> Bool {
            i += 1
            _ = eat("^")
            var items = 0
            while let c = next {
                switch c {
                case UInt8(ascii: "]"):
                    guard items > 0 else { return false }
                    i += 1
                    return true
                case UInt8(ascii: "\\"):
                    guard i + 1 < bytes.count else { return false }
                    let e = bytes[i + 1]
                    guard "dDwWsS".utf8.contains(e) || Self.isPunctuation(e) else { return false }
                    i += 2
                case UInt8(ascii: "-"):
                    // Only as the last item, a literal dash.
                    guard items > 0, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "]") else { return false }
                    i += 1
                default:
                    guard Self.isClassLiteral(c) else { return false }
                    i += 1
                    if next == UInt8(ascii: "-"), i + 1 < bytes.count, bytes[i + 1] != UInt8(ascii: "]") {
                        let high = bytes[i + 1]
                        guard Self.isClassLiteral(high), c <= high else { return false }
                        i += 2
                    }
                }
                items += 1
            }
            return false
        }

        /// Letters, digits and the punctuation that is plainly literal inside an ICU set.
        static func isClassLiteral(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "_.,;:/'\"=!@#%<>~`}$()|*+? ".utf8.contains(c)
            }
        }
    }
}
