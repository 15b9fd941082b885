import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import Synchronization

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print other annotators' new revisions as the server announces them.",
        discussion: HelpText.reflow(
            """
            Runs until interrupted. With --pull each revision is applied to your workspace as it
            arrives (your pending work is rebased; conflicts are reported, not resolved).
            When the server goes away (a restart, a network break) watch reconnects, backing off
            up to 30 s, and reports the revisions that came in meanwhile.
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
            // A document not here yet may still be added: watching for it is fine.
            let filter = try document.map { try DocumentID(validating: $0) }
            let me = try currentWorkspace().config.user
            let (pull, all, json) = (pull, all, json)
            // The last revision announced or pulled: after a reconnect, what came in between is
            // reported (and pulled) rather than silently missed.
            let seen = Mutex(0)
            var retry = Duration.seconds(1)
            var connected = false
            while true {
                do {
                    let session = try await WorkspaceSession.open(connection)
                    defer { session.client.close() }
                    let engine = session.engine
                    if pull { try await engine.pull() }
                    try await engine.watch(
                        onConfirmed: { head in
                            let missed = seen.withLock { last in defer { last = max(last, head) }; return last > 0 && head > last ? last : nil }
                            // On standard error, so a script reading JSON can still wait for it.
                            if let missed {
                                warn("reconnected at revision \(head); r\(missed + 1)...r\(head) came in meanwhile" + (pull ? " (pulled)" : "; `gloss log` lists them"))
                            } else {
                                warn("watching \(try session.workspace.url) from revision \(head); Ctrl-C to stop")
                            }
                        },
                        onNotice: { notice in
                            seen.withLock { $0 = max($0, notice.revision) }
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
                    connected = true
                    warn("the server ended the subscription; reconnecting")
                } catch let error as ClientError where Self.isTransient(error) {
                    // Like ssh's ServerAlive or Syncthing: a server restart is not the end of a
                    // watch. Back off up to 30 s; authentication and permission errors still end it.
                    warn("lost the server (\(error.message)); reconnecting in \(retry.components.seconds) s")
                    try await Task.sleep(for: retry)
                    retry = connected ? .seconds(1) : min(retry * 2, .seconds(30))
                    connected = false
                    continue
                }
                retry = .seconds(1)
            }
        }
    }

    /// Errors a later attempt may not meet: the server is down, restarting or shutting down.
    static func isTransient(_ error: ClientError) -> Bool {
        if let server = error.server { return server.code == .shuttingDown || server.retryable }
        return error.code == .connectionFailed || error.code == .closed
    }
}
