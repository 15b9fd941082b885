import ArgumentParser
import Foundation
import GlossServer

/// `glossd user`: adds and lists the users of a data directory's store.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Add and list users.",
        discussion: """
            Users live in the data directory's store (DIR/server.sqlite). These commands work on it \
            directly, also while the server runs, and refuse a directory that holds no store. Give a \
            user a role in a corpus with `gloss corpus grant`, as an admin.

            Examples:
              glossd user add alice --data /var/lib/glossd
              glossd user add carol --admin --data /var/lib/glossd
              glossd user list --data /var/lib/glossd
            """,
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user and print their first token, once.",
            discussion: """
                Adds a user to an existing data directory and prints their first token on standard \
                output, once: the store keeps only its hash. Its id goes to standard error. With \
                --admin the user is a server admin, who creates corpora and owns every corpus.

                A directory that holds no store is refused, and nothing is created in it: \
                `glossd serve --data DIR` creates the store on its first start.

                Examples:
                  glossd user add alice --data /var/lib/glossd
                  ALICE=$(glossd user add alice --data ./srv)
                  glossd user add carol --admin --data /var/lib/glossd
                """)

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

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List users: admin or not, corpora and roles, tokens.",
            discussion: """
                Lists every user by name: whether a server admin (who owns every corpus), the \
                corpora they have a role in, and how many tokens they hold that still work (revoked \
                ones in brackets). `glossd token list USER` shows the tokens themselves.

                With --json, one JSON object per line: name, admin, created, corpora (each with \
                corpus and role), tokens and revokedTokens.

                Examples:
                  glossd user list --data /var/lib/glossd
                  glossd user list --json --data ./srv | jq -r 'select(.admin) | .name'
                """)

        @OptionGroup var data: DataOptions
        @Flag(help: "JSON Lines for scripts.") var json = false

        /// A user as `--json` writes it.
        struct Row: Encodable {
            struct Grant: Encodable {
                var corpus: String
                var role: String
            }
            var name: String
            var admin: Bool
            var created: Date
            var corpora: [Grant]
            var tokens: Int
            var revokedTokens: Int
        }

        func run() throws {
            let summaries = try data.accounts().userSummaries()
            if json {
                for s in summaries {
                    try AdminOutput.printJSONLine(
                        Row(
                            name: s.user.name, admin: s.user.isAdmin, created: s.user.createdAt,
                            corpora: s.grants.map { .init(corpus: $0.corpus, role: $0.role.name) },
                            tokens: s.activeTokens, revokedTokens: s.revokedTokens))
                }
                return
            }
            AdminOutput.printTable(
                header: ["NAME", "ADMIN", "TOKENS", "CREATED", "CORPORA"],
                rows: summaries.map { s in
                    let grants = s.grants.map { "\($0.corpus) (\($0.role))" }.joined(separator: ", ")
                    let corpora = s.user.isAdmin ? "all, as admin" : (grants.isEmpty ? "-" : grants)
                    let tokens = "\(s.activeTokens)" + (s.revokedTokens > 0 ? " (+\(s.revokedTokens) revoked)" : "")
                    return [s.user.name, s.user.isAdmin ? "yes" : "no", tokens, AdminOutput.time(s.user.createdAt), corpora]
                })
        }
    }
}
