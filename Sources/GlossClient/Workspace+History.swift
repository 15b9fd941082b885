import Foundation
import GlossModel
import GlossStore

/// One line of `gloss log`: a revision (or a pending local changeset) and what it touched.
public struct LogEntry: Sendable {
    /// The server's revision number; nil for a local changeset not yet pushed.
    public var revision: Int?
    public var changeset: ChangesetID
    public var author: String
    public var message: String
    /// Seconds since 1970.
    public var timestamp: Int64
    public var opCount: Int
    /// The documents it changed, sorted (empty for schema-only changes).
    public var documents: [DocumentID]
    /// The documents whose text it revised, sorted.
    public var revisedTexts: [DocumentID] = []
}

/// Who last changed an annotation, for `gloss blame`.
public struct BlameEntry: Sendable {
    public var annotation: Annotation
    /// The revision that last changed any of its fields; nil when the change is local and pending.
    public var revision: Int?
    public var author: String
    public var timestamp: Int64
    /// The fields changed in that revision (every field, when it created the annotation).
    public var fields: [Field]
    /// Set when ``revision`` is where this replica caught up from a snapshot: the real change
    /// happened somewhere in `knownThrough+1 ... revision`, by an author the replica does not know.
    public var caughtUp: HistoryGap?
}

/// Reading history: the log, states at past revisions, differences, blame and revert. Server
/// revisions come from the replica; pending local changesets count as "the working state".
extension Workspace {
    /// Revisions newest first, local pending changesets before them; optionally only those that
    /// touched `document` or were made by `author`; at most `limit` entries.
    public func log(document: DocumentID? = nil, author: String? = nil, limit: Int = .max) throws -> [LogEntry] {
        var entries: [LogEntry] = []
        try forEachLogEntry(document: document, author: author, limit: limit) { entries.append($0) }
        return entries
    }

    /// The entries ``log(document:author:limit:)`` returns, handed to `body` a page at a time as
    /// they are read, so that a listing prints its first page before reading the next.
    public func forEachLogEntry(
        document: DocumentID? = nil, author: String? = nil, limit: Int = .max, _ body: (LogEntry) throws -> Void
    ) throws {
        guard limit > 0 else { return }
        var count = 0
        for changeset in try pending().reversed() {
            let documents = Set(changeset.ops.compactMap(\.document))
            guard author == nil || changeset.author == author, document == nil || documents.contains(document!) else {
                continue
            }
            let revised = changeset.ops.compactMap { op in if case .reviseText(let d, _) = op { d } else { nil } }
            try body(
                LogEntry(
                    revision: nil, changeset: changeset.id, author: changeset.author, message: changeset.message,
                    timestamp: changeset.timestamp, opCount: changeset.ops.count, documents: documents.sorted(),
                    revisedTexts: Array(Set(revised)).sorted()))
            count += 1
            if count == limit { return }
        }
        // Walk back a page at a time, each page one read: `-n 10` on a long history reads ten
        // rows, `-n 10000` reads ten thousand in a few pages. A filter that matches rarely
        // widens the window as it goes, so a sparse history costs few reads too.
        var through = try replica.headRevision()
        let textRevisions = try replica.textRevisions()
        var window = 256
        while through > 0 && count < limit {
            if document == nil && author == nil { window = min(max(limit - count, 1), Self.logPage) }
            let after = max(0, through - window)
            let page = try replica.revisionSummaries(after: after, through: through, document: document)
            var listed = 0
            for summary in page {
                let revision = summary.revision
                guard author == nil || revision.author == author else { continue }
                try body(
                    LogEntry(
                        revision: revision.number, changeset: revision.changeset, author: revision.author,
                        message: revision.message, timestamp: revision.timestamp, opCount: revision.opCount,
                        documents: summary.documents, revisedTexts: (textRevisions[revision.number] ?? []).sorted()))
                listed += 1
                count += 1
                if count == limit { return }
            }
            if listed < window / 4 { window = min(window * 4, Self.logPage * 4) }
            through = after
        }
    }

    /// Revisions read at once by a log without filters: a page of output.
    static let logPage = 4096

    /// A document at a server revision, or in the local view (`nil`: head plus pending work).
    public func state(of document: DocumentID, at revision: Int?) throws -> DocumentState {
        guard let revision else { return try localState(of: document) }
        try checkRevision(revision)
        return try replica.reconstruct(document, at: revision)
    }

    /// How documents changed from revision `from` to `to` (nil: the local view); only
    /// `document` when given. Documents in text order of id.
    public func changes(from: Int, to: Int?, document: DocumentID? = nil) throws -> [DocumentChange] {
        try checkRevision(from)
        if let to { try checkRevision(to) }
        var touched = Set<DocumentID>()
        let head = try replica.headRevision()
        let upper = to ?? head
        if upper > from {
            for delta in try replica.storedDeltas(after: from, through: upper) {
                if let d = delta.document { touched.insert(d) }
            }
        } else if upper < from {
            for delta in try replica.storedDeltas(after: upper, through: from) {
                if let d = delta.document { touched.insert(d) }
            }
        }
        let pending = to == nil ? try rebased().changesets : []
        for changeset in pending { touched.formUnion(changeset.ops.compactMap(\.document)) }
        // Documents whose skipped revisions fall in the range: their reconstruction says so.
        for (id, gaps) in try replica.historyGaps()
        where gaps.contains(where: { $0.overlaps(after: min(from, upper), through: max(from, upper)) }) {
            touched.insert(id)
        }
        if let document { touched = touched.intersection([document]) }
        var out: [DocumentChange] = []
        for id in touched.sorted() {
            let before = try replica.reconstruct(id, at: from)
            let after = try to.map { try replica.reconstruct(id, at: $0) } ?? localState(of: id, pending: pending)
            if let change = before.change(to: after) { out.append(change) }
        }
        return out
    }

    /// What revision `revision` changed (its state against the one before).
    public func changes(in revision: Int, document: DocumentID? = nil) throws -> [DocumentChange] {
        try checkRevision(revision)
        guard revision > 0 else { return [] }
        return try changes(from: revision - 1, to: revision, document: document)
    }

    /// The live annotations of a document in the local view, each with the revision and author
    /// of its last change; pending local changes show as `revision: nil` by this workspace's user.
    /// - Parameter localState: the document's local state, when the caller has it already.
    public func blame(_ document: DocumentID, localState known: DocumentState? = nil) throws -> [BlameEntry] {
        let local = try known ?? localState(of: document)
        guard local.document != nil else {
            throw WorkspaceError(.unknownDocument, "no document \(document); `gloss docs` lists them")
        }
        let head = Dictionary(try replica.headEntries(of: document).map { ($0.annotation.id, $0) }) { a, _ in a }
        let gaps = try replica.historyGaps(of: document)
        var authors: [Int: Revision] = [:]
        func revisionInfo(_ number: Int) throws -> Revision? {
            if let known = authors[number] { return known }
            let found = try replica.revisions(after: number - 1, through: number).first
            authors[number] = found
            return found
        }
        var out: [BlameEntry] = []
        for annotation in local.annotations.values {
            if let entry = head[annotation.id], entry.isLive, entry.annotation == annotation {
                let last = ([entry.createdAt] + Array(entry.fieldRevisions.values)).max()!
                let info = try revisionInfo(last)
                let fields =
                    last == entry.createdAt
                    ? annotation.populatedFields
                    : entry.fieldRevisions.filter { $0.value == last }.map(\.key).sorted { $0.description < $1.description }
                // The catch-up revision's delta is the replica's own, not the server's change:
                // who changed the annotation, and when, is not known here.
                if let gap = gaps.first(where: { $0.rewrote(last) }) {
                    out.append(
                        BlameEntry(
                            annotation: annotation, revision: last, author: "?", timestamp: 0, fields: fields, caughtUp: gap))
                    continue
                }
                out.append(
                    BlameEntry(
                        annotation: annotation, revision: last, author: info?.author ?? "?",
                        timestamp: info?.timestamp ?? 0, fields: fields))
            } else {
                // Created or changed by pending local work.
                let before = head[annotation.id].flatMap { $0.isLive ? $0.annotation : nil }
                let fields =
                    before.map { b in
                        DocumentState(document: local.document, annotations: [b.id: b])
                            .change(to: DocumentState(document: local.document, annotations: [annotation.id: annotation]))
                    }??.changes.first.flatMap { if case .changed(_, _, let f) = $0 { f } else { nil } }
                out.append(
                    BlameEntry(
                        annotation: annotation, revision: nil, author: config.user,
                        timestamp: Int64(Date().timeIntervalSince1970),
                        fields: fields ?? annotation.populatedFields))
            }
        }
        return out.sorted { a, b in
            (a.annotation.ranges.first?.start ?? .max, a.annotation.id) < (b.annotation.ranges.first?.start ?? .max, b.annotation.id)
        }
    }

    /// Records a changeset that undoes revision `revision`. It is made against that revision,
    /// so where later revisions changed the same fields the rebase reports conflicts (listed by
    /// `gloss conflicts`) instead of overwriting their work.
    @discardableResult
    public func revert(_ revision: Int) throws -> (changeset: Changeset, conflicts: [Conflict]) {
        try checkRevision(revision)
        guard revision > 0, let info = try replica.revisions(after: revision - 1, through: revision).first else {
            throw WorkspaceError(.unknownRevision, "there is no revision \(revision) to revert")
        }
        let deltas = try replica.storedDeltas(after: revision - 1, through: revision)
        if deltas.contains(where: { $0.document == nil }) {
            throw WorkspaceError(
                .cannotRevert, "revision \(revision) changed the corpus schema; revert does not undo schema changes")
        }
        var ops: [Op] = []
        var texts: [TextDigest: String] = [:]
        let pending = try rebased().changesets
        for id in Set(deltas.compactMap(\.document)).sorted() {
            let before = try replica.reconstruct(id, at: revision - 1)
            let after = try replica.reconstruct(id, at: revision)
            // What is already undone in the working state needs no op (and would be refused).
            let now = try localState(of: id, pending: pending)
            let undo = after.ops(toReach: before).filter { op in
                switch op {
                case .delete(_, let a): now.annotations[a] != nil
                case .create(let a): now.annotations[a.id] == nil
                default: true
                }
            }
            for case .addDocument(let d) in undo { texts[d.digest] = try replica.text(d.digest) }
            ops += undo
        }
        guard !ops.isEmpty else {
            throw WorkspaceError(.cannotRevert, "revision \(revision) changed nothing that can be undone")
        }
        let message = "Revert r\(revision)" + (info.message.isEmpty ? "" : ": \(info.message)")
        let changeset = try commit(ops, texts: texts, message: message, base: revision, replica: .random())
        let conflicts = try rebased().conflicts[changeset.id] ?? []
        return (changeset, conflicts)
    }

    private func checkRevision(_ revision: Int) throws {
        let head = try replica.headRevision()
        guard revision >= 0, revision <= head else {
            throw WorkspaceError(
                .unknownRevision, "revision \(revision) is not in this workspace (it has 0...\(head); `gloss pull` for newer ones)")
        }
    }
}
