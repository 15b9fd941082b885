import GlossModel

extension CorpusStore {
    /// Where each document live at `head` starts its current history: the revision whose delta
    /// (re)added it. A clone sends every delta from there on, so that the replica can show any
    /// revision of the document since it was added, as the server can.
    ///
    /// One read for the whole corpus: a clone's plan must not cost a transaction per document.
    public func historyStarts(through head: Int) throws -> [(document: DocumentEntry, firstDelta: Int)] {
        try backend.read { rows in
            var starts: [(document: DocumentEntry, firstDelta: Int)] = []
            for record in try rows.documents() where record.entry.isLive && record.entry.addedAt <= head {
                guard let base = try rows.latestBaseDelta(document: record.key, atOrBefore: head) else { continue }
                starts.append((record.entry, base))
            }
            return starts
        }
    }
}
