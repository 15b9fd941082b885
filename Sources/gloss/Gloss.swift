import ArgumentParser
import Foundation
import GlossClient
import GlossFormats
import enum GlossModel.EditDistance
import enum GlossModel.GlossRelease

/// `gloss`: the annotator's command line.
@main
struct Gloss: AsyncParsableCommand {
    /// This release; `gloss --version` prints it.
    static let version = GlossRelease.version

    static let configuration = CommandConfiguration(
        commandName: "gloss",
        abstract: "Annotate a text corpus with others, offline or online, and sync through glossd.",
        discussion: HelpText.reflow(
            """
            Start with `gloss clone gloss://HOST:PORT/CORPUS`, then annotate (`gloss span add …`),
            and `gloss sync`. Exit codes: 0 ok; 1 conflicts need resolving; 2 usage; 3 cannot
            reach or trust the server; 4 authentication or permission refused; 5 the server or the
            data model refused a change; 6 workspace problem.
            """),
        version: Gloss.version,
        subcommands: [
            Clone.self, CorpusCommand.self, DocCommand.self, Status.self, SpanCommand.self, RelCommand.self,
            Annotations.self, Pull.self, Push.self, Sync.self, Conflicts.self, Resolve.self, Drop.self, Reset.self,
            Docs.self, Show.self, Log.self, Diff.self, Blame.self, Revert.self, Watch.self, Import.self, Export.self, Edit.self, Agree.self, Curate.self, Demo.self, Trust.self,
        ])

    /// Parses and runs a command; usage errors exit with 2 (as the README documents, like
    /// most Unix tools) rather than ArgumentParser's EX_USAGE (64).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        refuseNegativeNumbers(arguments)
        // Naming every command takes milliseconds of runtime reflection at each start (a type's
        // name is looked up as a string): only `help` and arguments that do not parse need them.
        if arguments.first == "help" { refuseUnknownCommand(arguments) }
        let parsed: any ParsableCommand
        do {
            parsed = try parseAsRoot()
        } catch {
            refuseUnknownCommand(arguments)
            fail(error)
        }
        do {
            var command = parsed
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            fail(error)
        }
    }

    /// Ends the process for an error: usage errors with 2, the rest as ArgumentParser maps them.
    private static func fail(_ error: any Error) -> Never {
        if exitCode(for: error) == .validationFailure {
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        exit(withError: error)
    }

    /// The names `gloss` knows as its first argument.
    static var commandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName ?? $0._commandName } + ["help"]
    }

    /// Like git: `gloss stauts` and `gloss help stauts` name the unknown command, suggest the
    /// closest one, and exit 2 (ArgumentParser would print the whole help and exit 0 for the
    /// second).
    static func refuseUnknownCommand(_ arguments: [String]) {
        var candidate = arguments.first
        if candidate == "help", arguments.count > 1 { candidate = arguments[1] }
        guard let word = candidate, !word.hasPrefix("-"), !commandNames.contains(word) else { return }
        var message = "gloss: '\(word)' is not a gloss command. See 'gloss --help'."
        if let close = EditDistance.suggestion(for: word, among: commandNames) {
            message += "\n\nThe most similar command is\n\t\(close)"
        }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Foundation.exit(2)
    }

    /// ArgumentParser reads `-1` as an option and then blames the next argument ("The value
    /// 'PER' is invalid for '<end>'"); no gloss argument is ever negative, so say so.
    static func refuseNegativeNumbers(_ arguments: [String]) {
        if let negative = arguments.prefix(while: { $0 != "--" }).first(where: { $0.count > 1 && $0.dropFirst().allSatisfy(\.isNumber) && $0.hasPrefix("-") }) {
            FileHandle.standardError.write(
                Data("gloss: \(negative) is negative: offsets, revisions and counts start at 0\n".utf8))
            Foundation.exit(2)
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
                // Not found is how the server refuses a corpus the user may not see (names do
                // not leak), so it counts as refused access, not a refused change.
                case .authFailed, .unauthenticated, .rateLimited, .permissionDenied, .notFound:
                    return (server.message, auth)
                default:
                    return ("\(server.code): \(server.message)", refused)
                }
            }
            return (e.message, e.code == .server ? refused : connection)
        case let e as WorkspaceError:
            switch e.code {
            case .conflictsPending: return (e.message, conflicts)
            case .notPermitted, .wrongUser: return (e.message, auth)
            case .pendingInvalid, .invalidResolution: return (e.message, refused)
            default: return (e.message, workspace)
            }
        case let e as ModelValidationError:
            return ("\(e)", refused)
        case let e as FormatProblem:
            return ("\(e)", refused)
        default:
            return ("\(error)", workspace)
        }
    }
}
