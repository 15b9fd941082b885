import ArgumentParser
import Foundation
import enum GlossModel.GlossRelease

/// `glossd`: the Gloss sync server and its local administration commands.
///
/// Help texts: ArgumentParser re-wraps each line of an abstract or discussion to the terminal
/// width but keeps the line breaks it is given, so every paragraph is one logical line (source
/// lines end with `\`), and example lines, indented, are the only short ones.
@main
struct Glossd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glossd",
        abstract: "The Gloss annotation sync server.",
        discussion: """
            Start it with `glossd serve --data DIR`. On the first start with an empty DIR it creates \
            the store, a self-signed TLS certificate (its sha256 fingerprint is printed: give it to \
            your annotators for `gloss clone --pin`) and an admin user whose token is written to \
            DIR/admin.token.

            The other commands administer a data directory in place, also while the server runs \
            (run them as the user glossd runs as). They never create a store: only `glossd serve` \
            does, and `glossd restore` from a backup.

            Examples:
              glossd serve --data /var/lib/glossd --listen 0.0.0.0:7743
              glossd user add alice --data /var/lib/glossd
              glossd token list alice --data /var/lib/glossd
              glossd help serve
            """,
        version: GlossRelease.version,
        subcommands: [
            Serve.self, UserCommand.self, TokenCommand.self, ConfigCommand.self, CheckCommand.self, BackupCommand.self,
            RestoreCommand.self, MigrateStoreCommand.self,
        ])
}

/// Writes a line to standard output at once (unbuffered), so it shows before later log lines
/// even when stdout is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
