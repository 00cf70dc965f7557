import ArgumentParser
import TagwatchCore

/// A duration flag read as the config reads one (`20s`, `1m30s`, `90`), so flags and config agree.
struct DurationArgument: ExpressibleByArgument, Sendable {
    var seconds: Double

    init(seconds: Double) { self.seconds = seconds }

    init?(argument: String) {
        guard let s = Config.parseDuration(argument), s > 0 else { return nil }
        seconds = s
    }

    var defaultValueDescription: String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}

/// A size flag read as the config reads one (`5MB`, `500KB`, `1048576`).
struct SizeArgument: ExpressibleByArgument, Sendable {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        guard let n = Config.parseSize(argument), n >= 0 else { return nil }
        bytes = n
    }

    var defaultValueDescription: String {
        for (unit, size) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] where bytes % size == 0 && bytes >= size {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }
}
