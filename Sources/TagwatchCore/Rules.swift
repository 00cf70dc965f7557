import Foundation

/// The rules in use as one value: the vendor catalog (built in, from a rules folder, or both)
/// and, when there is one, the registry.
public struct Rules: Sendable {
    /// The rules folder, when one is in use.
    public var directory: String?
    public var catalog: Catalog
    /// Which catalog this is, in words (`built-in catalog + /etc/tagwatch/rules/vendors (…)`).
    public var catalogDescription: String
    public var registry: Registry?

    public static func registryPath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("approved.yaml")
    }

    /// Loads the catalog (`builtinCatalog` plus `directory/vendors`, see `CatalogSource`) and
    /// `registryFile` (default: `approved.yaml` in `directory`, if it exists).
    public static func load(directory: String?, registryFile: String? = nil, builtinCatalog: Bool = true) throws -> Rules {
        if let directory { try requireDirectory(directory) }
        let (catalog, description) = try CatalogLoader.load(source: .forRules(directory, builtin: builtinCatalog))
        let path = registryFile ?? directory.map(registryPath(in:))
        var registry: Registry?
        if let path, registryFile != nil || FileManager.default.fileExists(atPath: path) {
            registry = try RegistryLoader.load(file: path, catalog: catalog)
        }
        return Rules(directory: directory, catalog: catalog, catalogDescription: description, registry: registry)
    }

    static func requireDirectory(_ directory: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw SourceError(file: directory, line: nil, "rules folder not found")
        }
    }

    /// What `rules check` reports: every problem with file, line and how to fix it, and the catalog checked.
    public struct CheckResult: Sendable {
        public var errors: [SourceError]
        public var catalogDescription: String
        public var vendorCount: Int
        public var registryFiles: [String]
    }

    /// Every problem in the rules, for `rules check` and `config check`.
    public static func check(directory: String?, registryFiles: [String]? = nil, builtinCatalog: Bool = true) -> CheckResult {
        var errors: [SourceError] = []
        if let directory {
            do { try requireDirectory(directory) } catch let e as SourceError {
                return CheckResult(errors: [e], catalogDescription: "", vendorCount: 0, registryFiles: [])
            } catch {}
        }
        let catalog: Catalog
        let description: String
        do {
            (catalog, description) = try CatalogLoader.load(source: .forRules(directory, builtin: builtinCatalog), errors: &errors)
        } catch let e as SourceError {
            return CheckResult(errors: [e], catalogDescription: "", vendorCount: 0, registryFiles: [])
        } catch {
            return CheckResult(errors: [SourceError(file: directory ?? "rules", line: nil, "\(error)")],
                               catalogDescription: "", vendorCount: 0, registryFiles: [])
        }
        var registries = registryFiles ?? []
        if registryFiles == nil, let directory {
            registries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasPrefix("approved") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
                .sorted().map { (directory as NSString).appendingPathComponent($0) }
        }
        for file in registries {
            do {
                _ = try RegistryLoader.load(file: file, catalog: catalog, errors: &errors)
            } catch let e as SourceError {
                errors.append(e)
            } catch {
                errors.append(SourceError(file: file, line: nil, "\(error)"))
            }
        }
        return CheckResult(errors: errors, catalogDescription: description, vendorCount: catalog.count, registryFiles: registries)
    }
}
