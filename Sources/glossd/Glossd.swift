import ArgumentParser
import Foundation
import GlossServer
import Logging
import ServiceLifecycle

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
        subcommands: [Serve.self, UserCommand.self, TokenCommand.self])
}

/// Where the server keeps its state.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (created if missing).")
    var data: String

    var url: URL { URL(fileURLWithPath: data, isDirectory: true) }

    func accounts() throws -> AccountStore {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return try AccountStore(path: url.appendingPathComponent("server.sqlite").path)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server.")

    @OptionGroup var data: DataOptions

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen = "127.0.0.1:7743"

    @Option(help: "A PEM certificate chain to use instead of the generated self-signed one.")
    var cert: String?

    @Option(help: "The PEM private key of --cert.")
    var key: String?

    func validate() throws {
        guard (cert == nil) == (key == nil) else { throw ValidationError("--cert and --key go together") }
        guard HostPort(listen) != nil else { throw ValidationError("--listen must be HOST:PORT, e.g. 0.0.0.0:7743") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "glossd")
        logger.logLevel = .info
        let accounts = try data.accounts()
        let identity: ServerIdentity
        if let cert, let key {
            identity = try ServerIdentity.load(certificatePath: cert, keyPath: key)
        } else {
            let (loaded, created) = try ServerIdentity.loadOrCreate(directory: data.url)
            identity = loaded
            if created { say("created a self-signed certificate for localhost and 127.0.0.1") }
        }
        say("certificate fingerprint: \(identity.fingerprint)")
        if let tokenPath = try AdminBootstrap.ensureAdmin(accounts: accounts, dataDirectory: data.url) {
            say("created user admin; its token is in \(tokenPath)")
        }

        let address = HostPort(listen)!
        let configuration = ServerConfiguration(host: address.host, port: address.port, dataDirectory: data.url)
        let server = try GlossServer(
            configuration: configuration, identity: identity, accounts: accounts,
            corpora: try CorpusRegistry(directory: data.url), logger: logger)
        let services = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Announce the bound address (port 0 picks one) once the listener is up.
        let announcer = Task {
            for _ in 0..<1000 {
                if let address = server.localAddress, let port = address.port {
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

/// `HOST:PORT`, with IPv6 hosts in brackets.
struct HostPort {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
