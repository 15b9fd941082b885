import GlossModel

/// Where ``DocumentHead`` finds and keeps decoded head blocks: the store's shared
/// ``HeadBlockCache``, or a ``NestedBlockCache`` inside a part of a transaction that may be undone.
protocol DecodedBlockCache: AnyObject {
    func entries(for key: HeadBlockCache.Key) -> [AnnotationID: HeadEntry]?
    /// Keeps the entries of a block read from the store.
    func store(_ entries: [AnnotationID: HeadEntry], for key: HeadBlockCache.Key)
    /// Keeps the entries of a block this transaction has just written.
    func storeWritten(_ entries: [AnnotationID: HeadEntry], for key: HeadBlockCache.Key)
}

extension HeadBlockCache: DecodedBlockCache {
    /// Keyed by content, a block is right whoever wrote it, even if the transaction rolls back
    /// (its bytes then never appear).
    func storeWritten(_ entries: [AnnotationID: HeadEntry], for key: HeadBlockCache.Key) { store(entries, for: key) }
}

/// The cache of one document's writes inside a nested transaction (``CorpusWriter/nested(_:)``)
/// that may yet be undone: blocks read from the store go to the shared cache as usual, but the
/// blocks written here stay in this object, which goes with the document. Undone, they leave
/// nothing behind; kept, the shared cache decodes them when first read.
///
/// Why not the shared cache: a rolled-back document's key is given to the next new document,
/// and its block's bytes could reappear under that key for another document.
final class NestedBlockCache: DecodedBlockCache {
    let shared: HeadBlockCache?
    private var written: [HeadBlockCache.Key: [AnnotationID: HeadEntry]] = [:]

    init(shared: HeadBlockCache?) { self.shared = shared }

    func entries(for key: HeadBlockCache.Key) -> [AnnotationID: HeadEntry]? {
        written[key] ?? shared?.entries(for: key)
    }

    func store(_ entries: [AnnotationID: HeadEntry], for key: HeadBlockCache.Key) {
        shared?.store(entries, for: key)
    }

    func storeWritten(_ entries: [AnnotationID: HeadEntry], for key: HeadBlockCache.Key) {
        written[key] = entries
    }
}
