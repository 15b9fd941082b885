import ArgumentParser
import Foundation
import GlossServer
import Logging

/// `glossd migrate-store`: moves a single-box server's data directory into PostgreSQL.
struct MigrateStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copy a data directory's store into a PostgreSQL database, for several nodes.",
        discussion: """
            Copies every user, token (its hash: issued tokens keep working), corpus, grant and \
            revision, and the generated TLS identity (clients' pins keep holding), from the SQLite \
            files of --from into the empty PostgreSQL database of --to. Stored blobs are copied byte \
            for byte, so clones from the new store stream the same bytes. Then the copy is checked as \
            `glossd check` does and each corpus's head compared with the source's.

            Stop glossd first: the data directory is locked while it is copied. The password comes \
            from --password-file or $GLOSSD_STORAGE_PASSWORD, never from the command line. Afterwards, \
            start each node with `glossd serve --database URL`.

            Exit status: 0 when the copy is complete and checked, 7 when the check finds damage, 1 on \
            any other failure (the database then holds a partial copy: drop and recreate it before \
            trying again).

            Examples:
              glossd migrate-store --from /var/lib/glossd --to postgres://gloss@db/gloss
            """)

    @Option(name: .long, help: "The data directory to copy (glossd must not be serving it).")
    var from: String

    @Option(name: .long, help: "The empty PostgreSQL database: postgres://USER@HOST:5432/DB[?sslmode=require].")
    var to: String

    @Option(name: .long, help: "A file holding the database password (default: $GLOSSD_STORAGE_PASSWORD).")
    var passwordFile: String?

    func run() throws {
        var flags = ["storage.url": to, "data": from]
        if let passwordFile { flags["storage.password_file"] = passwordFile }
        let settings: GlossdSettings
        do {
            settings = try GlossdSettings.resolve(file: nil, flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
        guard let configuration = try settings.postgresConfiguration() else { throw ValidationError("--to is required") }
        let report = try StoreMigration.migrate(
            from: URL(fileURLWithPath: from, isDirectory: true), to: configuration,
            logger: Logger(label: "glossd") { _ in SwiftLogNoOpLogHandler() }, progress: { say($0) })
        if report.identityCopied { say("copied the TLS identity: clients' pins hold on every node") }
        print(report.check.summary)
        guard report.check.isClean else { throw ExitCode(CheckCommand.damagedExitCode) }
        say("migrated to \(configuration.url): start the nodes with glossd serve --database '\(configuration.url)'")
    }
}
