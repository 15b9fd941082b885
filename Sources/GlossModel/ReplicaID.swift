/// Identifies one replica (a client workspace or an import run) that mints annotation ids.
///
/// Replicas pick their id at random (64 bits), so no coordination is needed; inside an encoded
/// delta a replica id is written once in a table and referenced by a one-byte index.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// A fresh random replica id.
    public static func random() -> ReplicaID {
        var rng = SystemRandomNumberGenerator()
        return random(using: &rng)
    }

    public static func random<G: RandomNumberGenerator>(using rng: inout G) -> ReplicaID {
        ReplicaID(UInt64.random(in: 1...UInt64.max, using: &rng))
    }

    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
