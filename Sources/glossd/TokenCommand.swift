import ArgumentParser
import Foundation
import GlossServer

/// `glossd token`: issues, lists and revokes bearer tokens. The store keeps only their hashes,
/// so no listing can show a secret.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, list and revoke tokens.",
        discussion: """
            A token is a bearer secret (gls_…) that a user gives `gloss` with --token or \
            GLOSS_TOKEN. The store keeps only its SHA-256 hash, so a secret is shown once, when \
            issued, and never again: a lost token is revoked and replaced. A token is named by \
            its id, the first 8 hex digits of that hash.

            Examples:
              glossd token issue alice --label laptop --data /var/lib/glossd
              glossd token list alice --data /var/lib/glossd
              glossd token revoke 3f9a0c12 --data /var/lib/glossd
            """,
        subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new token for a user and print it, once.",
            discussion: """
                Issues a new token for an existing user and prints its secret on standard output, \
                once; its id goes to standard error. A user may hold several tokens (one per \
                machine, say): --label tells them apart in `glossd token list`.

                Examples:
                  glossd token issue alice --label laptop --data /var/lib/glossd
                  TOKEN=$(glossd token issue ci-bot --label CI --data ./srv)
                """)

        @OptionGroup var data: DataOptions
        @Argument(help: "The user the token is for.") var user: String
        @Option(help: "A label to recognise the token by.") var label = ""

        func run() throws {
            let token = try data.accounts().issueToken(for: user, label: label)
            print(token.secret)
            FileHandle.standardError.write(Data("token \(token.id) for \(user); shown only once\n".utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never their secrets): id, user, created, revoked, label.",
            discussion: """
                Lists the tokens of USER, or of every user, oldest first, revoked ones included. \
                Secrets cannot be listed: the store has only their hashes. When a token was last \
                used is not recorded.

                With --json, one JSON object per line: id, user, label, created and revoked.

                Examples:
                  glossd token list --data /var/lib/glossd
                  glossd token list alice --data /var/lib/glossd
                  glossd token list --json --data ./srv | jq -r 'select(.revoked | not) | .id'
                """)

        @OptionGroup var data: DataOptions
        @Argument(help: "Only this user's tokens.") var user: String?
        @Flag(help: "JSON Lines for scripts.") var json = false

        /// A token as `--json` writes it.
        struct Row: Encodable {
            var id: String
            var user: String
            var label: String
            var created: Date
            var revoked: Bool
        }

        func run() throws {
            let accounts = try data.accounts()
            let tokens = try user.map { try accounts.tokens(for: $0) } ?? accounts.tokens()
            if json {
                for t in tokens {
                    try AdminOutput.printJSONLine(
                        Row(id: t.id, user: t.user, label: t.label, created: t.createdAt, revoked: t.isRevoked))
                }
                return
            }
            AdminOutput.printTable(
                header: ["ID", "USER", "CREATED", "STATUS", "LABEL"],
                rows: tokens.map { t in
                    [t.id, t.user, AdminOutput.time(t.createdAt), t.isRevoked ? "revoked" : "active", t.label]
                })
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by its id.",
            discussion: """
                Revokes a token by its id, as `glossd token list` shows it. New connections that \
                present it are refused at once; a connection already open keeps its session until \
                it closes. Revoking a revoked token does nothing.

                Examples:
                  glossd token revoke 3f9a0c12 --data /var/lib/glossd
                """)

        @OptionGroup var data: DataOptions
        @Argument(help: "The token id (8 hex characters).") var id: String

        func run() throws {
            try data.accounts().revokeToken(id: id)
            print("revoked \(id)")
        }
    }
}
