/// When to start a new snapshot of a document, bounding the work of reconstruction.
///
/// Like git (depth 50) and Mercurial (a delta chain may not outgrow twice the full text):
/// a snapshot is taken once the chain since the last base reaches ``maxChainLength`` deltas,
/// or once their compressed bytes exceed ``maxChainRatio`` times the base's.
public struct SnapshotPolicy: Hashable, Sendable {
    public var maxChainLength: Int
    public var maxChainRatio: Int
    /// Chains smaller than this never trigger the bytes rule (tiny documents).
    public var minimumChainBytes: Int

    public init(maxChainLength: Int = 50, maxChainRatio: Int = 2, minimumChainBytes: Int = 512) {
        self.maxChainLength = maxChainLength
        self.maxChainRatio = maxChainRatio
        self.minimumChainBytes = minimumChainBytes
    }

    public static let `default` = SnapshotPolicy()

    public func needsSnapshot(_ record: DocumentRecord) -> Bool {
        if record.chainLength >= maxChainLength { return true }
        return record.chainBytes > max(minimumChainBytes, maxChainRatio * record.baseBytes)
    }
}
