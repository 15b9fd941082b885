import GlossModel

/// One changeset made in this workspace and not yet in the server's history, as
/// `gloss status` lists it and `gloss drop` names it.
public struct PendingEntry: Sendable {
    /// Its place in the queue (`#3`); renumbered from 1 when the queue is rewritten by a sync.
    public var number: Int
    /// The file under `.gloss/pending/`.
    public var file: String
    public var changeset: Changeset
    /// Why the server refused it, if it did.
    public var refusal: Refusal?

    /// The server's reason for refusing a changeset, kept until the changeset is dropped.
    public struct Refusal: Codable, Sendable, Hashable {
        public var code: String
        public var message: String
    }

    /// "3 ops: 2 creates, 1 set on fed" — what the changeset does, in a line.
    public static func summary(_ changeset: Changeset) -> String {
        var kinds: [String: Int] = [:]
        for op in changeset.ops {
            let kind: String
            switch op {
            case .create: kind = "create"
            case .set: kind = "set"
            case .delete: kind = "delete"
            case .addDocument: kind = "document add"
            case .removeDocument: kind = "document removal"
            case .reviseText: kind = "text revision"
            case .setSchema: kind = "schema change"
            }
            kinds[kind, default: 0] += 1
        }
        let parts = kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)\($0.value == 1 ? "" : "s")" }
        let documents = Set(changeset.ops.compactMap(\.document)).map(\.rawValue).sorted()
        let on = documents.isEmpty ? "" : " on " + documents.prefix(3).joined(separator: ", ") + (documents.count > 3 ? " …" : "")
        let message = changeset.message.isEmpty ? "" : " \"\(changeset.message.split(separator: "\n").first ?? "")\""
        return (parts.isEmpty ? "no ops" : parts.joined(separator: ", ")) + on + message
    }
}
