import ArgumentParser
import Foundation
import TagwatchCore

/// `tagwatch csp suggest`: a Content-Security-Policy that lets through what the registry approves
/// on the pages the daemon watches, and nothing else.
struct CSPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csp", abstract: "Content-Security-Policy from the state and the registry.",
        subcommands: [Suggest.self])

    struct Suggest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a policy (script-src, connect-src, img-src, frame-src, style-src) allowing the approved vendors the pages load.")

        @OptionGroup var location: StateLocation

        @Option(name: .long, help: "Only pages carrying this label (e.g. payment).")
        var label: String?

        func run() throws {
            let store = try location.open()
            let registry: Registry?
            do {
                let c = try Config.load(file: location.config)
                registry = try Rules.load(directory: c.rules, registryFile: c.registry, builtinCatalog: c.builtinCatalog).registry
            } catch {
                printError("\(error)")
                throw ExitCode(ExitStatus.usage)
            }
            let s = CSPSuggestion.build(rows: try store.inventory(), labels: try store.pageLabels(), registry: registry, label: label)
            if s.pages == 0 {
                printError("no pages in the state\(label.map { " with the label '\($0)'" } ?? ""): run 'tagwatch run --once' first")
                throw ExitCode(ExitStatus.usage)
            }
            print("# From \(s.pages) page\(s.pages == 1 ? "" : "s")\(label.map { " labelled \($0)" } ?? "") in the state, approved vendors only.")
            print("Content-Security-Policy: \(s.header)")
            for (host, why) in s.leftOut { print("# left out: \(host) (\(why))") }
        }
    }
}
