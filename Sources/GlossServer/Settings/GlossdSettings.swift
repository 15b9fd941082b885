import Foundation
import GlossModel
import GlossStorePostgres
import GlossWire
import Logging
import Yams

/// glossd's settings, resolved from four layers: command-line flags over environment variables
/// (`GLOSSD_…`) over the configuration file (YAML) over defaults. Every value remembers where
/// it came from, for `glossd config show`.
public struct GlossdSettings: Sendable {
    /// A value and where it came from (`default`, `FILE:LINE`, `GLOSSD_X`, `--flag`).
    public struct Entry: Hashable, Sendable {
        public var value: String
        public var source: String
    }

    /// Values by dotted key; settings without a value (optional ones) are absent.
    public private(set) var entries: [String: Entry] = [:]

    /// Resolves the layers. `file` is read when given; `environment` is usually the process's;
    /// `flags` maps dotted keys to the values given on the command line.
    public static func resolve(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        flags: [String: String] = [:]
    ) throws(SettingsError) -> GlossdSettings {
        var settings = GlossdSettings()
        for key in SettingKey.all {
            if let value = key.defaultValue { settings.entries[key.key] = Entry(value: value, source: "default") }
        }
        if let file {
            for (key, entry) in try Self.read(file: file) { settings.entries[key] = entry }
        }
        for key in SettingKey.all {
            guard let value = environment[key.environmentVariable] else { continue }
            try Self.check(value, key, source: key.environmentVariable)
            settings.entries[key.key] = Entry(value: value, source: key.environmentVariable)
        }
        for (name, value) in flags.sorted(by: { $0.key < $1.key }) {
            guard let key = SettingKey.named(name) else {
                throw SettingsError(.unknownKey, "\(name) is not a setting", key: name, source: "flag")
            }
            let flag = "--" + (flagNames[name] ?? name)
            try Self.check(value, key, source: flag)
            settings.entries[name] = Entry(value: value, source: flag)
        }
        try settings.checkConsistency()
        return settings
    }

    /// The flags `glossd serve` has, by dotted key (others are set in the file or environment).
    public static let flagNames = [
        "data": "data", "listen": "listen", "tls.cert": "cert", "tls.key": "key", "log.level": "log-level",
        "metrics.listen": "metrics-listen", "storage.url": "database",
    ]

    /// Checks a configuration file: every key known, every value of the right kind, and the
    /// settings consistent. Returns the number of settings it sets.
    @discardableResult
    public static func check(file: String) throws(SettingsError) -> Int {
        let entries = try read(file: file)
        var settings = try resolve(environment: [:])
        for (key, entry) in entries { settings.entries[key] = entry }
        try settings.checkConsistency(requireData: false)
        return entries.count
    }

    // MARK: Typed values

    public func string(_ key: String) -> String? { entries[key]?.value }

    public var dataDirectory: URL? { string("data").map { URL(fileURLWithPath: $0, isDirectory: true) } }
    public var listen: (host: String, port: Int) { SettingValue.address(string("listen")!)! }
    public var certificate: (cert: String, key: String)? {
        guard let cert = string("tls.cert"), let key = string("tls.key") else { return nil }
        return (cert, key)
    }
    /// Mutual TLS, from `tls.client_ca` or `tls.client_pins`.
    public var clientAuthentication: ClientAuthentication {
        if let ca = string("tls.client_ca") { return .certificateAuthority(path: ca) }
        if let pins = string("tls.client_pins").flatMap(SettingValue.fingerprints) { return .pinned(pins) }
        return .none
    }

    public var logLevel: Logger.Level { Logger.Level(rawValue: string("log.level")!) ?? .info }
    public var logFormat: String { string("log.format")! }
    /// Logs and the metrics endpoint.
    public var observability: ObservabilityConfiguration {
        ObservabilityConfiguration(
            metricsHost: metricsListen?.host ?? "127.0.0.1", metricsPort: metricsListen?.port,
            logFormat: ObservabilityConfiguration.LogFormat(rawValue: logFormat) ?? .text, logLevel: logLevel)
    }

    /// Per-user and per-address limits.
    public var budgets: ClientBudgets.Limits {
        ClientBudgets.Limits(
            userRequestsInFlight: integer("limits.user_requests_in_flight"),
            addressRequestsInFlight: integer("limits.address_requests_in_flight"),
            userBytesPerSecond: size("limits.user_bytes_per_second"),
            addressBytesPerSecond: size("limits.address_bytes_per_second"))
    }

    /// Nil when metrics are `off`.
    public var metricsListen: (host: String, port: Int)? { SettingValue.address(string("metrics.listen")!) }

    public func duration(_ key: String) -> Duration { SettingValue.duration(string(key)!)! }
    public func size(_ key: String) -> Int { SettingValue.size(string(key)!)! }
    public func integer(_ key: String) -> Int { Int(string(key)!)! }

    /// The PostgreSQL database of `storage.url`, with its password from `storage.password_file`
    /// or `GLOSSD_STORAGE_PASSWORD` (never a flag: a command line is visible to every user of
    /// the machine); nil when storage is the data directory's SQLite files.
    public func postgresConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SettingsError) -> PostgresStorageConfiguration?
    {
        guard let url = string("storage.url") else { return nil }
        var password = environment[Self.passwordVariable]
        if let file = string("storage.password_file") {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw SettingsError(
                    .unreadable, "cannot read the database password file: \(error.localizedDescription)",
                    key: "storage.password_file", source: entries["storage.password_file"]?.source)
            }
        }
        do {
            return try PostgresStorageConfiguration(url: url, password: password, poolSize: max(1, integer("storage.pool_size")))
        } catch let error as PostgresStorageError {
            throw SettingsError(.invalidValue, "storage.url: \(error.message)", key: "storage.url", source: entries["storage.url"]?.source)
        } catch {
            throw SettingsError(.invalidValue, "storage.url: \(error)", key: "storage.url", source: entries["storage.url"]?.source)
        }
    }

    /// The environment variable that may hold the database password.
    public static let passwordVariable = "GLOSSD_STORAGE_PASSWORD"

    /// Threads for blocking store calls: one per database connection, and more for the
    /// committers' drains (each holds one while a corpus's pushes keep coming) and SQLite's
    /// readers, so that reads, logins and health checks never queue behind busy corpora.
    public var storageThreads: Int { max(16, integer("storage.pool_size") + 8) }

    /// The server configuration these settings describe (the data directory must be set).
    public func serverConfiguration() throws(SettingsError) -> ServerConfiguration {
        guard let data = dataDirectory else {
            throw SettingsError(
                .inconsistent, "data is not set: give --data, GLOSSD_DATA or `data:` in the configuration file",
                key: "data")
        }
        var limits = WireLimits.default
        limits.maxFramePayload = size("limits.max_frame_bytes")
        limits.maxMessageBytes = size("limits.max_message_bytes")
        limits.maxRequestsInFlight = integer("limits.max_requests_in_flight")
        limits.maxAuthMessageBytes = size("limits.max_auth_message_bytes")
        limits.maxBufferedBytes = size("limits.max_connection_buffered_bytes")
        return ServerConfiguration(
            host: listen.host, port: listen.port, dataDirectory: data, limits: limits,
            handshakeTimeout: duration("limits.handshake_timeout"), idleTimeout: duration("limits.idle_timeout"),
            maxConnections: integer("limits.max_connections"), drainTimeout: duration("limits.drain_timeout"),
            minimumTransferRate: size("limits.min_transfer_rate"), maxBufferedBytes: size("limits.max_buffered_bytes"))
    }

    // MARK: Reading and checking

    private static func check(_ value: String, _ key: SettingKey, source: String, line: Int? = nil, column: Int? = nil)
        throws(SettingsError)
    {
        if let problem = SettingValue.problem(value, for: key) {
            throw SettingsError(
                .invalidValue, "\(key.key): \(problem), got \"\(value)\"", key: key.key, source: source, line: line,
                column: column)
        }
    }

    private func checkConsistency(requireData: Bool = false) throws(SettingsError) {
        if (entries["tls.cert"] == nil) != (entries["tls.key"] == nil) {
            let given = entries["tls.cert"] ?? entries["tls.key"]!
            throw SettingsError(
                .inconsistent, "tls.cert and tls.key go together: set both, or neither for a self-signed certificate",
                key: entries["tls.cert"] == nil ? "tls.cert" : "tls.key", source: given.source)
        }
        if entries["tls.client_ca"] != nil && entries["tls.client_pins"] != nil {
            throw SettingsError(
                .inconsistent, "set tls.client_ca or tls.client_pins, not both", key: "tls.client_pins",
                source: entries["tls.client_pins"]?.source)
        }
        if integer("limits.max_requests_in_flight") < 1 {
            throw SettingsError(
                .invalidValue, "limits.max_requests_in_flight must be at least 1",
                key: "limits.max_requests_in_flight", source: entries["limits.max_requests_in_flight"]?.source)
        }
        if size("limits.max_frame_bytes") < 1024 || size("limits.max_frame_bytes") > size("limits.max_message_bytes") {
            throw SettingsError(
                .inconsistent, "limits.max_frame_bytes must be at least 1KiB and at most limits.max_message_bytes",
                key: "limits.max_frame_bytes", source: entries["limits.max_frame_bytes"]?.source)
        }
        if requireData && entries["data"] == nil {
            throw SettingsError(.inconsistent, "data is not set", key: "data")
        }
    }

    /// The file's settings, flattened to dotted keys, each checked, with the line it is on.
    static func read(file: String) throws(SettingsError) -> [String: Entry] {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw SettingsError(.unreadable, "cannot read the configuration file: \(error.localizedDescription)", source: file)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file)
        } catch {
            throw SettingsError(.malformedFile, "\(error)", source: file)
        }
        guard let root else { return [:] }  // an empty file sets nothing
        guard case .mapping(let mapping) = root else {
            throw SettingsError(
                .malformedFile, "the file must be a mapping of settings (key: value)", source: file,
                line: root.mark?.line, column: root.mark?.column)
        }
        var out: [String: Entry] = [:]
        try flatten(mapping, prefix: "", file: file, into: &out)
        return out
    }

    private static func flatten(_ mapping: Node.Mapping, prefix: String, file: String, into out: inout [String: Entry])
        throws(SettingsError)
    {
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line, column = keyNode.mark?.column
            guard case .scalar(let keyScalar) = keyNode else {
                throw SettingsError(.malformedFile, "keys must be plain names", source: file, line: line, column: column)
            }
            let key = prefix + keyScalar.string
            switch valueNode {
            case .mapping(let nested):
                guard SettingKey.all.contains(where: { $0.key.hasPrefix(key + ".") }) else {
                    throw Self.unknown(key, file: file, line: line, column: column)
                }
                try flatten(nested, prefix: key + ".", file: file, into: &out)
            case .scalar(let scalar):
                guard let setting = SettingKey.named(key) else { throw Self.unknown(key, file: file, line: line, column: column) }
                let valueLine = valueNode.mark?.line ?? line, valueColumn = valueNode.mark?.column ?? column
                try check(scalar.string, setting, source: file, line: valueLine, column: valueColumn)
                out[key] = Entry(value: scalar.string, source: "\(file):\(valueLine ?? 0)")
            default:
                throw SettingsError(
                    .invalidValue, "\(key) takes a single value, not a list", key: key, source: file, line: line,
                    column: column)
            }
        }
    }

    private static func unknown(_ key: String, file: String, line: Int?, column: Int?) -> SettingsError {
        let close = SettingKey.all.map(\.key).min { editDistance($0, key) < editDistance($1, key) }
        let hint = close.flatMap { editDistance($0, key) <= 3 ? " (did you mean \($0)?)" : nil } ?? ""
        return SettingsError(
            .unknownKey, "\(key) is not a setting\(hint); `glossd config keys` lists them", key: key, source: file,
            line: line, column: column)
    }

    private static func syntaxError(_ error: YamlError, file: String) -> SettingsError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return SettingsError(.malformedFile, "YAML: \(problem)", source: file, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return SettingsError(
                .malformedFile, "a key is set twice: \(duplicates.joined(separator: ", "))", source: file,
                line: context.mark.line, column: context.mark.column)
        default:
            return SettingsError(.malformedFile, "YAML: \(error)", source: file)
        }
    }

    static func editDistance(_ a: String, _ b: String) -> Int { EditDistance.between(a, b) }
}
