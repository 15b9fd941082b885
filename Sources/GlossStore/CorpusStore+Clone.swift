import GlossModel

extension CorpusStore {
    /// Where each document live at `head` starts its current history: the revision whose delta
    /// (re)added it, and every text that history names (the added one, then each revised one).
    /// A clone sends every delta from there on, and those texts before it, so that the replica
    /// can show any revision of the document since it was added, as the server can.
    ///
    /// One read for the whole corpus: a clone's plan must not cost a transaction per document
    /// (a document whose text was revised, rare, has its deltas read for its texts).
    public func historyStarts(through head: Int) throws
        -> [(document: DocumentEntry, firstDelta: Int, texts: [TextDigest])]
    {
        try backend.read { rows in
            var starts: [(document: DocumentEntry, firstDelta: Int, texts: [TextDigest])] = []
            for record in try rows.documents() where record.entry.isLive && record.entry.addedAt <= head {
                guard let base = try rows.latestBaseDelta(document: record.key, atOrBefore: head) else { continue }
                var texts = [record.entry.document.digest]
                if record.entry.textRevisedAt != nil {
                    texts = []
                    for blob in try rows.deltas(document: record.key, after: base - 1, through: head) {
                        for digest in try blob.ops().compactMap(\.namedText) where !texts.contains(digest) {
                            texts.append(digest)
                        }
                    }
                }
                starts.append((record.entry, base, texts))
            }
            return starts
        }
    }
}
