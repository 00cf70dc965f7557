import ArgumentParser
import Foundation
import TagwatchCore

/// The `tagwatch` command: one subcommand per job, as in swift-argument-parser's examples.
struct Tagwatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tagwatch",
        abstract: "Watch your own web pages for third-party scripts, tags, pixels and frames nobody approved.",
        version: TagwatchVersion.string,
        subcommands: [ScanCommand.self, RunCommand.self, AlertsCommand.self, InventoryCommand.self, ReportCommand.self, RulesCommand.self,
                      ConfigCommand.self, CSPCommand.self]
    )
}

enum TagwatchVersion {
    static let string = "0.1.0"
}

/// Exit codes a CI pipeline can gate on.
enum ExitStatus {
    static let ok: Int32 = 0
    static let findings: Int32 = 1
    static let usage: Int32 = 2
    static let targetsFailed: Int32 = 3
}

@main
enum Main {
    static func main() async {
        // A SIGHUP that lands before the daemon installs its handler must not kill the process;
        // SIGPIPE from a closed stdout must not either (we report the write error instead).
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try Tagwatch.parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Tagwatch.exitCode(for: error)
            let message = Tagwatch.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // Usage errors exit 2, as DESIGN's exit codes say (ArgumentParser's default is 64).
            exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("tagwatch: " + message + "\n").utf8))
}
