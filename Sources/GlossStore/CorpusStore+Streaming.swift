import GlossModel

/// Appending changesets as they arrive over the wire, still encoded: a large one (an import of a
/// million annotations) is checked and written one document at a time, so that the store never
/// holds more than one document's decoded ops and head entries.
extension CorpusStore {
    /// Appends encoded changesets in one transaction (group commit), with the semantics of
    /// ``append(batch:)``: each is checked against the head including the ones before it, and
    /// the outcomes, the stored rows and the revision numbers are those of decoding each whole.
    ///
    /// A changeset whose corpus-level ops (the schema) all come before its document ops, and
    /// with more ops than the store's streaming threshold, goes a document at a time: the
    /// corpus part is checked, then each document's ops are decoded, checked against that
    /// document's head and written, and let go before the next. A later document that conflicts
    /// or breaks a rule undoes the written ones (a nested transaction) while the other
    /// changesets of the batch stay.
    ///
    /// - Returns: per changeset, its outcome, or the ``CodecError`` of a run of its ops that
    ///   does not decode (nothing of it is written).
    public func append(encoded batch: [EncodedChangeset]) throws -> [Result<AppendOutcome, CodecError>] {
        // Small changesets are decoded once, up front (outside the transaction, so outside the
        // corpus's lock), so that the backend can load what the whole batch will read in a few
        // statements (``CorpusReader/startBatch(of:prefetching:metaKeys:)``). A retry's
        // duplicate is decoded for nothing: retries are rare.
        let decoded = batch.map { changeset -> Result<Changeset, CodecError>? in
            guard !streams(changeset) else { return nil }
            do throws(CodecError) { return .success(try changeset.decoded()) } catch { return .failure(error) }
        }
        let wanted = PrefetchedHead.wanted(by: decoded.lazy.compactMap { try? $0?.get() }.flatMap(\.ops))
        return try backend.write { rows in
            // One read for the whole batch's duplicates, and the schema once until one sets it:
            // on a networked database each read is a round trip, paid per changeset otherwise.
            var (head, known) = try rows.startBatch(
                of: batch.map(\.id), prefetching: wanted, metaKeys: PrefetchedHead.schemaMetaKeys)
            var schema: (schema: Schema, revision: Int)?
            var results: [Result<AppendOutcome, CodecError>] = []
            results.reserveCapacity(batch.count)
            for (index, changeset) in batch.enumerated() {
                let digest = changeset.contentDigest
                if let existing = known[changeset.id] {
                    results.append(.success(try repeated(changeset.id, digest: digest, at: existing, rows: rows)))
                    continue
                }
                var streamed: StreamedAppend = .wholeNeeded
                if streams(changeset) {
                    streamed = try appendStreamed(changeset, as: head + 1, digest: digest, rows: rows)
                }
                let result: Result<AppendOutcome, CodecError>
                switch streamed {
                case .done(let outcome): result = .success(outcome)
                case .malformed(let error): result = .failure(error)
                case .wholeNeeded:
                    let whole: Changeset
                    switch decoded[index] ?? Result(catching: { () throws(CodecError) in try changeset.decoded() }) {
                    case .success(let changeset): whole = changeset
                    case .failure(let error):
                        results.append(.failure(error))
                        continue
                    }
                    if schema == nil { schema = try PrefetchedHead.schema(in: rows) }
                    result = .success(
                        try appendWhole(whole, as: head + 1, recording: nil, digest: digest, schema: schema, rows: rows))
                    if whole.setsSchema { schema = nil }
                }
                if case .success(.accepted) = result {
                    head += 1
                    known[changeset.id] = head
                    // A streamed append read and may have set the schema itself.
                    if case .done = streamed { schema = nil }
                }
                results.append(result)
            }
            return results
        }
    }

    /// Whether a changeset is checked and written a document at a time.
    private func streams(_ changeset: EncodedChangeset) -> Bool {
        changeset.opCount > streamingThreshold && changeset.corpusOpsComeFirst
    }

    /// How a document-at-a-time append ended.
    enum StreamedAppend {
        case done(AppendOutcome)
        /// A run does not decode: nothing was written.
        case malformed(CodecError)
        /// The parts do not commute (a corpus-level op inside a document's run, which only a
        /// hand-made run holds): nothing was written; check the changeset whole.
        case wholeNeeded

        var isAccepted: Bool { if case .done(.accepted) = self { true } else { false } }
    }

    /// Checks and writes a changeset a part at a time; with more than one document, inside a
    /// nested transaction that is undone unless the whole changeset is accepted.
    func appendStreamed(
        _ changeset: EncodedChangeset, as revision: Int, digest: ChangesetContentDigest, rows: any CorpusWriter
    ) throws -> StreamedAppend {
        do throws(ValidationError) {
            try FieldLimits.v1.checkChangeset(
                message: changeset.message, opCount: changeset.opCount, texts: changeset.texts.values)
        } catch {
            return .done(.invalid(error))
        }
        let parts = changeset.parts
        guard parts.count(where: { $0.document != nil }) > 1 else {
            // One document: it is checked in full before anything is written.
            return try appendParts(parts, of: changeset, as: revision, digest: digest, undoable: false, rows: rows)
        }
        var result = StreamedAppend.wholeNeeded
        try rows.nested {
            result = try appendParts(parts, of: changeset, as: revision, digest: digest, undoable: true, rows: rows)
            return result.isAccepted ? .keep : .undo
        }
        return result
    }

    /// Documents are written as soon as they are checked while the changeset is clean so far.
    /// `undoable`: the caller undoes them if a later part refuses the changeset. Otherwise
    /// there is one document, the last part (after the corpus part), so a refusal comes before
    /// anything is written.
    private func appendParts(
        _ parts: [EncodedChangeset.Part], of changeset: EncodedChangeset, as revision: Int,
        digest: ChangesetContentDigest, undoable: Bool, rows: any CorpusWriter
    ) throws -> StreamedAppend {
        let schema = try PrefetchedHead.schema(in: rows)
        var check = PartwiseCheck()
        var corpus: CheckOutcome?
        for part in parts {
            let decoded: EncodedChangeset.DecodedPart
            do throws(CodecError) {
                decoded = try changeset.decode(part)
            } catch {
                // Report the run a whole decode would: the first that fails, in op order.
                return .malformed(changeset.firstUndecodableRun() ?? error)
            }
            guard let document = part.document else {
                let head = try PrefetchedHead.load(ops: decoded.ops, base: changeset.base, schema: schema, from: rows)
                let checked = AcceptanceCheck.check(decoded, of: changeset, against: head, as: revision, limit: check.checkLimit)
                check.add(checked)
                corpus = checked.outcome
                continue
            }
            if decoded.ops.contains(where: { $0.document != document }) { return .wholeNeeded }
            if let limit = check.checkLimit, decoded.indices[0] >= limit { continue }  // nothing here can matter
            // Blocks written inside a nested transaction stay out of the shared cache.
            let cache: (any DecodedBlockCache)? = undoable ? NestedBlockCache(shared: headCache) : headCache
            let head = try PrefetchedHead.load(
                ops: decoded.ops, base: changeset.base, schema: schema, from: rows, cache: cache)
            let checked = AcceptanceCheck.check(
                decoded, of: changeset, against: head, as: revision, schema: corpus?.schema, limit: check.checkLimit)
            check.add(checked)
            guard !check.isRefused else { continue }
            try write(checked.outcome, of: document, record: head.records[document], changeset: changeset, as: revision,
                rows: rows, cache: cache)
        }
        switch check.verdict {
        case .invalid(let error): return .done(.invalid(error))
        case .conflicts(let conflicts): return .done(.conflicts(conflicts))
        case .accepted(let opCount):
            if let corpus {
                if let schema = corpus.schema { try writeSchema(schema, revision: revision, rows: rows) }
                if !corpus.accepted.isEmpty {
                    try writeDelta(
                        corpus.accepted, document: nil, record: nil, revision: revision, stored: nil, rows: rows, cache: nil)
                }
            }
            try rows.insertRevision(
                Revision(
                    number: revision, changeset: changeset.id, author: changeset.author, replica: changeset.replica,
                    base: changeset.base, message: changeset.message, timestamp: changeset.timestamp, opCount: opCount,
                    contentDigest: digest))
            return .done(.accepted(revision: revision))
        }
    }

    /// Writes one document's part of an accepted changeset: its row (when the part added or
    /// removed it) and text, its head entries and references, its delta and maybe a snapshot.
    private func write(
        _ outcome: CheckOutcome, of document: DocumentID, record: DocumentRecord?, changeset: EncodedChangeset,
        as revision: Int, rows: any CorpusWriter, cache: (any DecodedBlockCache)?
    ) throws {
        var record = record
        if let entry = outcome.documents[document] {
            record = try writeDocumentEntry(entry, record: record, revision: revision, texts: changeset.texts, rows: rows)
        }
        if let key = record?.key, !outcome.entries.isEmpty {
            try writeHead(outcome.entries.map { ($0.key.id, $0.value) }, key: key, document: document, rows: rows, cache: cache)
        }
        if !outcome.accepted.isEmpty {
            try writeDelta(
                outcome.accepted, document: document, record: record, revision: revision, stored: nil, rows: rows,
                cache: cache)
        }
    }
}
