import ArgumentParser
import Foundation
import GlossServer
import GlossStore

/// `glossd backup`: an online, checked copy of a data directory.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the data directory while the server keeps serving, then check the copy.",
        discussion: """
            Copies server.sqlite and every corpora/NAME.sqlite with SQLite's online backup API (each \
            file is one consistent snapshot; the server keeps committing meanwhile), plus tls/ and \
            admin.token, checks the copy as `glossd check` does, and writes DEST/manifest.json last \
            (time, format, each corpus's head revision). Every push acknowledged before the backup \
            started is in it.

            DEST must not exist or be an empty directory. It holds the token hashes and the TLS key: \
            keep it private.

            Exit status: 0 on success, 7 when the copy fails its check (it is kept, without a \
            manifest, for inspection; run `glossd check` on the source), 1 on any other failure.

            Examples:
              glossd backup /srv/backups/glossd-$(date +%F) --data /var/lib/glossd
            """)

    @Argument(help: "A new or empty directory to write the backup to.")
    var destination: String

    @Option(name: .long, help: "The data directory to back up.")
    var data: String

    func run() throws {
        let target = URL(fileURLWithPath: destination, isDirectory: true)
        let manifest: BackupManifest
        do {
            manifest = try DataDirectory.backup(data: URL(fileURLWithPath: data, isDirectory: true), to: target)
        } catch let error as DataDirectoryError where error.code == .integrity {
            FileHandle.standardError.write(Data("error: \(error)\n\(error.report?.summary ?? "")\n".utf8))
            throw ExitCode(CheckCommand.damagedExitCode)
        }
        print("backed up \(manifest.corpora.count) corpus/corpora to \(target.path) (checked):")
        for corpus in manifest.corpora {
            print("  \(corpus.name): head revision \(corpus.headRevision), \(corpus.bytes) bytes")
        }
    }
}
