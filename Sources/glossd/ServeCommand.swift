import ArgumentParser
import Foundation
import GlossServer
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `glossd serve`: runs the server; the only command that creates a data directory's store.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server.",
        discussion: """
            Listens for Gloss clients over TLS on --listen, and serves /metrics and /health over \
            plain HTTP on --metrics-listen. On the first start it creates DIR, the store, a \
            self-signed certificate and an admin user whose token is written to DIR/admin.token; \
            the certificate's sha256 fingerprint is printed at every start.

            Settings come from flags, then GLOSSD_* environment variables, then the configuration \
            file, then defaults (`glossd config keys` lists them all). One server per data \
            directory: a second one on the same DIR is refused. SIGTERM or SIGINT drains the \
            connections and stops; SIGHUP reloads the certificate and key.

            Exit status: 0 after a graceful stop, 1 when it cannot start (a bad setting, an \
            address in use, DIR in use by another glossd).

            Examples:
              glossd serve --data ./srv
              glossd serve --data /srv/gloss --listen 0.0.0.0:7743 --metrics-listen off
              glossd serve --config /etc/glossd/glossd.yaml
              glossd serve --data ./srv --cert fullchain.pem --key privkey.pem
            """)

    @Option(
        name: .long,
        help: "The data directory; created, with a new store, on the first start (default: $GLOSSD_DATA, or `data:` in the configuration file).")
    var data: String?

    @Option(name: .long, help: "A configuration file (YAML; default: $GLOSSD_CONFIG).")
    var config: String?

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

    @Option(
        help: ArgumentHelp(
            "Keep everything in PostgreSQL instead of SQLite files in DIR: postgres://USER@HOST:5432/DB[?sslmode=require]; several glossd may share it.",
            discussion: "The password comes from storage.password_file or $GLOSSD_STORAGE_PASSWORD, never from the command line."))
    var database: String?

    /// The flags given, by dotted setting key.
    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["listen"] = listen
        flags["tls.cert"] = cert
        flags["tls.key"] = key
        flags["log.level"] = logLevel
        flags["metrics.listen"] = metricsListen
        flags["storage.url"] = database
        return flags
    }

    func run() async throws {
        let settings: GlossdSettings
        let configuration: ServerConfiguration
        do {
            settings = try DataOptions.settings(data: data, config: config, flags)
            configuration = try settings.serverConfiguration()
        } catch let error as SettingsError {
            throw ValidationError(error.description)
        }
        // A port in use fails here, before a fresh data directory gets a store, a certificate
        // and an admin token that a glossd which cannot listen has no use for.
        try await ListenProbe.check(host: configuration.host, port: configuration.port, setting: "--listen")
        if let port = settings.observability.metricsPort {
            try await ListenProbe.check(
                host: settings.observability.metricsHost, port: port, what: "for metrics ", setting: "--metrics-listen")
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
        let logger = {
            var logger = Logger(label: "glossd")
            logger.logLevel = settings.logLevel
            return logger
        }()
        MallocArenas.cap()
        // From the settings already resolved (with the flags), not resolved again.
        let executor = StorageExecutor(threads: settings.storageThreads)
        let storage = try await executor.run {
            try ServerStorage.open(settings: settings, creating: true, executor: executor, logger: logger)
        }
        defer { storage.close() }
        if storage.database != nil { say("storage: \(storage.description)") }
        let accounts = storage.accounts
        let identity: ServerIdentity
        if let (cert, key) = settings.certificate {
            identity = try ServerIdentity.load(certificatePath: cert, keyPath: key)
        } else if let shared = storage.sharedIdentity {
            let (loaded, created) = try await executor.run {
                try ServerIdentity.loadOrCreate(store: shared, context: storage.description)
            }
            identity = loaded
            if created { say("created a self-signed certificate for localhost and 127.0.0.1, kept in the database for every node") }
        } else {
            let (loaded, created) = try ServerIdentity.loadOrCreate(directory: configuration.dataDirectory)
            identity = loaded
            if created { say("created a self-signed certificate for localhost and 127.0.0.1") }
        }
        say("certificate fingerprint: \(identity.fingerprint)")
        if let tokenPath = try await executor.run({
            try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: configuration.dataDirectory)
        }) {
            say("created user admin; its token is in \(tokenPath)")
        }

        let registry = PrometheusCollectorRegistry()
        let metrics = ServerMetrics(registry: registry)
        let server = try GlossServer(
            configuration: configuration, identity: identity, accounts: accounts,
            corpora: storage.corpora, logger: logger,
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
                    let renewed: ServerIdentity
                    if let (cert, key) = settings.certificate {
                        renewed = try ServerIdentity.load(certificatePath: cert, keyPath: key)
                    } else if let shared = storage.sharedIdentity {
                        renewed = try await executor.run {
                            try ServerIdentity.loadOrCreate(store: shared, context: storage.description).identity
                        }
                    } else {
                        renewed = try ServerIdentity.loadOrCreate(directory: configuration.dataDirectory).identity
                    }
                    try server.reloadIdentity(renewed)
                    say("reloaded the certificate: fingerprint \(renewed.fingerprint)")
                } catch {
                    logger.error("SIGHUP: could not reload the certificate; keeping the current one", metadata: ["error": "\(error)"])
                }
            }
        }
        defer { reloader.cancel() }
        // On a shared database, every node's revisions reach this node's subscribers.
        let relay = storage.announcer.map { announcer in
            Task { await PeerRevisionRelay(registry: storage.corpora, announcer: announcer, logger: logger).run() }
        }
        defer { relay?.cancel() }
        let services = ServiceGroup(
            configuration: .init(
                services: [server as any Service] + (metricsServer.map { [$0 as any Service] } ?? []),
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Announce the bound addresses (port 0 picks one) once both listeners are up, and
        // never when one failed: `services.run()` then throws and the task is cancelled.
        let announcer = Task {
            while !Task.isCancelled {
                if let address = server.localAddress, let port = address.port {
                    if let metricsServer {
                        if let m = metricsServer.localAddress, let mport = m.port {
                            say("metrics and health on http://\(m.ipAddress ?? observability.metricsHost):\(mport)/")
                        } else {
                            try? await Task.sleep(for: .milliseconds(10))
                            continue
                        }
                    }
                    say("listening on \(address.ipAddress ?? configuration.host):\(port)")
                    return
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        defer { announcer.cancel() }
        // A listener that cannot bind throws a ListenError naming its address and flag
        // ("cannot listen on 127.0.0.1:7743: address already in use; …"): ArgumentParser prints
        // it and exits with status 1.
        try await services.run()
    }
}
