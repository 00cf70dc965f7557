extension String {
    /// Whether `needle` occurs in the string's UTF-8 bytes: a byte search, where Foundation's
    /// `contains`/`range(of:)` bridge the whole text to UTF-16 first.
    func containsBytes(_ needle: String) -> Bool {
        var hay = self
        var nee = needle
        return hay.withUTF8 { h in
            nee.withUTF8 { n in
                let count = n.count
                guard count <= h.count else { return false }
                guard count > 0 else { return true }
                let first = n[0]
                var i = 0
                let last = h.count - count
                while i <= last {
                    if h[i] == first {
                        var k = 1
                        while k < count && h[i + k] == n[k] { k += 1 }
                        if k == count { return true }
                    }
                    i += 1
                }
                return false
            }
        }
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether the bytes end with `suffix`'s.
    func hasSuffix(_ suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        guard n <= count else { return false }
        let s = suffix.utf8Start
        for k in 0..<n where self[count - n + k] != s[k] { return false }
        return true
    }

    /// Whether `needle`'s bytes occur in these.
    func contains(bytes needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard n <= count else { return false }
        let s = needle.utf8Start
        var i = 0
        while i <= count - n {
            var k = 0
            while k < n && self[i + k] == s[k] { k += 1 }
            if k == n { return true }
            i += 1
        }
        return false
    }
}
