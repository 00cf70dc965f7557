import Foundation
import PackagePlugin

/// Generates Swift source holding `rules/vendors/*.yaml`, so the catalog travels inside the
/// binary (a static binary installed anywhere finds it; no resource bundle to lose).
/// The generator is `scripts/embed-catalog` (Python 3, already a build dependency), not a Swift
/// tool target, so sanitizer and fuzzer flags given to the build never reach it.
@main
struct EmbedCatalog: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let vendors = root.appending(path: "rules").appending(path: "vendors")
        let script = root.appending(path: "scripts").appending(path: "embed-catalog")
        let names = try FileManager.default.contentsOfDirectory(atPath: vendors.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        let inputs = names.map { vendors.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "BuiltinCatalogFiles.swift")
        return [.buildCommand(
            displayName: "Embedding the vendor catalog (\(names.count) files)",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", script.path, output.path] + inputs.map(\.path),
            inputFiles: [script] + inputs,
            outputFiles: [output]
        )]
    }
}
