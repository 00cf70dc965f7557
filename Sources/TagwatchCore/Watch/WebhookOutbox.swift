import Foundation

/// An event waiting in the webhook's outbox, with what its delivery attempts met.
public struct OutboxEntry: Sendable {
    public var event: AlertEvent
    public var attempts: Int
    public var lastAttempt: String?
    public var lastStatus: Int?
    public var lastError: String?
}

/// The webhook's persisted outbox in the state: events are enqueued in the same transaction
/// that moves the cursor, POSTed in order, and marked delivered only after a 2xx answer, so a
/// receiver that is down, or a daemon that restarts, loses nothing and sends nothing twice
/// (except an event whose 2xx answer arrived but whose mark did not reach the disk: the
/// `Idempotency-Key` header lets the receiver drop that one).
extension Store {
    /// Enqueues every event after the cursor. The first time (no cursor yet), the cursor starts
    /// before the oldest event not yet delivered to the log and feed: events from before the
    /// webhook was configured are not sent.
    public func enqueueWebhookEvents() throws {
        try db.transaction {
            var cursor = try db.query("SELECT seq FROM webhook_cursor WHERE id = 1").first?.first?.int
            if cursor == nil {
                let firstUndelivered = try db.query("SELECT MIN(seq) FROM events WHERE delivered = 0").first?.first?.int
                let last = try db.query("SELECT COALESCE(MAX(seq), 0) FROM events").first?.first?.int ?? 0
                cursor = firstUndelivered.map { $0 - 1 } ?? last
                try db.query("INSERT INTO webhook_cursor(id, seq) VALUES (1, ?)", [.int(cursor!)])
            }
            try db.query("INSERT OR IGNORE INTO webhook_outbox(seq) SELECT seq FROM events WHERE seq > ?", [.int(cursor!)])
            try db.query("UPDATE webhook_cursor SET seq = (SELECT COALESCE(MAX(seq), ?) FROM events) WHERE id = 1", [.int(cursor!)])
        }
    }

    /// Events the receiver has not taken yet, oldest first.
    public func undeliveredWebhookEvents() throws -> [OutboxEntry] {
        let rows = try db.query("""
            SELECT seq, attempts, last_attempt, last_status, last_error FROM webhook_outbox
            WHERE delivered_at IS NULL ORDER BY seq
            """)
        guard !rows.isEmpty else { return [] }
        let seqs = rows.map { String($0[0].int!) }.joined(separator: ",")
        let events = Dictionary(uniqueKeysWithValues: try events(where: "e.seq IN (\(seqs))", order: "ASC", limit: -1).map { ($0.seq, $0) })
        return rows.compactMap { r in
            guard let e = events[r[0].int!] else { return nil }
            return OutboxEntry(event: e, attempts: r[1].int ?? 0, lastAttempt: r[2].string, lastStatus: r[3].int, lastError: r[4].string)
        }
    }

    public func markWebhookDelivered(seq: Int, status: Int, at: String) throws {
        try db.query("UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, last_attempt = ?, last_status = ?, last_error = NULL WHERE seq = ?",
                     [.text(at), .text(at), .int(status), .int(seq)])
    }

    public func markWebhookFailed(seq: Int, status: Int?, error: String, at: String) throws {
        try db.query("UPDATE webhook_outbox SET attempts = attempts + 1, last_attempt = ?, last_status = ?, last_error = ? WHERE seq = ?",
                     [.text(at), status.map { .int($0) } ?? .null, .text(error), .int(seq)])
    }
}

/// POSTs the outbox's events to the configured webhook, in order, stopping at the first
/// failure (the rest wait their turn, so the receiver sees events in order).
public struct WebhookSender: Sendable {
    public var config: WebhookConfig
    public var userAgent: String
    public var proxy: String?
    public var noProxy: [String]

    public init(config: WebhookConfig, userAgent: String, proxy: String? = nil, noProxy: [String] = []) {
        self.config = config
        self.userAgent = userAgent
        self.proxy = proxy
        self.noProxy = noProxy
    }

    public struct Pass: Sendable {
        public var delivered = 0
        public var pending = 0
        /// The failure that stopped the pass, naming the URL and the event.
        public var error: String?
    }

    public static func body(_ e: AlertEvent, format: WebhookConfig.Format) -> String {
        switch format {
        case .json:
            return AlertJSON.event(e).serialized()
        case .slack:
            let a = e.alert
            let verb = e.event == .raised ? "raised" : "resolved"
            let mark = e.event == .resolved ? ":white_check_mark:" : (a.severity >= .high ? ":rotating_light:" : ":warning:")
            let text = "\(mark) *\(a.kind.rawValue)* \(verb) [\(a.severity.rawValue)]: \(a.message)\nPage: \(a.page)"
            return JSONValue.object([("text", .string(text))]).serialized()
        }
    }

    /// One pass over the outbox.
    public func deliver(store: Store, now: () -> Date = Date.init) throws -> Pass {
        var pass = Pass()
        let pending = try store.undeliveredWebhookEvents()
        pass.pending = pending.count
        for entry in pending {
            let e = entry.event
            let headers = ["Content-Type: application/json", "Idempotency-Key: tagwatch-event-\(e.seq)",
                           "X-Tagwatch-Event: \(e.event.rawValue)"] + config.headers
            let result = HTTPPost.post(url: config.url, body: Array(Self.body(e, format: config.format).utf8), headers: headers,
                                       timeout: config.timeout, userAgent: userAgent, proxy: proxy, noProxy: noProxy)
            let at = Timestamp.string(now())
            if result.ok {
                try store.markWebhookDelivered(seq: e.seq, status: result.status ?? 200, at: at)
                pass.delivered += 1
                pass.pending -= 1
            } else {
                let why = result.error ?? "HTTP \(result.status ?? 0)"
                try store.markWebhookFailed(seq: e.seq, status: result.status, error: why, at: at)
                pass.error = "webhook \(config.url): event \(e.seq) (\(e.alert.kind.rawValue) \(e.event.rawValue)) not delivered: \(why); \(pass.pending) event\(pass.pending == 1 ? "" : "s") wait in the outbox"
                break
            }
        }
        return pass
    }
}
