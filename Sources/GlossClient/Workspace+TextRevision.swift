import GlossModel

/// Texts that change: recording a new text for a document, and the anchor problems it leaves
/// for a person to settle.
extension Workspace {
    /// What ``reviseText(of:to:)`` did to the document's spans.
    public struct TextRevisionSummary: Sendable {
        /// The change recorded.
        public var change: TextRevision
        /// Spans whose text was untouched: moved with it (or left where they were).
        public var moved = 0
        /// Spans whose text changed or vanished: now anchor problems.
        public var flagged = 0
    }

    /// Records `text` as the new text of `document` (corpus owners): annotations in unchanged
    /// text move with it, the rest become anchor problems. Throws when the text is the same.
    @discardableResult
    public func reviseText(of document: DocumentID, to text: String) throws -> TextRevisionSummary {
        guard let (doc, state) = try localView(of: [document]).first else {
            throw WorkspaceError(.unknownDocument, "no document \(document); `gloss docs` lists them")
        }
        let old = try self.text(of: doc)
        guard old != text else {
            throw WorkspaceError(.unchangedText, "the text of \(document) is already that; nothing was recorded")
        }
        let change = TextRevision(from: old, to: text)
        var summary = TextRevisionSummary(change: change)
        let diff = change.diff()
        for a in state.annotations.values where a.kind == .span && !a.ranges.isEmpty {
            if change.reanchor(a, through: diff).lost { summary.flagged += 1 } else { summary.moved += 1 }
        }
        try commit([.reviseText(document, change)], texts: [change.to: text], message: "revise the text of \(document)")
        return summary
    }

    /// Spans of the local view whose text a revision changed, by document then id: in every
    /// document, or only in `documents`.
    public func anchorProblems(in documents: Set<DocumentID>? = nil) throws -> [AnchorProblem] {
        var problems: [AnchorProblem] = []
        let wanted = try documents ?? documentsThatCanHoldAnchors()
        guard !wanted.isEmpty else { return [] }
        for (doc, state) in try localView(of: wanted) {
            let flagged = state.sortedAnnotations.filter { $0.anchor != nil }
            guard !flagged.isEmpty else { continue }
            let index = TextIndex(try text(of: doc))
            for a in flagged {
                let anchor = a.anchor!
                let previous = (try? replica.text(anchor.text)).map { TextIndex($0) }
                problems.append(
                    AnchorProblem(
                        id: anchor.problemID(annotation: a.id, in: doc.id), annotation: a, anchor: anchor,
                        previousText: previous.flatMap { try? Self.covered(anchor.ranges, in: $0) },
                        proposedText: (try? Self.covered(a.ranges, in: index)) ?? ""))
            }
        }
        return problems
    }

    /// The only documents where a span can have an anchor: those whose text was ever revised,
    /// those caught up from a snapshot (which does not say whether it was), and those the pending
    /// work revises or anchors in (its rebase flags what fell in revised text). `gloss conflicts`
    /// reads these, not the whole corpus.
    func documentsThatCanHoldAnchors() throws -> Set<DocumentID> {
        var documents = Set(try replica.documentsRevised(after: 0).map(\.document.id))
        documents.formUnion(try replica.historyGaps().keys)
        for changeset in try rebased().changesets {
            for op in changeset.ops {
                switch op {
                case .reviseText(let d, _), .set(let d, _, .anchor, _): documents.insert(d)
                case .create(let a) where a.anchor != nil: documents.insert(a.document)
                default: break
                }
            }
        }
        return documents
    }

    /// The anchor problems in documents whose text a pulled revision after `revision` revised:
    /// what a sync or pull says it brought (read for those documents only).
    public func anchorProblems(revisedAfter revision: Int) throws -> [AnchorProblem] {
        let revised = Set(try replica.documentsRevised(after: revision).map(\.document.id))
        return revised.isEmpty ? [] : try anchorProblems(in: revised)
    }

    /// Settles the anchor problem named by a unique prefix of its id; returns it.
    @discardableResult
    public func resolveAnchor(_ prefix: String, with resolution: AnchorProblem.Resolution) throws -> AnchorProblem {
        let problem = try Self.unique(
            prefix, in: try anchorProblems(), id: \.id, missing: .unknownConflict, what: "conflict",
            listedBy: "gloss conflicts")
        let (d, id) = (problem.annotation.document, problem.annotation.id)
        let ops: [Op]
        switch resolution {
        case .keep:
            guard !problem.annotation.ranges.isEmpty else {
                throw WorkspaceError(
                    .invalidResolution,
                    "the text of \(id) is gone, so there is no place to keep: give --value S-E, or --delete; nothing was recorded")
            }
            ops = [.set(d, id, .anchor, .none)]
        case .ranges(let ranges):
            // The new place first, while the anchor still excuses empty ranges; then confirmed.
            ops = [.set(d, id, .ranges, .ranges(ranges)), .set(d, id, .anchor, .none)]
        case .delete:
            ops = [.delete(d, id)]
        }
        do {
            try commit(ops, message: "settle the anchor of \(id)")
        } catch let error as ValidationError {
            throw WorkspaceError(.invalidResolution, "cannot resolve \(problem.id.prefix(8)) that way: \(error.message); nothing was recorded")
        }
        return problem
    }

    /// The text `ranges` cover, fragments joined by " … ".
    static func covered(_ ranges: [TextRange], in index: TextIndex) throws -> String {
        try ranges.map { try index.text(in: $0) }.joined(separator: " … ")
    }
}

extension ErrorCode where Domain == WorkspaceError {
    /// `gloss doc update` with the text the document already has.
    public static let unchangedText = Self(rawValue: "unchanged-text")
}
