import Foundation

/// The vendor catalog compiled into the binary from `rules/vendors/*.yaml` (the EmbedCatalog
/// build plugin writes `files`), so tagwatch attributes vendors wherever it is installed,
/// with no rules folder beside it.
public enum BuiltinCatalog {
    /// How built-in files are named in errors and in `rules lookup`: `built-in:vendors/cdn.yaml`.
    public static func path(_ name: String) -> String { "built-in:vendors/\(name)" }

    public static var fileNames: [String] { files.map(\.name) }
}

/// Which catalog files a run reads: the built-in catalog, a rules folder's `vendors/`, or both.
/// With both, a folder file named like a built-in one (`vendors/analytics.yaml`) replaces it,
/// so an edited copy of the shipped catalog takes effect instead of clashing; other folder
/// files add vendors to it.
public struct CatalogSource: Sendable, Equatable {
    public var builtin: Bool
    /// The `vendors` folder, when a rules folder is in use.
    public var directory: String?

    public init(builtin: Bool = true, directory: String? = nil) {
        self.builtin = builtin
        self.directory = directory
    }

    /// The catalog for a rules folder (or none): its `vendors/` when it has one.
    public static func forRules(_ rulesDirectory: String?, builtin: Bool) -> CatalogSource {
        guard let rulesDirectory else { return CatalogSource(builtin: builtin) }
        let vendors = (rulesDirectory as NSString).appendingPathComponent("vendors")
        var isDir: ObjCBool = false
        if builtin, !(FileManager.default.fileExists(atPath: vendors, isDirectory: &isDir) && isDir.boolValue) {
            return CatalogSource(builtin: true)
        }
        return CatalogSource(builtin: builtin, directory: vendors)
    }

    /// One catalog file to load: its name in errors, and its text (nil: read `path` from disk).
    public struct File: Sendable {
        public var name: String
        public var path: String
        public var text: String?
        /// The built-in file's pre-parsed tree (`CompiledYAML`). For a folder file named like a
        /// built-in one, the built-in text and tree: when the folder's file holds the same
        /// bytes (a rules folder holding the shipped catalog), its YAML is not parsed again.
        var compiled: String? = nil
        var builtinText: String? = nil
    }

    /// The files in load order (built-in, then the folder's), and what the selection was, in words, for the user.
    public func files() throws -> (files: [File], description: String) {
        var byName: [String: File] = [:]
        var builtinFiles: [String: (text: String, compiled: String?)] = [:]
        if builtin {
            for (i, f) in BuiltinCatalog.files.enumerated() {
                let compiled = i < BuiltinCatalog.compiled.count ? BuiltinCatalog.compiled[i] : nil
                byName[f.name] = File(name: f.name, path: BuiltinCatalog.path(f.name), text: f.text, compiled: compiled)
                builtinFiles[f.name] = (f.text, compiled)
            }
        }
        var replaced: [String] = []
        var added = 0
        if let directory {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
                throw SourceError(file: directory, line: nil,
                                  "vendor catalog folder not found (the built-in catalog is off, so the rules folder needs vendors/*.yaml)")
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            for n in names {
                if byName[n] != nil { replaced.append(n) } else { added += 1 }
                let twin = builtinFiles[n].flatMap { $0.compiled == nil ? nil : $0 }
                byName[n] = File(name: n, path: (directory as NSString).appendingPathComponent(n), text: nil,
                                 compiled: twin?.compiled, builtinText: twin?.text)
            }
        }
        // Built-in files first, so a clash between a folder file and the built-in catalog is
        // reported at the folder file's line (the one the user can change).
        let files = byName.values.sorted { ($0.text == nil ? 1 : 0, $0.name) < ($1.text == nil ? 1 : 0, $1.name) }
        var description: String
        switch (builtin, directory) {
        case (true, nil):
            description = "built-in catalog"
        case (true, let dir?):
            description = "built-in catalog + \(dir)"
            var parts: [String] = []
            if added > 0 { parts.append("\(added) file\(added == 1 ? "" : "s") added") }
            if !replaced.isEmpty {
                parts.append(replaced.count == BuiltinCatalog.files.count
                             ? "every built-in file replaced" : "replacing built-in \(replaced.joined(separator: ", "))")
            }
            if parts.isEmpty { parts.append("no .yaml files") }
            description += " (" + parts.joined(separator: "; ") + ")"
        case (false, let dir?):
            description = "\(dir) only (built-in catalog off)"
        case (false, nil):
            description = "no catalog (built-in catalog off and no rules folder)"
        }
        return (files, description)
    }
}

extension CatalogLoader {
    /// Loads the selected catalog, collecting every problem; throws only when a folder named is missing.
    public static func load(source: CatalogSource, excluding: Set<String> = [], errors: inout [SourceError]) throws -> (catalog: Catalog, description: String) {
        let (files, description) = try source.files()
        var catalog = Catalog()
        for f in files where !excluding.contains(f.path) {
            if let text = f.text {
                if let compiled = f.compiled, let root = CompiledYAML.decode(compiled) {
                    load(root: root, path: f.path, into: &catalog, errors: &errors)
                } else {
                    load(text: text, path: f.path, into: &catalog, errors: &errors)
                }
            } else if let builtinText = f.builtinText, let compiled = f.compiled {
                let data = FileManager.default.contents(atPath: f.path)
                if let data, Self.same(data, builtinText), let root = CompiledYAML.decode(compiled) {
                    load(root: root, path: f.path, into: &catalog, errors: &errors)
                } else {
                    load(data: data, path: f.path, into: &catalog, errors: &errors)
                }
            } else {
                load(file: f.path, into: &catalog, errors: &errors)
            }
        }
        return (catalog, description)
    }

    /// Whether `data` holds exactly `text`'s UTF-8 bytes.
    static func same(_ data: Data, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { t in
            data.count == t.count && data.withUnsafeBytes { d in t.count == 0 || memcmp(d.baseAddress!, t.baseAddress!, t.count) == 0 }
        }
    }

    /// Loads the selected catalog; throws the first problem.
    public static func load(source: CatalogSource) throws -> (catalog: Catalog, description: String) {
        var errors: [SourceError] = []
        let result = try load(source: source, errors: &errors)
        if let first = errors.first { throw first }
        return result
    }
}
