import Synchronization

/// A number of bytes shared by every connection of a server: what all their unfinished
/// messages may hold together (`limits.max_buffered_bytes`).
public final class SharedByteBudget: AssemblyBudget {
    public let total: Int
    private let used = Atomic<Int>(0)

    public init(total: Int) { self.total = total }

    /// Bytes reserved now.
    public var inUse: Int { used.load(ordering: .relaxed) }

    public func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= total else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    public func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .relaxed)
    }
}

/// The frame payload a decoder accepts, changed while it runs: small until the peer is
/// authenticated, so an unauthenticated peer cannot make the decoder buffer a large frame.
public final class FramePayloadCap: Sendable {
    private let value: Atomic<Int>

    public init(_ bytes: Int) { value = Atomic(bytes) }

    public var bytes: Int { value.load(ordering: .acquiring) }

    public func set(_ bytes: Int) { value.store(bytes, ordering: .releasing) }
}
