import GlossModel

/// Revisions of one document a replica cannot show: a pull or clone brought it from the state
/// it knew at ``knownThrough`` straight to a snapshot of ``caughtUpAt`` (the server sends a
/// snapshot where that is smaller than the deltas), so the states in between, and the change
/// made at ``caughtUpAt`` itself, are not in the replica. The server keeps them all.
public struct HistoryGap: Hashable, Sendable {
    /// The last revision whose state of the document the replica knows (0 for a clone).
    public var knownThrough: Int
    /// The revision whose state the snapshot gave.
    public var caughtUpAt: Int

    public init(knownThrough: Int, caughtUpAt: Int) {
        self.knownThrough = knownThrough
        self.caughtUpAt = caughtUpAt
    }

    /// Whether the document's state at `revision` is unknown to the replica.
    public func hides(_ revision: Int) -> Bool { revision > knownThrough && revision < caughtUpAt }

    /// Whether the replica's delta at `revision` is not the server's change (it holds the catch-up).
    public func rewrote(_ revision: Int) -> Bool { revision == caughtUpAt }

    /// Whether the replica lacks any state or change of the document in `(after, through]`.
    public func overlaps(after: Int, through: Int) -> Bool { after < caughtUpAt && through > knownThrough }

    /// One line per document: its id, a tab, and `knownThrough-caughtUpAt` pairs separated by commas.
    static func encode(_ gaps: [DocumentID: [HistoryGap]]) -> [UInt8] {
        let lines = gaps.sorted { $0.key < $1.key }.map { document, list in
            document.rawValue + "\t" + list.map { "\($0.knownThrough)-\($0.caughtUpAt)" }.joined(separator: ",")
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    static func decode(_ bytes: [UInt8]) -> [DocumentID: [HistoryGap]]? {
        var out: [DocumentID: [HistoryGap]] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2 else { return nil }
            for pair in fields[1].split(separator: ",") {
                let parts = pair.split(separator: "-")
                guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a < b else { return nil }
                out[DocumentID(storedRawValue: String(fields[0])), default: []].append(HistoryGap(knownThrough: a, caughtUpAt: b))
            }
        }
        return out
    }
}
