import GlossModel
import Synchronization

/// Decoded head blocks, so that a document's block is inflated and decoded once rather than
/// at every push that touches it.
///
/// Keyed by the block's content (its document, lengths and a 64-bit hash of its bytes), so a
/// hit is right whoever wrote the block: across transactions, a rollback, or another process
/// writing the same file. A read still fetches the block's bytes; the cache saves the inflate
/// and the decode, which cost far more. Least recently used blocks go once the entries held
/// pass ``capacity``.
final class HeadBlockCache: Sendable {
    struct Key: Hashable {
        var document: Int64
        var rawLength: Int
        var size: Int
        var hash: Int

        init(document: Int64, block: HeadBlock) {
            var hasher = Hasher()
            block.data.withUnsafeBytes { hasher.combine(bytes: $0) }
            self.document = document
            rawLength = block.rawLength
            size = block.data.count
            hash = hasher.finalize()
        }
    }

    private struct Slot {
        var entries: [AnnotationID: HeadEntry]
        var used: Int
    }

    private struct State {
        var slots: [Key: Slot] = [:]
        var held = 0
        var clock = 0
    }

    /// Entries held at most, over all blocks (about 1 KB each, decoded).
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks and entries held now.
    var held: (blocks: Int, entries: Int) { state.withLock { ($0.slots.count, $0.held) } }

    func entries(for key: Key) -> [AnnotationID: HeadEntry]? {
        state.withLock { state in
            guard state.slots[key] != nil else { return nil }
            state.clock += 1
            state.slots[key]!.used = state.clock
            return state.slots[key]!.entries
        }
    }

    func store(_ entries: [AnnotationID: HeadEntry], for key: Key) {
        guard entries.count <= capacity else { return }
        state.withLock { state in
            state.clock += 1
            if let old = state.slots.updateValue(Slot(entries: entries, used: state.clock), forKey: key) {
                state.held -= old.entries.count
            }
            state.held += entries.count
            while state.held > capacity, let oldest = state.slots.min(by: { $0.value.used < $1.value.used }) {
                state.slots[oldest.key] = nil
                state.held -= oldest.value.entries.count
            }
        }
    }
}
