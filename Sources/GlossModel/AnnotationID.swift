/// The id of an annotation: the replica that minted it plus that replica's counter.
///
/// This is the Yjs/Automerge scheme: ids are unique without coordination, and because a
/// replica's counters ascend, a delta encodes an id in one or two bytes instead of sixteen.
/// The textual form (``description``) scrambles the pair bijectively so that short
/// prefixes are unique, like git's abbreviated hashes.
public struct AnnotationID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var replica: ReplicaID
    public var counter: UInt64

    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public static func < (a: AnnotationID, b: AnnotationID) -> Bool {
        (a.replica, a.counter) < (b.replica, b.counter)
    }

    /// 26 lowercase base-32 characters (128 bits, scrambled so that prefixes spread evenly).
    public var description: String {
        let (hi, lo) = IDScrambler.scramble(replica.rawValue, counter)
        return Base32.encode(hi: hi, lo: lo)
    }

    /// Parses the full 26-character textual form.
    public init?(_ text: String) {
        guard let (hi, lo) = Base32.decode(text) else { return nil }
        let (replica, counter) = IDScrambler.unscramble(hi, lo)
        self.init(replica: ReplicaID(replica), counter: counter)
    }
}

/// A bijective 128-bit mix (a four-round Feistel network over two 64-bit halves).
enum IDScrambler {
    private static let keys: [UInt64] = [
        0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB, 0xD6E8_FEB8_6659_FD93,
    ]

    private static func round(_ x: UInt64, _ k: UInt64) -> UInt64 {
        var z = x &+ k
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func scramble(_ a: UInt64, _ b: UInt64) -> (UInt64, UInt64) {
        var (l, r) = (b, a)  // counter first, so ids of one replica differ early in the text
        for k in keys { (l, r) = (r, l ^ round(r, k)) }
        return (l, r)
    }

    static func unscramble(_ hi: UInt64, _ lo: UInt64) -> (UInt64, UInt64) {
        var (l, r) = (hi, lo)
        for k in keys.reversed() { (l, r) = (r ^ round(l, k), l) }
        return (r, l)
    }
}

/// Crockford-style lowercase base-32 for 128-bit values (no padding, 26 characters).
enum Base32 {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    static func encode(hi: UInt64, lo: UInt64) -> String {
        var out = [UInt8](repeating: 0, count: 26)
        var h = hi, l = lo
        for i in stride(from: 25, through: 0, by: -1) {
            out[i] = alphabet[Int(l & 31)]
            l = (l >> 5) | ((h & 31) << 59)
            h >>= 5
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> (UInt64, UInt64)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 26 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, c) in bytes.enumerated() {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            // 26 * 5 = 130 bits: the first character carries only the top 3 of the 128.
            if i == 0 && v > 7 { return nil }
            h = (h << 5) | (l >> 59)
            l = (l << 5) | UInt64(v)
        }
        return (h, l)
    }
}
