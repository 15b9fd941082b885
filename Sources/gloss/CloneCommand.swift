import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import GlossWire

struct Clone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone",
        abstract: "Copy a corpus and its whole history into a new workspace.",
        discussion: HelpText.reflow(
            """
            The directory must be new or empty. A clone that fails or is interrupted (Ctrl-C) \
            leaves nothing behind, so the same command can simply be run again.

            Example: gloss clone gloss://annot.example.org:7743/news --pin sha256:… --token-file ~/.gloss-token
            """))

    @Argument(help: "gloss://HOST:PORT/CORPUS") var url: String
    @Argument(help: "The directory to create (default: the corpus name).") var directory: String?
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard let parsed = GlossURL(url), !parsed.corpus.isEmpty else {
            throw ValidationError("expected gloss://HOST:PORT/CORPUS, got \(url)")
        }
    }

    func run() async throws {
        output.apply()
        let url = GlossURL(self.url)!
        let target = URL(fileURLWithPath: directory ?? url.corpus)
        // Before anything else: a Ctrl-C from here on cancels the clone, whose clean-up then
        // removes what it made, instead of ending the process halfway through.
        let interrupts = InterruptHandler(beforeExit: { CloneStaging.discardAll() })
        defer { interrupts.stop() }
        let connection = connection
        let work = Task { try await Self.clone(url, into: target, connection) }
        interrupts.onSignal { signal in
            // Nothing made yet (at the trust prompt, while connecting): nothing to wait for.
            CloneStaging.exitIfNoneActive(status: 128 + signal)
            work.cancel()
        }
        let outcome = await work.result
        interrupts.stop()
        switch outcome {
        case .success(let summary):
            note(summary)
        case .failure(let error):
            if let signal = interrupts.received {
                warn("gloss clone: interrupted; nothing was left in \(target.path)")
                throw ExitCode(128 + signal)
            }
            try await Gloss.guarded { throw error }
        }
    }

    /// Connects and clones; returns the line that reports it.
    private static func clone(_ url: GlossURL, into target: URL, _ connection: ConnectionOptions) async throws -> String {
        // A destination that cannot take a clone fails before any network traffic.
        try CloneStaging.checkTarget(target)
        let token = try connection.resolvedToken()
        let (client, pin) = try await connection.connect(to: url, token: token)
        defer { client.close() }
        let progress = ProgressReporter("clone")
        defer { progress.finish() }
        let workspace = try await SyncEngine.clone(
            url: url, into: target, connection: client, pin: pin, caFile: connection.ca, token: token,
            progress: { progress.update($0.revisions, of: $0.total, bytes: $0.bytes) })
        let head = try workspace.replica.headRevision()
        let documents = try workspace.replica.documents().filter(\.isLive).count
        return "cloned \(url) into \(target.path): \(documents) document(s), revision \(head)"
    }
}
