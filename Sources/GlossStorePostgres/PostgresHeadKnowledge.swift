import GlossModel
import GlossStore

/// What one write transaction knows of the database's rows, so that reads it has already made
/// (or prefetched for a whole batch, ``PostgresCorpusRows/startBatch(of:prefetching:metaKeys:)``)
/// cost no round trip.
///
/// It holds the rows as the database has them, not the writes still waiting in
/// ``PostgresPendingWrites``: reads look there first. It stays exact because only this
/// transaction writes the corpus (the corpus's advisory lock) and every write updates or drops
/// what it changes; a savepoint rolled back drops everything.
final class PostgresHeadKnowledge {
    /// Documents by id (nil: known to have no row).
    var documents: [DocumentID: DocumentRecord?] = [:]
    /// Heads by document key.
    var heads: [Int64: KnownHead] = [:]
    /// Meta values by key (nil: known to have none).
    var meta: [String: [UInt8]?] = [:]

    /// What is known of one document's head rows and block in the database.
    struct KnownHead {
        /// The block as stored (nil: none); meaningful when `blockKnown`.
        var block: HeadBlock?
        var blockKnown = false
        /// How many head rows the document has, if known.
        var rowCount: Int?
        /// Rows known to exist, with their bodies.
        var rows: [AnnotationID: [UInt8]] = [:]
        /// Ids known to have no row.
        var absent: Set<AnnotationID> = []
        /// Every row is in `rows` (after a fold, a clear or a whole scan): any other id has none.
        var complete = false

        /// A row's body, `.some(nil)` when known to be absent, nil when unknown.
        func row(_ id: AnnotationID) -> [UInt8]?? {
            if let body = rows[id] { return .some(body) }
            if complete || absent.contains(id) { return .some(nil) }
            return nil
        }

        /// A head with no rows: after its block was replaced, or the whole head cleared.
        static func folded(into block: HeadBlock?) -> KnownHead {
            KnownHead(block: block, blockKnown: true, rowCount: 0, complete: true)
        }

        /// Every row the database has for the document, read whole.
        mutating func learnedAll(_ stored: [AnnotationID: [UInt8]]) {
            (rows, absent, complete, rowCount) = (stored, [], true, stored.count)
        }

        /// Rows just written: each one new to the database adds to the count, and an id whose
        /// presence was unknown leaves the count unknown.
        mutating func wrote(_ written: [AnnotationID: [UInt8]]) {
            for (id, body) in written {
                switch row(id) {
                case .some(.some): break
                case .some(.none): rowCount? += 1
                case .none: rowCount = nil
                }
                rows[id] = body
                absent.remove(id)
            }
        }
    }

    /// Records what a read of some of a document's rows found: `found` among `asked`.
    func learned(rows found: [AnnotationID: [UInt8]], asked: some Sequence<AnnotationID>, document: Int64) {
        var head = heads[document] ?? KnownHead()
        for id in asked {
            if let body = found[id] {
                head.rows[id] = body
            } else {
                head.absent.insert(id)
            }
        }
        heads[document] = head
    }

    /// After the waiting writes reached the database.
    func absorb(documents written: [DocumentID: DocumentRecord], headRows: [Int64: [AnnotationID: [UInt8]]]) {
        for (id, record) in written { documents[id] = record }
        for (document, rows) in headRows {
            if heads[document] != nil { heads[document]!.wrote(rows) }
        }
    }

    func forget() {
        documents = [:]
        heads = [:]
        meta = [:]
    }
}
