/// The ranges the operator's numbers must fall in, checked where they are read (config file,
/// command line), so a value like `inf`, `nan` or `1e17` is a clear error at load and never
/// a trap later in curl's milliseconds, a sleep's nanoseconds or an allocation.
public enum Limits {
    /// Transfer and connect timeouts, in seconds: at least 1 ms (curl counts milliseconds;
    /// less would be 0, which curl reads as "no timeout"), at most a day.
    public static let timeout: ClosedRange<Double> = 0.001...86_400
    /// Seconds between daemon cycles: at least 1 s, at most a year.
    public static let interval: ClosedRange<Double> = 1...(365 * 86_400)
    /// Largest page body: at least 1 KiB, at most 1 GiB (a page is held in memory).
    public static let maxPageBytes: ClosedRange<Int> = 1024...(1 << 30)
    public static let concurrency: ClosedRange<Int> = 1...1024
    public static let perHost: ClosedRange<Int> = 1...1024
    public static let maxRedirects: ClosedRange<Int> = 0...50
    public static let unreachableAfter: ClosedRange<Int> = 1...1_000_000
    public static let feedItems: ClosedRange<Int> = 1...100_000
    public static let sitemapLimit: ClosedRange<Int> = 1...1_000_000

    /// Whether `value` is a finite number inside `range` (NaN and infinities never are).
    public static func check(_ value: Double, _ range: ClosedRange<Double>) -> Bool {
        value.isFinite && range.contains(value)
    }

    /// Human words for a range of seconds, for error messages.
    public static func describeSeconds(_ range: ClosedRange<Double>) -> String {
        func words(_ s: Double) -> String {
            if s < 1 { return "\(Int((s * 1000).rounded())) ms" }
            if s >= 86_400 && s.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(s / 86_400)) days" }
            return "\(Int(s)) s"
        }
        return "between \(words(range.lowerBound)) and \(words(range.upperBound))"
    }

    /// Whole milliseconds for curl, rounded up so that a positive timeout never becomes 0.
    public static func milliseconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 1 }
        return Int(min((seconds * 1000).rounded(.up), Double(Int32.max)))
    }
}
