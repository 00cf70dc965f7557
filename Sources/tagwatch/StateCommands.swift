import ArgumentParser
import Foundation
import TagwatchCore

/// Where the state database is: `--state`, or the config's `state`.
struct StateLocation: ParsableArguments {
    @Option(name: .long, help: "Config file whose 'state' to read.")
    var config: String = "/etc/tagwatch/tagwatch.yaml"

    @Option(name: .long, help: "State database (overrides the config's).")
    var state: String?

    func open() throws -> Store {
        let path: String
        if let state { path = state } else {
            do { path = try Config.load(file: config).state } catch {
                printError("\(error)")
                throw ExitCode(ExitStatus.usage)
            }
        }
        guard FileManager.default.fileExists(atPath: path) else {
            printError("no state database at \(path): run 'tagwatch run --once' first")
            throw ExitCode(ExitStatus.usage)
        }
        return try Store(path: path)
    }
}

/// `tagwatch alerts`: the alerts the daemon has raised, from its state.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "List alerts from the daemon's state.")

    @OptionGroup var location: StateLocation

    @Flag(name: .long, help: "Only alerts still open.")
    var open = false

    @Flag(name: .long, help: "The events the webhook's receiver has not taken yet, with each one's attempts and last error.")
    var undelivered = false

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        if undelivered { return try listUndelivered() }
        let alerts = try location.open().alerts(openOnly: open)
        switch format {
        case .json:
            print(JSONValue.object([("alerts", .array(alerts.map(AlertJSON.alert)))]).serialized(pretty: true))
        case .text:
            if alerts.isEmpty { print(open ? "no open alerts" : "no alerts") }
            for a in alerts {
                let when = a.state == .open ? "since \(a.raisedAt)" : "resolved \(a.resolvedAt ?? "")"
                print("\(a.id)  \(a.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) [\(a.severity.rawValue)] \(a.kind.rawValue)  \(when)")
                print("    \(a.message)")
            }
        }
    }
}

extension AlertsCommand {
    func listUndelivered() throws {
        let entries = try location.open().undeliveredWebhookEvents()
        switch format {
        case .json:
            print(JSONValue.object([("undelivered", .array(entries.map { o in
                .object([("event", AlertJSON.event(o.event)), ("attempts", .int(o.attempts)), ("last_attempt", .str(o.lastAttempt)),
                         ("last_status", .num(o.lastStatus)), ("last_error", .str(o.lastError))])
            }))]).serialized(pretty: true))
        case .text:
            if entries.isEmpty { print("no undelivered webhook events") }
            for o in entries {
                let e = o.event
                print("\(e.seq)  \(e.event.rawValue) \(e.alert.kind.rawValue) [\(e.alert.severity.rawValue)] at \(e.at); \(o.attempts) attempt\(o.attempts == 1 ? "" : "s")\(o.lastAttempt.map { ", last \($0)" } ?? "")")
                if let err = o.lastError { print("    last error: \(err)") }
                print("    \(e.alert.message)")
            }
        }
    }
}

/// `tagwatch inventory`: every resource the daemon has seen, per page, with first and last seen.
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inventory", abstract: "Show the inventory of resources seen per page.")

    enum Format: String, ExpressibleByArgument { case text, json, csv }

    @OptionGroup var location: StateLocation

    @Option(name: .long, help: "Output format.")
    var format: Format = .text

    @Flag(name: .customLong("third-party"), help: "Only third-party resources.")
    var thirdParty = false

    @Flag(name: .long, help: "The script inventory (PCI DSS 6.4.3): one row per script with its vendor, registry status, owner, justification and integrity evidence.")
    var scripts = false

    @Option(name: .long, help: "With --scripts: only pages carrying this label (e.g. payment).")
    var label: String?

    func validate() throws {
        if label != nil && !scripts { throw ValidationError("--label goes with --scripts") }
    }

    func run() throws {
        if scripts {
            let rows = try location.open().scriptInventory(label: label)
            // The registry, for each script's authorization; without a readable config, those columns stay empty.
            let registry = (try? Config.load(file: location.config)).flatMap { c in try? Rules.load(directory: c.rules, registryFile: c.registry, builtinCatalog: c.builtinCatalog).registry }
            switch format {
            case .csv: print(ScriptInventoryOutput.csv(rows, registry: registry), terminator: "")
            case .json: print(ScriptInventoryOutput.json(rows, registry: registry))
            case .text: print(ScriptInventoryOutput.text(rows, registry: registry), terminator: "")
            }
            return
        }
        var rows = try location.open().inventory()
        if thirdParty { rows = rows.filter { $0.party == "third" } }
        switch format {
        case .json:
            print(JSONValue.object([("resources", .array(rows.map { r in
                .object([("page", .string(r.page)), ("url", .string(r.url)), ("kind", .string(r.kind)), ("host", .string(r.host)),
                         ("party", .string(r.party)), ("vendor", r.vendor.map(ScanOutput.vendor) ?? .null),
                         ("tag_ids", .array(r.tagIDs.map { .string($0) })), ("integrity", .str(r.integrity)),
                         ("first_seen", .string(r.firstSeen)), ("last_seen", .string(r.lastSeen)), ("current", .bool(r.current)),
                         ("via", .str(r.via)), ("tag", r.tag.map(ScanOutput.tag) ?? .null)])
            }))]).serialized(pretty: true))
        case .csv:
            print("page,url,kind,host,party,vendor_id,vendor_name,company,category,tag_ids,integrity,via,tag_type,tag_id,tag_consent,first_seen,last_seen,current")
            for r in rows {
                let fields = [r.page, r.url, r.kind, r.host, r.party, r.vendor?.id ?? "", r.vendor?.name ?? "", r.vendor?.company ?? "",
                              r.vendor?.category ?? "", r.tagIDs.joined(separator: " "), r.integrity ?? "",
                              r.via ?? "", r.tag?.type ?? "", r.tag?.id ?? "", r.tag?.consent.joined(separator: " ") ?? "",
                              r.firstSeen, r.lastSeen, r.current ? "yes" : "no"]
                print(fields.map(csv).joined(separator: ","))
            }
        case .text:
            var page = ""
            for r in rows {
                if r.page != page { page = r.page; print(page) }
                let v = r.vendor.map { "\($0.name) (\($0.company), \($0.category))" } ?? (r.party == "third" ? "unknown" : "first party")
                print("  \(r.kind.padding(toLength: 13, withPad: " ", startingAt: 0)) \(v)  \(r.url)  seen \(r.firstSeen) .. \(r.lastSeen)\(r.current ? "" : " (gone)")\(r.via.map { "  via \(r.tag?.container ?? $0)\(r.tag.map { " tag \($0.type)\($0.id.map { " #\($0)" } ?? "")" } ?? "")" } ?? "")")
            }
        }
    }

    func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
