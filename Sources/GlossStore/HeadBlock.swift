import GlossModel

/// A document's head entries folded into one compressed block (``HeadBlockCodec``, deflated).
///
/// A store keeps each document's head as its block plus the rows changed since the block was
/// written; ``DocumentHead`` reads the two together and folds the rows in when they grow.
public struct HeadBlock: Hashable, Sendable {
    /// How many entries the block holds (live and tombstones).
    public var entries: Int
    /// The length of the encoded block before deflate.
    public var rawLength: Int
    /// The deflated block.
    public var data: [UInt8]

    public init(entries: Int, rawLength: Int, data: [UInt8]) {
        self.entries = entries
        self.rawLength = rawLength
        self.data = data
    }
}
