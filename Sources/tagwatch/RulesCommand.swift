import ArgumentParser
import Foundation
import TagwatchCore

/// `tagwatch rules`: work on the rules folder (catalog and registry).
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check the vendor catalog and registry, look up hosts, import other catalogs.",
        subcommands: [RulesCheckCommand.self, RulesLookupCommand.self, RulesImportCommand.self]
    )
}

struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate vendors/*.yaml and approved*.yaml; every problem is printed as file:line: how to fix it.",
        discussion: "Exit codes: 0 valid; 2 problems found."
    )

    @Argument(help: "The rules folder (default: ./rules, then /etc/tagwatch/rules, when present; with neither, the built-in catalog alone).")
    var directory: String?

    @Option(name: .long, help: "Check this registry file instead of the folder's approved*.yaml (repeatable).")
    var registry: [String] = []

    @Flag(name: .customLong("no-builtin-catalog"), help: "Check only the folder's vendors/*.yaml, without the catalog built into tagwatch.")
    var noBuiltinCatalog = false

    func run() throws {
        let dir: String?
        do { dir = try RulesLocation.resolve(directory).directory } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        if noBuiltinCatalog && dir == nil {
            printError("--no-builtin-catalog needs a rules folder with vendors/*.yaml")
            throw ExitCode(ExitStatus.usage)
        }
        let result = Rules.check(directory: dir, registryFiles: registry.isEmpty ? nil : registry, builtinCatalog: !noBuiltinCatalog)
        for e in result.errors { print(e.description) }
        let catalog = result.catalogDescription.isEmpty ? "" : "; catalog: \(result.catalogDescription)"
        if !result.errors.isEmpty {
            printError("\(result.errors.count) problem\(result.errors.count == 1 ? "" : "s") in \(dir ?? "the rules")\(catalog)")
            throw ExitCode(ExitStatus.usage)
        }
        let registries = result.registryFiles.isEmpty ? "no registry" : "registry \(result.registryFiles.joined(separator: ", "))"
        print("\(dir ?? "rules"): ok, \(result.vendorCount) vendors from the \(result.catalogDescription); \(registries)")
    }
}

struct RulesLookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Tell which vendor a host or URL belongs to, and why.",
        discussion: "Exit codes: 0 a vendor claims it; 1 no vendor does; 2 usage or rules error."
    )

    @Argument(help: "Host names or URLs.")
    var items: [String]

    @Option(name: .long, help: "Rules folder whose vendors/*.yaml add to the built-in catalog (default: ./rules, then /etc/tagwatch/rules, when present).")
    var rules: String?

    @Flag(name: .customLong("no-builtin-catalog"), help: "Use only the rules folder's vendors/*.yaml.")
    var noBuiltinCatalog = false

    func run() throws {
        let catalog: Catalog
        let description: String
        do {
            let dir = try RulesLocation.resolve(rules).directory
            if noBuiltinCatalog && dir == nil { throw ValidationError("--no-builtin-catalog needs a rules folder with vendors/*.yaml") }
            (catalog, description) = try CatalogLoader.load(source: .forRules(dir, builtin: !noBuiltinCatalog))
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        print("catalog: \(description), \(catalog.count) vendors")
        var allFound = true
        for item in items {
            var host = item.lowercased()
            var path = "/"
            if item.contains("://") {
                guard let c = URLComponents(string: item), let h = c.host else {
                    printError("not a valid URL: \(item)")
                    throw ExitCode(ExitStatus.usage)
                }
                host = h.lowercased()
                path = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
            }
            guard let m = catalog.match(host: host, path: path) else {
                print("\(item): no vendor claims \(host)")
                allFound = false
                continue
            }
            let v = catalog.vendors[m.vendorIndex]
            let how = m.rule.contains("/") ? "pattern '\(m.rule)'" : (m.rule == host ? "host '\(m.rule)'" : "host '\(m.rule)' (a parent domain of \(host))")
            print("\(item): \(v.name) [\(v.id)] by \(v.company), category \(v.category); matched \(how) at \(v.file):\(v.line ?? 0)")
        }
        if !allFound { throw ExitCode(ExitStatus.findings) }
    }
}

extension ImportFormat: ExpressibleByArgument {}

/// `tagwatch rules import`: turn a catalog the user already has into ours, without duplicating hosts.
struct RulesImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import another catalog (Disconnect services.json, DuckDuckGo tds.json, Wappalyzer technologies.json, WhoTracks.me trackerdb.sql) as catalog YAML.",
        discussion: """
            Hosts the catalog already claims are left out; every item not imported is listed with the reason. \
            The output is a vendors/*.yaml file that `tagwatch rules check` accepts. Nothing is bundled: \
            read the file from wherever you got it, under its own licence.
            """
    )

    @Option(name: .long, help: "Format of FILE: disconnect, ddg, wappalyzer or whotracksme.")
    var from: ImportFormat

    @Argument(help: "The file to import.")
    var file: String

    @Option(name: .long, help: "Rules folder whose catalog (with the built-in one) the import merges with (default: ./rules, then /etc/tagwatch/rules, when present).")
    var rules: String?

    @Option(name: .long, help: "Where to write the YAML (default: RULES/vendors/imported-FORMAT.yaml; '-' for standard output).")
    var output: String?

    @Flag(name: .long, help: "List every skipped item (default: a count per reason).")
    var verbose = false

    func run() throws {
        let catalog: Catalog
        let destination: String
        do {
            let dir = try RulesLocation.resolve(rules).directory
            guard let target = output ?? dir.map({ ($0 as NSString).appendingPathComponent("vendors/imported-\(from.rawValue).yaml") }) else {
                throw ValidationError("no rules folder to import into: pass --rules DIR or --output FILE")
            }
            destination = target
            var errors: [SourceError] = []
            // Merge against the catalog as it stands, leaving out an earlier import of the same format.
            let source = CatalogSource.forRules(dir, builtin: true)
            let excluded = Set(try source.files().files.map(\.path)
                .filter { URL(fileURLWithPath: $0).standardized.path == URL(fileURLWithPath: destination).standardized.path })
            catalog = try CatalogLoader.load(source: source, excluding: excluded, errors: &errors).catalog
            if let first = errors.first { throw first }
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        let result: ImportResult
        do {
            result = try CatalogImporter.importCatalog(format: from, path: file, existing: catalog)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        let yaml = CatalogImporter.yaml(CatalogImporter.placed(result.vendors, in: destination))
        if destination == "-" {
            print(yaml, terminator: "")
        } else {
            do { try yaml.write(toFile: destination, atomically: true, encoding: .utf8) } catch {
                printError("cannot write \(destination): \(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        let report = destination == "-" ? { (s: String) in FileHandle.standardError.write(Data((s + "\n").utf8)) } : { (s: String) in print(s) }
        report("imported \(result.vendors.count) vendors from \(file) (\(from.rawValue))\(destination == "-" ? "" : " into \(destination)"); skipped \(result.skipped.count) items")
        if verbose {
            for s in result.skipped { report("  skipped \(s.item): \(s.reason)") }
        } else {
            var reasons: [String: Int] = [:]
            for s in result.skipped {
                let general = s.reason.replacingOccurrences(of: "'[^']*'", with: "'…'", options: .regularExpression)
                    .replacingOccurrences(of: "\\([^)]*\\)", with: "(…)", options: .regularExpression)
                reasons[general, default: 0] += 1
            }
            for (r, n) in reasons.sorted(by: { $0.value > $1.value }).prefix(10) { report("  \(n) × \(r)") }
            if reasons.count > 10 { report("  … \(reasons.count - 10) more kinds of reason (--verbose lists every item)") }
        }
    }
}
