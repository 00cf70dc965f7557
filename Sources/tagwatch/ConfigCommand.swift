import ArgumentParser
import Foundation
import TagwatchCore

/// `tagwatch config`: work on the daemon's config file.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the daemon's config before it starts or reloads.",
        subcommands: [ConfigCheckCommand.self]
    )
}

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a config: the file, the rules and registry it names, and every path the daemon will write.",
        discussion: """
            Paths are checked as the user running the check: the unit runs it as the service's own \
            user (ExecStartPre, and ExecReload before the signal, so a bad reload is refused).

            Exit codes: 0 valid; 2 problems found, each printed as file:line: what is wrong.
            """
    )

    @Argument(help: "The config file.")
    var file: String = "/etc/tagwatch/tagwatch.yaml"

    func run() throws {
        let result = ConfigCheck.run(file: file)
        for e in result.errors { print(e.description) }
        for w in result.warnings { print("warning: \(w.description)") }
        if !result.ok {
            printError("\(result.errors.count) problem\(result.errors.count == 1 ? "" : "s") in \(file); the daemon would not start with it")
            throw ExitCode(ExitStatus.usage)
        }
        for line in result.checked { print(line) }
        print("\(file): ok")
    }
}
