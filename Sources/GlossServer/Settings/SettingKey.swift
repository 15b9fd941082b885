/// One setting of `glossd`: its dotted key in the configuration file, the environment variable
/// that overrides it, the kind of value, its default and what it does. ``all`` is the one list
/// the file check, the environment, `glossd config show` and the documentation are made from.
public struct SettingKey: Hashable, Sendable {
    /// What a value must look like.
    public enum Kind: String, Hashable, Sendable {
        case path
        /// `HOST:PORT` (IPv6 in brackets).
        case address
        /// `HOST:PORT`, or `off`.
        case optionalAddress
        case integer
        /// `500ms`, `10s`, `5m`, `1h`.
        case duration
        /// Bytes: `65536`, `64KiB`, `1MiB`, `1GiB`.
        case size
        /// One of ``SettingKey/choices``.
        case choice
        /// Certificate fingerprints (`sha256:HEX`), separated by commas.
        case fingerprints
        /// `postgres://USER@HOST:PORT/DATABASE`, with no password in it.
        case databaseURL
    }

    /// The dotted key, as in the file (`limits.idle_timeout`).
    public var key: String
    public var kind: Kind
    /// The default, written as in the file; nil when the setting has none (optional or required).
    public var defaultValue: String?
    public var choices: [String]
    /// One line for people.
    public var help: String

    init(_ key: String, _ kind: Kind, _ defaultValue: String?, _ help: String, choices: [String] = []) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.choices = choices
        self.help = help
    }

    /// `GLOSSD_` and the key in capitals with `_` for `.`: `GLOSSD_LIMITS_IDLE_TIMEOUT`.
    public var environmentVariable: String {
        "GLOSSD_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Every setting.
    public static let all: [SettingKey] = [
        SettingKey("data", .path, nil, "The data directory: stores, accounts, generated certificate. Required."),
        SettingKey("listen", .address, "127.0.0.1:7743", "Where the sync protocol listens (0.0.0.0:7743 for every interface)."),
        SettingKey("tls.cert", .path, nil, "PEM certificate chain (e.g. Let's Encrypt's fullchain.pem); default: a generated self-signed one."),
        SettingKey("tls.key", .path, nil, "PEM private key of tls.cert. Reloaded with the certificate on SIGHUP."),
        SettingKey("tls.client_ca", .path, nil, "Mutual TLS: require client certificates issued by a CA in this PEM file."),
        SettingKey("tls.client_pins", .fingerprints, nil,
            "Mutual TLS: require a client certificate with one of these sha256 fingerprints (comma-separated)."),
        SettingKey("storage.url", .databaseURL, nil,
            "Keep everything in PostgreSQL (postgres://USER@HOST:5432/DB, ?sslmode=require for TLS) instead of SQLite files in the data directory; several glossd may share one."),
        SettingKey("storage.password_file", .path, nil,
            "A file holding the PostgreSQL password (or set GLOSSD_STORAGE_PASSWORD; never on the command line)."),
        SettingKey("storage.pool_size", .integer, "10",
            "Database connections this node opens at most; as many threads wait on them."),
        SettingKey("limits.max_connections", .integer, "1024", "Connections at once; more are told `busy` and closed."),
        SettingKey("limits.handshake_timeout", .duration, "10s", "Time from TCP accept to authenticated."),
        SettingKey("limits.idle_timeout", .duration, "5m", "A connection with no request in flight for this long is closed."),
        SettingKey("limits.drain_timeout", .duration, "30s", "On SIGTERM, how long requests in flight may finish."),
        SettingKey("limits.max_frame_bytes", .size, "1MiB", "Payload of one frame, checked before reading it."),
        SettingKey("limits.max_message_bytes", .size, "64MiB", "One message, uncompressed, all frames together."),
        SettingKey("limits.max_requests_in_flight", .integer, "32", "Requests at once on one connection."),
        SettingKey("limits.max_auth_message_bytes", .size, "64KiB",
            "Before authentication: the largest frame and message (HELLO, AUTH, PING), and all a peer may buffer."),
        SettingKey("limits.max_connection_buffered_bytes", .size, "64MiB",
            "Bytes one connection may hold in unfinished messages; more gets `too-many-requests`."),
        SettingKey("limits.max_buffered_bytes", .size, "256MiB",
            "Bytes all connections together may hold in unfinished messages; more gets `server-busy` (retryable)."),
        SettingKey("limits.user_requests_in_flight", .integer, "64",
            "Requests at once by one user, across all their connections; more get `too-many-requests`."),
        SettingKey("limits.address_requests_in_flight", .integer, "256",
            "Requests at once from one client address, across its connections."),
        SettingKey("limits.user_bytes_per_second", .size, "0",
            "Inbound bytes per second from one user (0: no limit); over it, reading pauses."),
        SettingKey("limits.address_bytes_per_second", .size, "0",
            "Inbound bytes per second from one client address (0: no limit); over it, reading pauses."),
        SettingKey("limits.min_transfer_rate", .size, "1KiB",
            "Slow-loris protection: a frame that has started must keep arriving at this many bytes per second (after 10 s)."),
        SettingKey("log.level", .choice, "info", "Least severe log level written.",
            choices: ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        SettingKey("log.format", .choice, "text", "`text` for people, `json` for one JSON object per line.",
            choices: ["text", "json"]),
        SettingKey("metrics.listen", .optionalAddress, "127.0.0.1:9743",
            "HTTP listener for /metrics (Prometheus) and /health; `off` disables it. Keep it on localhost."),
    ]

    /// The setting with a dotted key.
    public static func named(_ key: String) -> SettingKey? { all.first { $0.key == key } }
}
