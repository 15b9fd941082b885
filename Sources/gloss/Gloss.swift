import ArgumentParser
import Foundation
import GlossClient
import GlossFormats

/// `gloss`: the annotator's command line.
@main
struct Gloss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "Annotate a text corpus with others, offline or online, and sync through glossd.",
        discussion: """
            Start with `gloss clone gloss://HOST:PORT/CORPUS`, then annotate (`gloss span add …`),
            and `gloss sync`. Exit codes: 0 ok; 1 conflicts need resolving; 2 usage; 3 cannot
            reach or trust the server; 4 authentication or permission refused; 5 the server or the
            data model refused a change; 6 workspace problem.
            """,
        subcommands: [
            Clone.self, CorpusCommand.self, DocCommand.self, Status.self, SpanCommand.self, RelCommand.self,
            Annotations.self, Pull.self, Push.self, Sync.self, Conflicts.self, Resolve.self,
            Docs.self, Show.self, Log.self, Diff.self, Blame.self, Revert.self, Watch.self, Import.self, Export.self, Edit.self, Agree.self, Curate.self, Demo.self, Trust.self,
        ])

    /// Parses and runs a command; usage errors exit with 2 (as the README documents, like
    /// most Unix tools) rather than ArgumentParser's EX_USAGE (64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    /// Runs a command body, turning failures into a message that says what to do and an exit code.
    static func guarded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            let (message, code) = Failure.describe(error)
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            throw ExitCode(code)
        }
    }
}

/// Maps errors to messages and documented exit codes.
enum Failure {
    static let conflicts: Int32 = 1
    static let connection: Int32 = 3
    static let auth: Int32 = 4
    static let refused: Int32 = 5
    static let workspace: Int32 = 6

    static func describe(_ error: any Error) -> (String, Int32) {
        switch error {
        case let e as ClientError:
            if let server = e.server {
                switch server.code {
                case .authFailed, .unauthenticated, .rateLimited, .permissionDenied:
                    return (server.message, auth)
                default:
                    return ("\(server.code): \(server.message)", refused)
                }
            }
            return (e.message, e.code == .server ? refused : connection)
        case let e as WorkspaceError:
            return (e.message, e.code == .conflictsPending ? conflicts : workspace)
        case let e as ModelValidationError:
            return ("\(e)", refused)
        case let e as FormatProblem:
            return ("\(e)", refused)
        default:
            return ("\(error)", workspace)
        }
    }
}
