import ArgumentParser
import Foundation
import GlossClient
import GlossModel

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show where the workspace stands: its revision, your pending changes and any conflicts.",
        discussion: HelpText.reflow(
            """
            Lists each change made here and not yet in the server's history, numbered as \
            `gloss drop` takes them, with the server's reason when it refused one; and each \
            conflict waiting for `gloss resolve`. Exits 1 while conflicts wait.

            With --short, one line an item: `P #N ID summary` for a pending change, `R #N ID \
            reason` for one the server refused, `C ID description` for a conflict. With --json, \
            JSON Lines: one `workspace` object, then one per pending change and conflict.

            Examples:
              gloss status
              gloss status --short
              gloss status --json | jq 'select(.type == "conflict")'
            """))

    @Flag(name: .shortAndLong, help: "One line an item, for scripts and quick looks.") var short = false
    @Flag(help: "JSON Lines for scripts.") var json = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let entries = try w.pendingEntries()
            // A pending change that breaks a rule must not hide the rest of the status.
            var problem: String?
            var conflicts: [Conflict] = []
            var documents = 0
            do {
                conflicts = try w.conflicts()
                documents = try w.localDocuments().count
            } catch let error as WorkspaceError where error.code == .pendingInvalid {
                problem = error.message
                documents = try w.replica.documents().filter(\.isLive).count
            }
            let head = try w.replica.headRevision()
            if json {
                try printJSON(
                    StatusJSON(
                        type: "workspace", corpus: try w.url.description, user: w.config.user, role: w.config.role,
                        revision: head, documents: documents, pending: entries.count, conflicts: conflicts.count,
                        problem: problem))
                for entry in entries { try printJSON(PendingJSON(entry)) }
                for conflict in conflicts { try printJSON(ConflictJSON(conflict)) }
            } else if short {
                for entry in entries {
                    let id = entry.changeset.id.description.prefix(8)
                    if let refusal = entry.refusal {
                        say("R #\(entry.number) \(id) \(refusal.code): \(refusal.message)")
                    } else {
                        say("P #\(entry.number) \(id) \(PendingEntry.summary(entry.changeset))")
                    }
                }
                for conflict in conflicts { say("C \(conflict.id.prefix(8)) \(conflict.description)") }
            } else {
                let role = w.config.role.map { " (\($0))" } ?? ""
                say("corpus \(try w.url), as \(w.config.user)\(role)")
                say("at revision \(head); \(documents) document(s)")
                if entries.isEmpty {
                    say("nothing to push")
                } else {
                    let ops = entries.reduce(0) { $0 + $1.changeset.ops.count }
                    say("")
                    say("\(entries.count) pending change(s), \(ops) op(s) (`gloss push` or `gloss sync` to share; `gloss drop N` to discard one):")
                    for entry in entries {
                        say("  #\(entry.number)  \(entry.changeset.id.description.prefix(8))  \(PendingEntry.summary(entry.changeset))")
                        if let refusal = entry.refusal {
                            say("      refused by the server: \(refusal.code): \(refusal.message)")
                            say("      it holds back the changes after it: `gloss drop \(entry.number)`")
                        }
                    }
                }
                if let problem {
                    say("")
                    say("problem: \(problem)")
                }
                if !conflicts.isEmpty {
                    say("")
                    say("\(conflicts.count) conflict(s) to resolve (`gloss resolve ID --mine|--theirs|--value V`, then `gloss sync`):")
                    for conflict in conflicts { say("  \(conflict.id.prefix(8))  \(conflict.description)") }
                }
            }
            if !conflicts.isEmpty { throw ExitCode(Failure.conflicts) }
        }
    }
}

/// `gloss status --json`'s first line.
struct StatusJSON: Encodable {
    var type: String
    var corpus: String
    var user: String
    var role: String?
    var revision: Int
    var documents: Int
    var pending: Int
    var conflicts: Int
    var problem: String?
}

/// A pending change in `gloss status --json`.
struct PendingJSON: Encodable {
    var type = "pending"
    var number: Int
    var id: String
    var ops: Int
    var summary: String
    var message: String
    var refusedCode: String?
    var refusedMessage: String?

    init(_ entry: PendingEntry) {
        number = entry.number
        id = entry.changeset.id.description
        ops = entry.changeset.ops.count
        summary = PendingEntry.summary(entry.changeset)
        message = entry.changeset.message
        refusedCode = entry.refusal?.code
        refusedMessage = entry.refusal?.message
    }
}

struct Drop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop",
        abstract: "Discard pending changes, by the number or id `gloss status` shows.",
        discussion: HelpText.reflow(
            """
            Use it for a change the server refused (it holds back every change after it) or \
            one you no longer want. Each dropped change is listed, and a copy is kept in \
            .gloss/dropped/ until you delete it.

            Examples:
              gloss drop 2
              gloss drop 2 3
              gloss drop 5e1f0c2a
            """))

    @Argument(help: "Pending change numbers (`2` or `#2`) or unique prefixes of their ids.") var changes: [String]
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if changes.isEmpty { throw ValidationError("name at least one pending change; `gloss status` lists them") }
    }

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let entries = try w.pendingEntries(named: changes)
            let kept = try w.drop(entries)
            for (entry, copy) in zip(entries, kept) {
                say("dropped #\(entry.number) \(entry.changeset.id.description.prefix(8)): \(PendingEntry.summary(entry.changeset))")
                note("  a copy is in \(copy.path)")
            }
        }
    }
}

struct Reset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Discard every pending change and chosen resolution: back to the server's state.",
        discussion: HelpText.reflow(
            """
            Like `git reset --hard` against the last pull: the workspace shows the replica's \
            revision again. Each discarded change is listed, and a copy is kept in \
            .gloss/dropped/. Kept `gloss edit` files are left alone.

            Examples:
              gloss reset
              gloss reset && gloss pull
            """))

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let entries = try w.pendingEntries()
            guard !entries.isEmpty else {
                try w.drop([])
                say("nothing to discard: no pending changes")
                return
            }
            try w.drop(entries)
            for entry in entries {
                say("dropped #\(entry.number) \(entry.changeset.id.description.prefix(8)): \(PendingEntry.summary(entry.changeset))")
            }
            note("copies are in .gloss/dropped/; at revision \(try w.replica.headRevision())")
        }
    }
}
