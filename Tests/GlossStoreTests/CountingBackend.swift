import Foundation
import GlossModel
import GlossStore
import GlossTestSupport

/// Wraps a backend and counts the row reads a store makes, to pin down the cost of a check.
final class CountingBackend: CorpusBackend, @unchecked Sendable {
    struct Counts {
        var headEntryReads = 0
        /// Head blocks read (each is one document's whole head).
        var blockReads = 0
        /// Whole-document head row scans, delta and snapshot reads.
        var scans = 0
        /// Batched reads of several annotations' rows, referrers or revisions.
        var batches = 0
        /// The items the batches asked for.
        var batchedItems = 0
    }

    private let observed: ObservedCorpusBackend
    private let lock = NSLock()
    private var _counts = Counts()
    var counts: Counts { lock.withLock { _counts } }

    init(inner: any CorpusBackend) {
        let box = Box()
        observed = ObservedCorpusBackend(inner) { read in box.owner?.count(read) }
        box.owner = self
    }

    func read<T>(_ body: (any CorpusReader) throws -> T) throws -> T { try observed.read(body) }
    func write<T>(_ body: (any CorpusWriter) throws -> T) throws -> T { try observed.write(body) }

    private func count(_ read: ObservedRead) {
        lock.withLock {
            switch read {
            case .headRow: _counts.headEntryReads += 1
            case .headBlock: _counts.blockReads += 1
            case .headRows, .history: _counts.scans += 1
            case .batch(_, let count):
                _counts.batches += 1
                _counts.batchedItems += count
            }
        }
    }

    /// Lets the observer reach the counter it belongs to without a reference cycle.
    private final class Box: @unchecked Sendable {
        weak var owner: CountingBackend?
    }
}
