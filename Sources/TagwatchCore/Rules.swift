import Foundation

/// The rules folder as one value: the vendor catalog and, when present, the registry.
public struct Rules: Sendable {
    public var directory: String
    public var catalog: Catalog
    public var registry: Registry?

    public static func registryPath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("approved.yaml")
    }

    /// Loads `vendors/` and `registryFile` (default: `approved.yaml` beside it, if it exists).
    public static func load(directory: String, registryFile: String? = nil) throws -> Rules {
        let catalog = try CatalogLoader.load(directory: (directory as NSString).appendingPathComponent("vendors"))
        let path = registryFile ?? registryPath(in: directory)
        var registry: Registry?
        if registryFile != nil || FileManager.default.fileExists(atPath: path) {
            registry = try RegistryLoader.load(file: path, catalog: catalog)
        }
        return Rules(directory: directory, catalog: catalog, registry: registry)
    }

    /// Every problem in the folder, for `rules check`: each with file, line and how to fix it.
    public static func check(directory: String, registryFiles: [String]? = nil) -> [SourceError] {
        var errors: [SourceError] = []
        let vendors = (directory as NSString).appendingPathComponent("vendors")
        let catalog: Catalog
        do {
            catalog = try CatalogLoader.load(directory: vendors, errors: &errors)
        } catch let e as SourceError {
            return [e]
        } catch {
            return [SourceError(file: vendors, line: nil, "\(error)")]
        }
        let registries = registryFiles ?? ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("approved") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted().map { (directory as NSString).appendingPathComponent($0) }
        for file in registries {
            do {
                _ = try RegistryLoader.load(file: file, catalog: catalog, errors: &errors)
            } catch let e as SourceError {
                errors.append(e)
            } catch {
                errors.append(SourceError(file: file, line: nil, "\(error)"))
            }
        }
        return errors
    }
}
