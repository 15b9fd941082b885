/// SplitMix64: tiny, fast, and fully determined by its seed, so property-test failures reproduce.
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

    /// A value in `0..<bound`. Its own modulo rather than the standard library's bounded
    /// sampling, whose algorithm may change between toolchains and break reproducibility.
    public mutating func int(below bound: Int) -> Int { Int(next() % UInt64(bound)) }

    public mutating func chance(_ percent: Int) -> Bool { int(below: 100) < percent }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(below: items.count)] }
}
