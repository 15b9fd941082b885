import ArgumentParser
import Foundation
import GlossServer
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `glossd`: the Gloss sync server and its local administration commands.
@main
struct Glossd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossd",
        abstract: "The Gloss annotation sync server.",
        discussion: """
            Start it with `glossd serve --data DIR`. On the first start with an empty DIR it creates
            the store, a self-signed TLS certificate (its sha256 fingerprint is printed: give it to
            your annotators for `gloss clone --pin`) and an admin user whose token is written to
            DIR/admin.token.
            """,
        subcommands: [
            Serve.self, UserCommand.self, TokenCommand.self, ConfigCommand.self, CheckCommand.self, BackupCommand.self,
            RestoreCommand.self,
        ])
}

/// Where the server keeps its state: `--data`, or `data` from the configuration file or
/// GLOSSD_DATA (flags > environment > file).
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (created if missing).")
    var data: String?

    @Option(name: .long, help: "A configuration file (YAML; default: $GLOSSD_CONFIG).")
    var config: String?

    /// The settings, with `extra` flags (dotted keys) on top.
    func settings(_ extra: [String: String] = [:]) throws -> GlossdSettings {
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

    func accounts() throws -> AccountStore { try Self.accounts(in: try url) }

    /// The account store of a data directory (created if missing).
    static func accounts(in url: URL) throws -> AccountStore {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return try AccountStore(path: url.appendingPathComponent(DataDirectory.accountsFile).path)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server.")

    @OptionGroup var data: DataOptions

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:7743).")
    var listen: String?

    @Option(help: "A PEM certificate chain to use instead of the generated self-signed one.")
    var cert: String?

    @Option(help: "The PEM private key of --cert.")
    var key: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(help: "HOST:PORT for /metrics and /health, or off (default 127.0.0.1:9743).")
    var metricsListen: String?

    /// The flags given, by dotted setting key.
    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["listen"] = listen
        flags["tls.cert"] = cert
        flags["tls.key"] = key
        flags["log.level"] = logLevel
        flags["metrics.listen"] = metricsListen
        return flags
    }

    func run() async throws {
        let settings: GlossdSettings
        let configuration: ServerConfiguration
        do {
            settings = try data.settings(flags)
            configuration = try settings.serverConfiguration()
        } catch let error as SettingsError {
            throw ValidationError(error.description)
        }
        // One server per data directory: a second one (or a restore) is refused while this runs.
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let lock: DataDirectoryLock
        do {
            lock = try DataDirectoryLock(directory: configuration.dataDirectory)
        } catch {
            throw ValidationError("\(error)")
        }
        defer { lock.release() }
        let observability = settings.observability
        LoggingSystem.bootstrap(observability.makeLogHandler)
        var logger = Logger(label: "glossd")
        logger.logLevel = settings.logLevel
        // From the settings already resolved (with the flags), not resolved again.
        let accounts = try DataOptions.accounts(in: configuration.dataDirectory)
        let identity: ServerIdentity
        if let (cert, key) = settings.certificate {
            identity = try ServerIdentity.load(certificatePath: cert, keyPath: key)
        } else {
            let (loaded, created) = try ServerIdentity.loadOrCreate(directory: configuration.dataDirectory)
            identity = loaded
            if created { say("created a self-signed certificate for localhost and 127.0.0.1") }
        }
        say("certificate fingerprint: \(identity.fingerprint)")
        if let tokenPath = try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: configuration.dataDirectory) {
            say("created user admin; its token is in \(tokenPath)")
        }

        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(registry: registry)
        let server = try GlossServer(
            configuration: configuration, identity: identity, accounts: accounts,
            corpora: try CorpusRegistry(directory: configuration.dataDirectory), logger: logger,
            clientAuthentication: settings.clientAuthentication, metrics: metrics,
            budgets: ClientBudgets(limits: settings.budgets))
        let metricsServer = MetricsServer(
            configuration: observability, registry: registry, logger: logger,
            health: { await server.healthStatus() },
            beforeScrape: { await metrics.refreshStoreGauges(corpora: server.router.corpora) })
        // SIGHUP: load the certificate and key again (after a renewal) for new connections.
        let reloader = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                do {
                    let renewed =
                        try settings.certificate.map { try ServerIdentity.load(certificatePath: $0.cert, keyPath: $0.key) }
                        ?? ServerIdentity.loadOrCreate(directory: configuration.dataDirectory).identity
                    try server.reloadIdentity(renewed)
                    say("reloaded the certificate: fingerprint \(renewed.fingerprint)")
                } catch {
                    logger.error("SIGHUP: could not reload the certificate; keeping the current one", metadata: ["error": "\(error)"])
                }
            }
        }
        defer { reloader.cancel() }
        let services = ServiceGroup(
            configuration: .init(
                services: [server as any Service] + (metricsServer.map { [$0 as any Service] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Announce the bound address (port 0 picks one) once the listener is up.
        let announcer = Task {
            for _ in 0..<1000 {
                if let address = server.localAddress, let port = address.port {
                    if let metricsServer {
                        for _ in 0..<200 where metricsServer.localAddress == nil { try? await Task.sleep(for: .milliseconds(10)) }
                        if let m = metricsServer.localAddress, let mport = m.port {
                            say("metrics and health on http://\(m.ipAddress ?? observability.metricsHost):\(mport)/")
                        }
                    }
                    say("listening on \(address.ipAddress ?? configuration.host):\(port)")
                    return
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        try await services.run()
        announcer.cancel()
    }
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user and print their first token, once.")

        @OptionGroup var data: DataOptions
        @Argument(help: "The user name: letters, digits, '.', '_' or '-'.") var name: String
        @Flag(help: "Make the user a server admin (can create corpora).") var admin = false

        func run() throws {
            let accounts = try data.accounts()
            _ = try accounts.addUser(name, isAdmin: admin)
            let token = try accounts.issueToken(for: name, label: "first")
            print(token.secret)
            FileHandle.standardError.write(Data("added \(name); the token above is shown only once (id \(token.id))\n".utf8))
        }
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue or revoke tokens.", subcommands: [Issue.self, Revoke.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a new token for a user and print it, once.")

        @OptionGroup var data: DataOptions
        @Argument var user: String
        @Option(help: "A label to recognise the token by.") var label = ""

        func run() throws {
            let token = try data.accounts().issueToken(for: user, label: label)
            print(token.secret)
            FileHandle.standardError.write(Data("token \(token.id) for \(user); shown only once\n".utf8))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")

        @OptionGroup var data: DataOptions
        @Argument(help: "The token id (8 hex characters).") var id: String

        func run() throws {
            try data.accounts().revokeToken(id: id)
            print("revoked \(id)")
        }
    }
}

/// Writes a line to standard output at once (unbuffered), so it shows before later log lines
/// even when stdout is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
