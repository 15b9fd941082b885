import GlossModel
import GlossStore

/// A client replica reduced to its merge logic, for property tests: the server state it last
/// pulled (a standalone ``HeadState``) plus pending local changesets. It pulls from and pushes
/// to a real ``CorpusStore``, rebases with ``Rebaser`` and resolves conflicts with a policy.
public struct SimulatedReplica {
    public var minter: Minter
    public private(set) var base = HeadState()
    public private(set) var pending: [Changeset] = []
    /// Every changeset of ours the store accepted, with its revision.
    public private(set) var accepted: [ChangesetID: Int] = [:]
    public private(set) var conflictsSeen = 0
    public private(set) var duplicatesSeen = 0
    /// Rounds where the random resolutions failed validation and "theirs" was used instead.
    public private(set) var fallbacks = 0
    /// Whether ``edit(using:)`` sometimes revises a document's text (typos fixed, words added
    /// or removed) rather than annotating it.
    public var revisesTexts = false
    /// Text revisions this replica made.
    public private(set) var textRevisionsMade = 0
    /// Every text this replica has seen, by digest: the texts it revises.
    private var texts: [TextDigest: String] = [:]

    public init(_ user: String, replica: UInt64, revisesTexts: Bool = false) {
        minter = Minter(user, replica: replica)
        self.revisesTexts = revisesTexts
    }

    /// Base plus pending: what the annotator sees.
    public func localView() throws -> HeadState {
        var layer = HeadState(over: base, revision: base.revision)
        for (k, cs) in pending.enumerated() {
            let outcome = try AcceptanceCheck.check(cs, against: layer, as: base.revision + k + 1)
            precondition(outcome.conflicts.isEmpty, "pending changesets are rebased before new edits")
            layer.commit(outcome, revision: base.revision + k + 1, replica: cs.replica)
        }
        return layer
    }

    /// Makes a random valid local edit (create, relabel, move, attribute, relate, delete).
    public mutating func edit(using rng: inout SplitMix64) throws {
        let view = try localView()
        let docs = base.liveDocuments
        guard !docs.isEmpty else { return }
        // The document as the annotator sees it: after their own pending text revisions.
        guard let doc = view.document(rng.pick(docs).document.id)?.document else { return }
        if revisesTexts, rng.chance(12), let text = texts[doc.digest] {
            let revised = Self.revised(text, using: &rng)
            guard revised != text else { return }
            let change = TextRevision(from: text, to: revised)
            texts[change.to] = revised
            let cs = minter.changeset(base: base.revision, [.reviseText(doc.id, change)], texts: [change.to: revised])
            let outcome = try AcceptanceCheck.check(cs, against: view, as: base.revision + pending.count + 1)
            precondition(outcome.conflicts.isEmpty)
            pending.append(cs)
            textRevisionsMade += 1
            return
        }
        guard doc.length > 1 else { return }
        let live = try liveAnnotations(in: doc.id, view: view)
        let spans = live.filter { $0.kind == .span }
        var ops: [Op] = []
        let labels = ["PER", "ORG", "LOC", "MISC"]
        switch rng.int(below: 10) {
        case 0...2, _ where spans.count < 2:
            let start = rng.int(below: doc.length)
            let end = min(doc.length, start + 1 + rng.int(below: 12))
            ops = [.create(minter.span(doc.id, start, end, rng.pick(labels)))]
        case 3:
            ops = [.set(doc.id, rng.pick(spans).id, .label, .string(rng.pick(labels)))]
        case 4:
            let start = rng.int(below: doc.length)
            let r = TextRange(start, min(doc.length, start + 1 + rng.int(below: 8)))
            ops = [.set(doc.id, rng.pick(spans).id, .ranges, .ranges([r]))]
        case 5:
            let value: FieldValue = rng.chance(70) ? .string(rng.pick(["yes", "no", "maybe"])) : .none
            ops = [.set(doc.id, rng.pick(spans).id, .attribute(rng.pick(["negated", "certain"])), value)]
        case 6, 7:
            let a = rng.pick(spans), b = rng.pick(spans)
            guard a.id != b.id else { return }
            ops = [.create(minter.relation(doc.id, a.id, b.id, rng.pick(["rel", "part_of"])))]
        default:
            let victim = rng.pick(live)
            // Delete what refers to it first, as `gloss span rm` does.
            let referrers = live.filter { $0.references.contains(victim.id) }
            ops = referrers.map { Op.delete(doc.id, $0.id) } + [.delete(doc.id, victim.id)]
        }
        let cs = minter.changeset(base: base.revision, ops)
        // A local edit always passes against the local view (it was made from it).
        let outcome = try AcceptanceCheck.check(cs, against: view, as: base.revision + pending.count + 1)
        precondition(outcome.conflicts.isEmpty)
        pending.append(cs)
    }

    /// `text` with one to three random edits: a word inserted, a stretch deleted, a letter
    /// changed, spaces doubled (a re-tokenisation), a line added.
    static func revised(_ text: String, using rng: inout SplitMix64) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0...rng.int(below: 3) {
            let at = rng.int(below: scalars.count + 1)
            switch rng.int(below: 5) {
            case 0: scalars.insert(contentsOf: rng.pick(["new ", "typo ", "é ", "😀 "]).unicodeScalars, at: at)
            case 1:
                let end = min(scalars.count, at + 1 + rng.int(below: 20))
                if at < end { scalars.removeSubrange(at..<end) }
            case 2: if at < scalars.count { scalars[at] = rng.pick(["x", "ü", "\n"]).unicodeScalars.first! }
            case 3: if let space = scalars[at...].firstIndex(of: " ") { scalars.insert(" ", at: space) }
            default: scalars.insert(contentsOf: "\r\nA new line.\r\n".unicodeScalars, at: at)
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    private func liveAnnotations(in doc: DocumentID, view: HeadState) throws -> [Annotation] {
        // The base lists its own annotations; pending ones live only in the layer.
        var ids = Set(base.liveAnnotations(in: doc).map(\.id))
        for cs in pending { for op in cs.ops { if case .create(let a) = op, a.document == doc { ids.insert(a.id) } } }
        return ids.compactMap { view.entry(AnnotationKey(doc, $0)) }.filter(\.isLive).map(\.annotation)
            .sorted { $0.id < $1.id }
    }

    /// Pulls new revisions into the base, then rebases pending changesets, resolving conflicts
    /// with a random policy until none remain.
    public mutating func pull(from store: CorpusStore, using rng: inout SplitMix64) throws {
        let revisions = try store.revisions(after: base.revision)
        guard !revisions.isEmpty else { return }
        let blobs = try store.storedDeltas(after: base.revision, through: revisions.last!.number)
        var byRevision: [Int: [Op]] = [:]
        for blob in blobs { byRevision[blob.revision, default: []] += try blob.ops() }
        for rev in revisions {
            let ops = byRevision[rev.number] ?? []
            var texts: [TextDigest: String] = [:]
            for digest in ops.compactMap(\.namedText) { texts[digest] = try store.text(digest) }
            self.texts.merge(texts) { a, _ in a }
            let cs = Changeset(
                id: rev.changeset, author: rev.author, replica: rev.replica, base: rev.number - 1, ops: ops, texts: texts)
            let outcome = try base.apply(cs, as: rev.number)
            precondition(outcome.conflicts.isEmpty, "a pulled revision conflicts with the base it was accepted on")
            pending.removeAll { $0.id == rev.changeset }
        }
        try rebase(using: &rng)
    }

    private mutating func rebase(using rng: inout SplitMix64) throws {
        for _ in 0..<10 {
            let result = try Rebaser.rebase(pending, onto: base, at: base.revision)
            guard result.hasConflicts else {
                pending = result.changesets.filter { !$0.ops.isEmpty }
                return
            }
            var resolved = result.changesets
            var allTheirs = result.changesets
            for (index, cs) in result.changesets.enumerated() {
                for conflict in result.conflicts[cs.id] ?? [] {
                    conflictsSeen += 1
                    resolved[index].ops += try resolve(conflict, using: &rng)
                }
            }
            // A resolution is checked again at the new base, where it may meet changes of theirs
            // that the first check did not reach (a relation to an annotation "mine" deletes
            // anyway). A real client shows that error; this one falls back to "theirs", which
            // only drops held-back ops and so always passes.
            do {
                _ = try Rebaser.rebase(resolved, onto: base, at: base.revision)
                pending = resolved
            } catch {
                fallbacks += 1
                for (index, cs) in result.changesets.enumerated() {
                    for conflict in result.conflicts[cs.id] ?? [] { allTheirs[index].ops += try conflict.ops(resolving: .theirs) }
                }
                pending = allTheirs
            }
        }
        preconditionFailure("conflicts did not settle after 10 rounds")
    }

    private func resolve(_ conflict: Conflict, using rng: inout SplitMix64) throws -> [Op] {
        switch conflict.kind {
        case .field(.label) where rng.chance(30):
            return try conflict.ops(resolving: .value(.string("CURATED")))
        case .documentRemoved, .textRevised:
            // A text revised on both sides is revised again by a person, against the new text.
            return try conflict.ops(resolving: .theirs)
        default:
            return try conflict.ops(resolving: rng.chance(50) ? .mine : .theirs)
        }
    }

    public enum PushResult: Equatable { case pushed, refused }

    /// Pushes pending changesets in order until one is refused. Accepted ones stay pending
    /// until the pull that brings them back drops them by id, exactly as if every
    /// acknowledgement were lost: pushing again before that pull must yield `.duplicate`,
    /// never a second revision.
    public mutating func push(to store: CorpusStore) throws -> PushResult {
        for cs in pending {
            switch try store.append(cs) {
            case .accepted(let revision):
                accepted[cs.id] = revision
            case .duplicate(let revision):
                precondition(accepted[cs.id] == revision, "a duplicate push answered with another revision")
                duplicatesSeen += 1
            case .conflicts:
                return .refused
            case .invalid(let error):
                preconditionFailure("a rebased changeset was invalid: \(error)")
            }
        }
        return .pushed
    }

    /// Pull, rebase, push, and pull again when another push won the race.
    public mutating func sync(with store: CorpusStore, using rng: inout SplitMix64) throws {
        for _ in 0..<20 {
            try pull(from: store, using: &rng)
            if try push(to: store) == .pushed {
                try pull(from: store, using: &rng)
                return
            }
        }
        preconditionFailure("sync did not settle")
    }
}
