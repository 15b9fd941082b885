import Crypto

/// A document's identity and stored facts. The text itself is content-addressed by
/// ``TextDigest`` and kept once, however many documents or revisions use it.
public struct Document: Hashable, Sendable {
    public var id: DocumentID
    public var digest: TextDigest
    /// Length in Unicode scalars: the bound for span offsets.
    public var length: Int
    public var metadata: [String: String]

    public init(id: DocumentID, digest: TextDigest, length: Int, metadata: [String: String] = [:]) {
        self.id = id
        self.digest = digest
        self.length = length
        self.metadata = metadata
    }

    /// Describes a text, hashing and measuring it.
    public init(id: DocumentID, text: String, metadata: [String: String] = [:]) {
        self.init(id: id, digest: TextDigest(of: text), length: text.unicodeScalars.count, metadata: metadata)
    }

    /// Decodes a text from bytes, refusing invalid UTF-8 with the byte offset of the first bad sequence.
    public static func text(fromUTF8 bytes: some Collection<UInt8>, document: DocumentID? = nil) throws(ValidationError)
        -> String
    {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Walk sequence by sequence to name the first bad byte.
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let lead = buffer[offset]
            let width =
                lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            if width == 0 || offset + width > buffer.count
                || String(validating: buffer[offset..<offset + width], as: UTF8.self) == nil
            {
                break
            }
            offset += width
        }
        throw ValidationError(
            .invalidUTF8, "text is not valid UTF-8 at byte \(offset)", document: document)
    }
}

/// SHA-256 of a text's UTF-8 bytes: the text's address in the store.
public struct TextDigest: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(of text: String) {
        bytes = Array(SHA256.hash(data: Array(text.utf8)))
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.bytes = Array(bytes)
    }

    /// `sha256:` followed by 64 hex digits.
    public var description: String { "sha256:" + hex }

    /// 64 lowercase hex digits.
    public var hex: String { bytes.map { String(format2: $0) }.joined() }

    /// A digest from 64 hex digits (either case), with or without the `sha256:` prefix.
    public init?(hex text: String) {
        let digits = Array((text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text).utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for i in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }
}
