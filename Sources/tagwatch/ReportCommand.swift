import ArgumentParser
import Foundation
import TagwatchCore

/// `tagwatch report`: the HTML report from the daemon's state (no scan), with the registry's
/// status and owner per vendor.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the HTML report (inventory by vendor, registry status, changes, history) from the state.",
        discussion: "One self-contained file: no external assets, no JavaScript. The daemon also writes it after every cycle when the config has alerts.report.")

    @Option(name: .long, help: "Config file (for the state, the registry and the title).")
    var config: String = "/etc/tagwatch/tagwatch.yaml"

    @Option(name: .long, help: "Where to write the report (- for standard output).")
    var out: String

    func run() throws {
        let c: Config
        let rules: Rules
        do {
            c = try Config.load(file: config)
            rules = try Rules.load(directory: c.rules, registryFile: c.registry)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usage)
        }
        guard FileManager.default.fileExists(atPath: c.state) else {
            printError("no state database at \(c.state): run 'tagwatch run --once' first")
            throw ExitCode(ExitStatus.usage)
        }
        let report = try Report.load(store: try Store(path: c.state, grouping: c.alertGrouping), registry: rules.registry, title: c.feedTitle)
        if out == "-" {
            print(report.html(), terminator: "")
        } else {
            try report.write(to: out)
        }
    }
}
