import ArgumentParser
import Foundation
import GlossClient
import GlossModel

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print other annotators' new revisions as the server announces them.",
        discussion: HelpText.reflow(
            """
            Runs until interrupted. With --pull each revision is applied to your workspace as it
            arrives (your pending work is rebased; conflicts are reported, not resolved).
            Examples:
              gloss watch
              gloss watch news-1 --pull
            """))
    @Argument(help: "Only revisions that change this document.") var document: String?
    @Flag(help: "Pull each announced revision into the workspace.") var pull = false
    @Flag(help: "Also show your own revisions.") var all = false
    @Flag(help: "JSON Lines.") var json = false
    @OptionGroup var connection: ConnectionOptions

    struct Row: Encodable {
        var revision: Int
        var author: String
        var summary: String
        var documents: [String]
        var message: String
        var pulled: Bool
    }

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let filter = try document.map { try DocumentID(validating: $0) }
            let session = try await WorkspaceSession.open(connection)
            defer { session.client.close() }
            let engine = session.engine
            let me = session.workspace.config.user
            let (pull, all, json) = (pull, all, json)
            if pull { try await engine.pull() }
            try await engine.watch(
                onConfirmed: { head in
                    // On standard error, so a script reading JSON can still wait for it.
                    warn("watching \(try session.workspace.url) from revision \(head); Ctrl-C to stop")
                },
                onNotice: { notice in
                    guard all || notice.author != me else { return }
                    guard filter == nil || notice.documents.contains(filter!) else { return }
                    if pull { try await engine.pull() }
                    if json {
                        try printJSON(
                            Row(
                                revision: notice.revision, author: notice.author, summary: notice.summary,
                                documents: notice.documents.map(\.rawValue), message: notice.message, pulled: pull))
                    } else {
                        let docs = notice.documents.map(\.rawValue).joined(separator: ",")
                        say(
                            ["r\(notice.revision)", notice.author, notice.summary, docs, notice.message]
                                .filter { !$0.isEmpty }.joined(separator: "\t"))
                    }
                    fflush(nil)  // a watcher's lines are read live through pipes
                    if pull, !(try session.workspace.conflicts()).isEmpty {
                        warn("conflicts with your pending changes: `gloss conflicts`")
                    }
                })
        }
    }
}
