import ArgumentParser
import Foundation
import GlossServer
import Logging

/// Where an admin command finds the server's state: `--data`, or `data` from the configuration
/// file or GLOSSD_DATA (flags > environment > file). `glossd serve` has its own options: only it
/// may create a data directory, and its help says so.
struct DataOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The data directory made by `glossd serve` (default: $GLOSSD_DATA, or `data:` in the configuration file).")
    var data: String?

    @Option(name: .long, help: "A configuration file (YAML; default: $GLOSSD_CONFIG).")
    var config: String?

    @Option(
        name: .long,
        help: "The server's PostgreSQL database, postgres://USER@HOST:5432/DB, when it keeps everything there (default: $GLOSSD_STORAGE_URL, or `storage.url:` in the configuration file).")
    var database: String?

    /// The settings, with `extra` flags (dotted keys) on top.
    func settings(_ extra: [String: String] = [:]) throws -> GlossdSettings {
        var flags = extra
        if let database { flags["storage.url"] = database }
        return try Self.settings(data: data, config: config, flags)
    }

    /// The settings from `--data`, `--config` and other flags (dotted keys).
    static func settings(data: String?, config: String?, _ extra: [String: String] = [:]) throws -> GlossdSettings {
        var flags = extra
        if let data { flags["data"] = data }
        return try GlossdSettings.resolve(
            file: config ?? ProcessInfo.processInfo.environment["GLOSSD_CONFIG"], flags: flags)
    }

    var url: URL {
        get throws {
            guard let url = try settings().dataDirectory else {
                throw ValidationError("no data directory: give --data DIR, GLOSSD_DATA or `data:` in --config FILE")
            }
            return url
        }
    }

    /// The server's storage: its PostgreSQL database, or the SQLite files of an existing data
    /// directory. A directory without a store is refused (a mistyped `--data` would otherwise
    /// get a store the server never reads).
    func storage(_ resolved: GlossdSettings? = nil) throws -> ServerStorage {
        let settings = try resolved ?? settings()
        if settings.string("storage.url") == nil { _ = try url }  // the message for a missing --data
        return try ServerStorage.open(settings: settings, creating: false, logger: Logger(label: "glossd"))
    }

    /// The server's account store (``storage()``).
    func accounts() throws -> AccountStore { try storage().accounts }
}
