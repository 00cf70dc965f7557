import Foundation
import Testing
@testable import TagwatchCore

/// A page labelled UTF-8 whose bytes are valid UTF-8 is not passed through ICU (whose UTF-8 to
/// UTF-8 conversion changes only invalid sequences): the check must agree with ICU on both sides.
@Suite struct HTMLInputTests {
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    @Test func validUTF8IsWhatICUPassesThroughUnchanged() {
        // Every length of sequence, the edges of each range, noncharacters, U+FEFF inside, NUL.
        let scalars: [UInt32] = [0x00, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFDD0, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF,
                                 0x10000, 0x1F600, 0xFFFFF, 0x10FFFF]
        var rng = Seeded(state: 3)
        for _ in 0..<500 {
            var s = "a"
            for _ in 0..<Int.random(in: 0..<40, using: &rng) {
                if Bool.random(using: &rng) { s += "<p>x</p>" }
                s.unicodeScalars.append(Unicode.Scalar(scalars.randomElement(using: &rng)!)!)
            }
            let bytes = Array(s.utf8)
            #expect(HTMLInput.isValidUTF8(bytes))
            #expect(HTMLInput.decodeToUTF8(bytes, from: "utf-8") == bytes)
        }
    }

    @Test func invalidUTF8GoesThroughICU() {
        let invalid: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],
            [0x80], [0xC2], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC2, 0x41], [0xE2, 0x41, 0x82],
        ]
        for seq in invalid {
            for bytes in [seq, Array("abcdefghij".utf8) + seq, seq + Array("abcdefghij".utf8)] {
                #expect(!HTMLInput.isValidUTF8(bytes), "\(bytes)")
                #expect(HTMLInput.decodeToUTF8(bytes, from: "utf-8") != bytes, "\(bytes)")
            }
        }
        // Random bytes: whenever the check says valid, ICU returns the same bytes, and the check
        // agrees with the standard library's validation.
        var rng = Seeded(state: 11)
        let pieces: [UInt8] = [0x41, 0x3C, 0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0..<20, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }
            let valid = HTMLInput.isValidUTF8(bytes)
            #expect(valid == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
            if valid { #expect(HTMLInput.decodeToUTF8(bytes, from: "utf-8") == bytes, "\(bytes)") }
        }
    }

    @Test func aUTF8PageKeepsItsBytesAndInvalidOnesAreRepaired() {
        let page = Array("<html><head><meta charset=\"utf-8\"></head><body>é €</body></html>".utf8)
        let input = HTMLInput(body: page, headerCharset: nil, isKnown: Extractor.isKnownCharset)
        #expect(input.encoding == "UTF-8")
        #expect(input.bytes == page)
        let bad = Array("<meta charset=utf-8><p>a".utf8) + [0xED, 0xA0, 0x80] + Array("b</p>".utf8)
        let repaired = HTMLInput(body: bad, headerCharset: nil, isKnown: Extractor.isKnownCharset)
        #expect(repaired.encoding == "UTF-8")
        #expect(String(decoding: repaired.bytes, as: UTF8.self).contains("a\u{FFFD}"))
        #expect(String(validating: repaired.bytes, as: UTF8.self) != nil)
    }
}
