import ArgumentParser
import Foundation
import GlossServer
import GlossStore

/// `glossd check`: verifies a data directory, streaming one document at a time.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify the stored data: blobs, delta chains, snapshots, the head table, revisions, SQLite files.",
        discussion: """
            Runs SQLite's integrity and foreign-key checks on server.sqlite (on PostgreSQL, with \
            --database: that no index of the corpus tables is invalid, and amcheck's B-tree check where \
            the extension is installed), then checks every corpus in \
            full: every text, delta and snapshot inflates to its recorded length and decodes (a text must \
            hash to its digest); every document's delta chain starts with its addition, applies in order \
            and matches the row's chain bookkeeping; every snapshot equals the deltas' state at its \
            revision; the head table equals the state at the head; revisions run 1...head; no row points \
            at nothing; and SQLite's integrity check passes on each corpus file.

            It only reads, one document per read transaction, so it is safe (and consistent) while the \
            server runs.

            Exit status: 0 when nothing is wrong, 7 when damage is found, 1 when the check cannot run \
            (no such data directory or corpus).

            Examples:
              glossd check --data /var/lib/glossd
              glossd check --data /var/lib/glossd --corpus news --json
              glossd check --database postgres://gloss@db/gloss
            """)

    /// The exit status when damage is found; `backup` and `restore` use it too when a copy
    /// fails its check, so scripts tell damage from other failures (status 1).
    static let damagedExitCode: Int32 = 7

    @OptionGroup var data: DataOptions

    @Option(name: .long, help: "Check only this corpus (server.sqlite is then not checked).")
    var corpus: String?

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    @Option(name: .long, help: "List at most this many problems (all are counted).")
    var maxProblems = 1000

    func run() throws {
        let report: IntegrityReport
        let settings = try data.settings()
        if settings.string("storage.url") == nil {
            // Not through the account store: a damaged server.sqlite is a finding, not a failure to start.
            report = try DataDirectory.check(data: try data.url, corpus: corpus, maxProblems: maxProblems)
        } else {
            let storage = try data.storage(settings)
            defer { storage.close() }
            report = try storage.check(corpus: corpus, maxProblems: maxProblems)
        }
        print(json ? try Self.json(report) : report.summary)
        if !report.isClean { throw ExitCode(Self.damagedExitCode) }
    }

    static func json(_ report: IntegrityReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
