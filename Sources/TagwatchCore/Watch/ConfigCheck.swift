import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `tagwatch config check`: everything the daemon will need, checked before it starts (the
/// unit's ExecStartPre) or reloads (ExecReload): the config, the rules and registry it names,
/// and every path it will write, as the user running the check (under systemd, the service's).
public struct ConfigCheck: Sendable {
    public var errors: [SourceError] = []
    public var warnings: [SourceError] = []
    /// What was checked, one line each, for the report.
    public var checked: [String] = []

    public var ok: Bool { errors.isEmpty }

    public static func run(file: String) -> ConfigCheck {
        var result = ConfigCheck()
        let config: Config
        do {
            config = try Config.load(file: file)
        } catch let e as SourceError {
            result.errors.append(e)
            return result
        } catch {
            result.errors.append(SourceError(file: file, line: nil, "\(error)"))
            return result
        }
        let lines = KeyLines(file: file)
        result.checked.append("config \(file): \(config.targets.count) target\(config.targets.count == 1 ? "" : "s")")

        // The rules and the registry, as the daemon will load them.
        let registry = config.registry ?? config.rules.map(Rules.registryPath(in:)).flatMap {
            FileManager.default.fileExists(atPath: $0) ? $0 : nil
        }
        if let r = config.registry, !FileManager.default.fileExists(atPath: r) {
            result.errors.append(SourceError(file: file, line: lines.line("registry"), "registry '\(r)' not found"))
        } else if let dir = config.rules, !isDirectory(dir) {
            result.errors.append(SourceError(file: file, line: lines.line("rules"), "rules folder '\(dir)' not found"))
        } else {
            let rules = Rules.check(directory: config.rules, registryFiles: registry.map { [$0] } ?? [],
                                    builtinCatalog: config.builtinCatalog)
            result.errors += rules.errors
            if !rules.catalogDescription.isEmpty {
                result.checked.append("catalog: \(rules.catalogDescription), \(rules.vendorCount) vendors")
            }
            result.checked.append(registry.map { "registry: \($0)" } ?? "registry: none (every vendor is unapproved until one is written)")
        }

        // File targets are read at each cycle: a missing one is a warning (a build may make it later).
        for spec in config.targets {
            if case .file(let path, _) = spec.kind, !FileManager.default.fileExists(atPath: path) {
                result.warnings.append(SourceError(file: file, line: lines.targetLine(path), "file target '\(path)' does not exist (yet)"))
            }
        }

        // Every path the daemon writes: the file must be writable, or creatable in its folder.
        var writes: [(what: String, key: String, path: String, folderToo: Bool)] = [
            ("state", "state", config.state, true),  // SQLite's -wal and -shm files go beside it
        ]
        if let p = config.alertLog { writes.append(("alert log", "alerts.log", p, false)) }
        if let p = config.feed { writes.append(("feed", "alerts.feed", p, true)) }  // written to a temporary file, then renamed
        if let p = config.metrics { writes.append(("metrics", "metrics", p, true)) }
        for (what, key, path, folderToo) in writes {
            if let problem = writeProblem(path, folderToo: folderToo) {
                result.errors.append(SourceError(file: file, line: lines.line(key), "\(what) '\(path)' \(problem)"))
            } else {
                result.checked.append("writes \(what): \(path)")
            }
        }
        return result
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Why `path` cannot be written by this process, or nil when it can.
    static func writeProblem(_ path: String, folderToo: Bool) -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return "is a folder, not a file" }
            if access(path, W_OK) != 0 { return "is not writable by this user (uid \(getuid())): \(String(cString: strerror(errno)))" }
            if folderToo, access(folder.isEmpty ? "." : folder, W_OK | X_OK) != 0 {
                return "is in a folder this user (uid \(getuid())) cannot write: \(String(cString: strerror(errno)))"
            }
            return nil
        }
        // Not there yet: the nearest existing folder above it must let us create the rest.
        var ancestor = folder.isEmpty ? "." : folder
        while !FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDir) {
            let up = (ancestor as NSString).deletingLastPathComponent
            if up == ancestor || up.isEmpty { break }
            ancestor = up
        }
        if !isDir.boolValue { return "cannot be created: '\(ancestor)' is not a folder" }
        if access(ancestor, W_OK | X_OK) != 0 {
            return "cannot be created: this user (uid \(getuid())) cannot write in '\(ancestor)': \(String(cString: strerror(errno)))"
        }
        return nil
    }
}

/// Line numbers of the config's keys (`alerts.log`), for errors found after loading.
struct KeyLines {
    private var root: YAMLMap?
    private let file: String

    init(file: String) {
        self.file = file
        let text = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } ?? ""
        root = (try? YAMLMap.load(file: file, text: text, what: "the config")) ?? nil
    }

    func line(_ dotted: String) -> Int? {
        var map = root
        let parts = dotted.split(separator: ".").map(String.init)
        for p in parts.dropLast() {
            guard let n = map?.node(p) else { return nil }
            map = try? YAMLMap(file: file, node: n, what: p)
        }
        return map?.lineOf(parts.last ?? dotted) ?? root?.lineOf(parts.first ?? dotted)
    }

    func targetLine(_ path: String) -> Int? {
        guard let n = root?.node("targets"), case .sequence(let seq, _) = n else { return line("targets") }
        for item in seq {
            guard let t = try? YAMLMap(file: file, node: item, what: "a target"), let f = try? t.string("file") else { continue }
            if path == f || path.hasSuffix("/" + f) { return t.lineOf("file") }
        }
        return line("targets")
    }
}
