import ArgumentParser
import Foundation
import GlossServer

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

    /// The settings, with `extra` flags (dotted keys) on top.
    func settings(_ extra: [String: String] = [:]) throws -> GlossdSettings {
        try Self.settings(data: data, config: config, extra)
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

    /// The account store of an existing data directory. A directory without one is refused
    /// (a mistyped `--data` would otherwise get a store the server never reads).
    func accounts() throws -> AccountStore { try DataDirectory.openAccounts(data: try url) }
}
