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

/// `tagwatch alerts`: the alerts the daemon has raised, from its state; `alerts show ID` lists every page of one.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "List alerts from the daemon's state, or show one with all its pages.",
        subcommands: [AlertsListCommand.self, AlertsShowCommand.self], defaultSubcommand: AlertsListCommand.self)
}

struct AlertsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List alerts (the default).")

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
                let pages = a.pageCount == 1 ? "1 page" : "\(Alert.thousands(a.pageCount)) pages"
                print("\(a.id)  \(a.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) [\(a.severity.rawValue)] \(a.kind.rawValue)  \(pages)  \(when)")
                print("    \(a.message)")
            }
        }
    }
}

extension AlertsListCommand {
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

struct AlertsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one alert and every page it holds on.")

    @OptionGroup var location: StateLocation

    @Argument(help: "The alert's id (tw-…), or a unique prefix of it.")
    var id: String

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let store = try location.open()
        guard let a = try store.alert(id: id) else {
            printError("no alert, or more than one, matches '\(id)' in the state (tagwatch alerts lists them)")
            throw ExitCode(ExitStatus.usage)
        }
        let pages = try store.pagesWithFirstSeen(of: a.id)
        switch format {
        case .json:
            var fields: [(String, JSONValue)] = []
            if case .object(let f) = AlertJSON.alert(a) { fields = f.filter { $0.0 != "pages" } }
            fields.append(("pages", .array(pages.map { .object([("page", .string($0.page)), ("since", .string($0.firstSeen))]) })))
            fields.append(("merged_into", .str(a.mergedInto)))
            print(JSONValue.object(fields).serialized(pretty: true))
        case .text:
            print("\(a.id)  \(a.state.rawValue) [\(a.severity.rawValue)] \(a.kind.rawValue)")
            print("  \(a.message)")
            if let v = a.vendor { print("  vendor: \(v.name) (\(v.id)), \(v.company), \(v.category)") } else { print("  subject: \(a.subject)") }
            if let u = a.resourceURL { print("  resource: \(u)") }
            print("  first seen \(a.firstSeen), raised \(a.raisedAt)\(a.resolvedAt.map { ", resolved \($0)" } ?? "")")
            if let m = a.mergedInto { print("  merged into \(m) (alerts are grouped by vendor now)") }
            print("  \(a.state == .open ? "pages" : "last pages") (\(pages.count)):")
            for p in pages { print("    \(p.page)  since \(p.firstSeen)") }
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

    enum By: String, ExpressibleByArgument { case resource, vendor }

    @Option(name: .long, help: "One row per resource per page (default), or one row per vendor with page counts.")
    var by: By = .resource

    @Flag(name: .long, help: "The script inventory (PCI DSS 6.4.3): one row per script with its vendor, registry status, owner, justification and integrity evidence.")
    var scripts = false

    @Option(name: .long, help: "With --scripts: only pages carrying this label (e.g. payment).")
    var label: String?

    func validate() throws {
        if label != nil && !scripts { throw ValidationError("--label goes with --scripts") }
        if scripts && by == .vendor { throw ValidationError("--scripts and --by vendor are two different tables; pick one") }
    }

    func run() throws {
        if by == .vendor { return try byVendor() }
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

    /// One row per vendor (and per third-party host no vendor claims): the report's inventory table.
    func byVendor() throws {
        let rows = try location.open().vendorRows()
        switch format {
        case .json:
            print(JSONValue.object([("vendors", .array(rows.map { r in
                .object([("vendor", r.vendor.map(ScanOutput.vendor) ?? .null), ("host", r.vendor == nil ? .string(r.subject) : .null),
                         ("pages", .int(r.pages)), ("pages_ever", .int(r.pagesEver)), ("first_seen", .string(r.firstSeen)),
                         ("last_seen", .string(r.lastSeen)), ("in_page_html", .bool(r.direct)), ("via", .array(r.via.map { .string($0) }))])
            }))]).serialized(pretty: true))
        case .csv:
            print("vendor_id,vendor_name,company,category,host,pages,pages_ever,first_seen,last_seen,in_page_html,via")
            for r in rows {
                let fields = [r.vendor?.id ?? "", r.vendor?.name ?? "", r.vendor?.company ?? "", r.vendor?.category ?? "",
                              r.vendor == nil ? r.subject : "", String(r.pages), String(r.pagesEver), r.firstSeen, r.lastSeen,
                              r.direct ? "yes" : "no", r.via.joined(separator: " ")]
                print(fields.map(csv).joined(separator: ","))
            }
        case .text:
            if rows.isEmpty { print("no third-party resources recorded") }
            for r in rows {
                let who = r.vendor.map { "\($0.name) (\($0.company), \($0.category))" } ?? "\(r.subject) (unknown third party)"
                let pages = "\(Alert.thousands(r.pages)) page\(r.pages == 1 ? "" : "s")" + (r.pagesEver != r.pages ? " (\(Alert.thousands(r.pagesEver)) ever)" : "")
                print("\(pages.padding(toLength: 22, withPad: " ", startingAt: 0)) \(who)  seen \(r.firstSeen) .. \(r.lastSeen)"
                      + (r.via.isEmpty ? "" : "  \(r.direct ? "in page HTML and " : "")via \(r.via.joined(separator: ", "))"))
            }
        }
    }

    func csv(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
