import Foundation

/// SplitMix64: a tiny, fast, seedable generator. Every choice the benchmark makes comes from
/// one of these, so a seed reproduces the corpus, the edit stream and therefore the stored bytes.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (Lemire's multiply-shift; the bias is negligible for our n).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// `next() % bound`: slightly biased, but the sequence gloss-text-bench's texts were made with.
    public mutating func int(below bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// One of `items`, by ``int(below:)``.
    public mutating func pick<T>(_ items: [T]) -> T { items[int(below: items.count)] }

    /// Uniform in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) * 0x1p-53 < p }

    /// A fresh generator for an independent stream (so phases do not shift each other).
    public mutating func fork() -> SplitMix64 { SplitMix64(seed: next()) }
}

/// Samples indices `0..<n` with probability proportional to `1 / (rank + offset)^s`.
public struct ZipfSampler: Sendable {
    private let cumulative: [Double]

    public init(count n: Int, exponent s: Double = 1.0, offset: Double = 1.0) {
        var c: [Double] = []
        c.reserveCapacity(n)
        var total = 0.0
        for i in 0..<n {
            total += 1.0 / pow(Double(i) + offset, s)
            c.append(total)
        }
        cumulative = c.map { $0 / total }
    }

    public func sample(_ rng: inout SplitMix64) -> Int {
        let u = Double(rng.next() >> 11) * 0x1p-53
        var lo = 0
        var hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
