import ArgumentParser
import Foundation
import GlossServer
import GlossStore

/// `glossd restore`: puts a checked backup in place of a data directory.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace a data directory with a backup made by `glossd backup`.",
        discussion: """
            Reads SRC/manifest.json, copies the files it lists into DIR.restore-tmp, checks that copy \
            in full (and each corpus's head revision against the manifest), and only then renames it \
            to DIR. A non-empty DIR is refused unless --force is given; its old contents are then kept \
            as DIR.before-restore-<UTC time>. Stop the server first: restore refuses to run while a \
            server holds DIR's lock.

            Exit status: 0 on success, 7 when the backup fails its check (DIR is untouched), 1 on any \
            other failure (no manifest, missing files, DIR not empty, DIR in use).

            Examples:
              glossd restore /srv/backups/glossd-2026-01-31 --data /var/lib/glossd
              glossd restore /srv/backups/glossd-2026-01-31 --data /var/lib/glossd --force
            """)

    @Argument(help: "The backup directory (made by glossd backup).")
    var source: String

    @Option(name: .long, help: "The data directory to restore into.")
    var data: String

    @Flag(name: .long, help: "Replace a non-empty data directory, keeping its old contents beside it.")
    var force = false

    func run() throws {
        let target = URL(fileURLWithPath: data, isDirectory: true)
        let result: DataDirectory.RestoreResult
        do {
            result = try DataDirectory.restore(
                from: URL(fileURLWithPath: source, isDirectory: true), to: target, force: force)
        } catch let error as DataDirectoryError where error.code == .integrity {
            FileHandle.standardError.write(Data("error: \(error)\n\(error.report?.summary ?? "")\n".utf8))
            throw ExitCode(CheckCommand.damagedExitCode)
        }
        print("restored \(result.manifest.corpora.count) corpus/corpora into \(target.path) (checked), "
            + "from the backup started at \(result.manifest.startedAt.formatted(.iso8601)):")
        for corpus in result.manifest.corpora {
            print("  \(corpus.name): head revision \(corpus.headRevision)")
        }
        if let previous = result.previous {
            print("the previous contents are in \(previous.path)")
        }
    }
}
