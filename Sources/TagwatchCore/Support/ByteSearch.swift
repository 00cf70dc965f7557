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
