import ArgumentParser
import Foundation
import GlossClient
import GlossModel
import GlossWire

struct Clone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a corpus and its whole history into a new workspace.",
        discussion: "Example: gloss clone gloss://annot.example.org:7743/news --pin sha256:… --token-file ~/.gloss-token")

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
        try await Gloss.guarded {
            let url = GlossURL(self.url)!
            let target = URL(fileURLWithPath: directory ?? url.corpus)
            let token = try connection.resolvedToken()
            let (client, pin) = try await connection.connect(to: url, token: token)
            defer { client.close() }
            let progress = ProgressReporter("clone")
            let workspace = try await SyncEngine.clone(
                url: url, into: target, connection: client, pin: pin, caFile: connection.ca, token: token,
                progress: { progress.update($0, of: $1) })
            progress.finish()
            let head = try workspace.replica.headRevision()
            let documents = try workspace.replica.documents().filter(\.isLive).count
            note("cloned \(url) into \(target.path): \(documents) document(s), revision \(head)")
        }
    }
}
