import GlossModel

/// One document of a clone being installed: what ``ReplicaInstaller`` reads back from the
/// staged stream, and the pure work of turning it into the document's head, row and
/// snapshots. The work touches no database, so several documents are built at once.
struct DocumentInstall: Sendable {
    let document: DocumentID
    let key: Int64
    /// The document's deltas in revision order, each with its revision's row.
    var deltas: [(blob: StoredBlob, revision: Revision)]
    /// Each delta's ops, once decoded.
    var ops: [[Op]] = []
    /// The texts its deltas add, deflated as received.
    var texts: [TextDigest: (rawLength: Int, data: [UInt8])] = [:]

    /// What building a document yields, for the installer to write.
    struct Built: Sendable {
        var record: DocumentRecord
        var snapshots: [(revision: Int, rawLength: Int, data: [UInt8])] = []
        /// Revisions whose delta (re)adds the document: the chain bases.
        var bases: [Int] = []
        var block: HeadBlock?
        var referrers: [(target: AnnotationID, source: AnnotationID)] = []
    }

    private func place(_ i: Int) -> String { "\(document) at revision \(deltas[i].blob.revision)" }

    /// Decodes every delta; returns the digests of the texts its ops add or revise to.
    mutating func decode() throws -> [TextDigest] {
        ops = try deltas.indices.map { i in try deltas[i].blob.ops() }
        return ops.flatMap { $0.compactMap(\.namedText) }
    }

    /// Replays the deltas through the same check as every push, as the revision each came in
    /// (with the schema changes of that revision first), and takes the snapshots `policy`
    /// asks for on the way.
    ///
    /// - Throws: ``StoreError`` `corrupt` naming the document and revision when they do not apply.
    func build(schemas: [(revision: Int, schema: Schema)], policy: SnapshotPolicy) throws -> Built {
        var head = HeadState()
        var built = Built(record: DocumentRecord(key: key, entry: ReplicaInstaller.placeholder(document).entry))
        var schemaIndex = 0
        for (i, (delta, revision)) in deltas.enumerated() {
            var ops: [Op] = []
            while schemaIndex < schemas.count, schemas[schemaIndex].revision <= delta.revision {
                ops.append(.setSchema(schemas[schemaIndex].schema))
                schemaIndex += 1
            }
            let documentOps = self.ops[i]
            ops += documentOps
            // An added or revised document's text goes with it, as in a push: the check verifies it.
            var texts: [TextDigest: String] = [:]
            let isBase = documentOps.contains { if case .addDocument = $0 { true } else { false } }
            for digest in documentOps.compactMap(\.namedText) {
                guard let stored = self.texts[digest] else {
                    throw StoreError(.corrupt, "the server sent no text \(digest) for the document", context: place(i))
                }
                let raw = try BlobCompression.decompress(stored.data, expectedLength: stored.rawLength, what: "text \(digest)")
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw StoreError(.corrupt, "the server sent a text that is not UTF-8", context: place(i))
                }
                texts[digest] = text
            }
            let changeset = Changeset(
                id: revision.changeset, author: revision.author, replica: revision.replica, base: delta.revision - 1,
                message: revision.message, timestamp: revision.timestamp, ops: ops, texts: texts)
            let outcome: CheckOutcome
            do {
                outcome = try head.apply(changeset, as: delta.revision)
            } catch {
                throw StoreError(.corrupt, "the server's ops do not apply: \(error)", context: place(i))
            }
            guard outcome.conflicts.isEmpty else {
                throw StoreError(
                    .corrupt, "the server's ops do not apply cleanly (\(outcome.conflicts.count) conflicts)",
                    context: place(i))
            }
            guard let entry = head.document(document) else {
                throw StoreError(.corrupt, "ops of a document that was never added", context: place(i))
            }
            built.record.entry = entry
            if isBase {
                (built.record.chainLength, built.record.chainBytes, built.record.baseBytes) = (0, 0, delta.data.count)
                built.bases.append(delta.revision)
            } else {
                built.record.chainLength += 1
                built.record.chainBytes += delta.data.count
            }
            if entry.isLive && policy.needsSnapshot(built.record) {
                let state = DocumentState(
                    document: entry.document,
                    annotations: head.entries(in: document).compactMapValues { $0.isLive ? $0.annotation : nil })
                let raw = DeltaCodec.encode(state.asOps, document: document)
                let data = BlobCompression.compress(raw)
                built.snapshots.append((delta.revision, raw.count, data))
                (built.record.chainLength, built.record.chainBytes, built.record.baseBytes) = (0, 0, data.count)
            }
        }
        let entries = head.entries(in: document)
        guard !entries.isEmpty else { return built }
        built.block = DocumentHead.block(of: entries.values)
        // Only relations and notes refer; sorting every entry to find them would move each struct.
        for id in entries.compactMap({ id, entry in entry.annotation.hasReferences ? id : nil }).sorted() {
            for target in entries[id]!.annotation.references { built.referrers.append((target, id)) }
        }
        return built
    }
}
