import GlossModel


/// The bytes of one fuzz input, read from the front: a few leading bytes choose a mode, the
/// rest is the input proper. Reading past the end gives zeros, so every input is usable.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Everything not read yet.
    public var rest: ArraySlice<UInt8> { bytes[min(offset, bytes.count)...] }

    /// The rest split at its first NUL byte: what comes before it and what comes after
    /// (empty when there is none). Two-part inputs (a text and its annotations) use it.
    public var restSplitAtNUL: (first: ArraySlice<UInt8>, second: ArraySlice<UInt8>) {
        let rest = self.rest
        guard let nul = rest.firstIndex(of: 0) else { return (rest, []) }
        return (rest[..<nul], rest[(nul + 1)...])
    }
}

/// Fails the run (a libFuzzer crash) when an invariant does not hold: a decoder that accepts
/// its input must agree with its own encoder.
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    if !condition() { fatalError("fuzz invariant: \(message())", file: file, line: line) }
}

/// Mints annotation ids for importers: deterministic, so a crash reproduces.
public final class IDMinter {
    private var counter: UInt64 = 0
    public init() {}
    public func next() -> AnnotationID {
        counter += 1
        return AnnotationID(replica: ReplicaID(0x6675_7a7a), counter: counter)
    }
}

/// The document every decoder's output is attributed to.
public let fuzzDocument = DocumentID(storedRawValue: "fuzz/doc")

/// What every importer promises of what it imports (``ImportedDocument``): offsets are
/// scalar ranges inside the text, and every annotation comes after the ones it points at.
public func checkImported(text: String, annotations: [Annotation], format: String) {
    let length = text.unicodeScalars.count
    var seen: Set<AnnotationID> = []
    for a in annotations {
        for r in a.ranges {
            fuzzCheck(
                0 <= r.start && r.start <= r.end && r.end <= length,
                "\(format) imported the range \(r) over a text of \(length) scalars")
        }
        for reference in a.references {
            fuzzCheck(seen.contains(reference), "\(format) imported \(a.id) before \(reference), which it points at")
        }
        seen.insert(a.id)
    }
}

/// The input bytes as a string when they are UTF-8: most text parsers take strings.
public func utf8String(_ bytes: ArraySlice<UInt8>) -> String? { String(validating: bytes, as: UTF8.self) }
