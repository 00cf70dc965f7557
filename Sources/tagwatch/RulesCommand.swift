import ArgumentParser
import Foundation
import TagwatchCore

/// `tagwatch rules`: work on the rules folder (catalog and registry).
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check the vendor catalog and registry, look up hosts, import other catalogs.",
        subcommands: [RulesCheckCommand.self, RulesLookupCommand.self]
    )
}

struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate vendors/*.yaml and approved*.yaml; every problem is printed as file:line: how to fix it.",
        discussion: "Exit codes: 0 valid; 2 problems found."
    )

    @Argument(help: "The rules folder (default: ./rules, then /etc/tagwatch/rules).")
    var directory: String?

    @Option(name: .long, help: "Check this registry file instead of the folder's approved*.yaml (repeatable).")
    var registry: [String] = []

    func run() throws {
        let dir: String
        do { dir = try RulesLocation.resolve(directory).directory } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        let errors = Rules.check(directory: dir, registryFiles: registry.isEmpty ? nil : registry)
        for e in errors { print(e.description) }
        if !errors.isEmpty {
            printError("\(errors.count) problem\(errors.count == 1 ? "" : "s") in \(dir)")
            throw ExitCode(ExitStatus.usage)
        }
        let catalog = try CatalogLoader.load(directory: (dir as NSString).appendingPathComponent("vendors"))
        print("\(dir): ok, \(catalog.count) vendors")
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

    @Option(name: .long, help: "Rules folder (default: ./rules, then /etc/tagwatch/rules).")
    var rules: String?

    func run() throws {
        let catalog: Catalog
        do { catalog = try CatalogLoader.load(directory: try RulesLocation.resolve(rules).vendorsDirectory) } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
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
