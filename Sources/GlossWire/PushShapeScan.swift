import GlossModel

/// Counts a push request's op runs and texts in its protobuf bytes, before they are decoded.
///
/// Decoding is where a message grows: an empty `EncodedOps` entry takes 2 bytes on the wire and
/// some 32 in memory, so a 64 MiB push of empty runs would decode to over a gigabyte before any
/// limit could be checked. A run holds at least one op, and a text belongs to a document an op
/// adds, so neither may outnumber ``FieldLimits/opsPerChangeset``: past that the request is
/// refused unread. Repeated occurrences of the push and changeset fields (which protobuf
/// merges) are all counted.
enum PushShapeScan {
    /// `Request.push`, `PushRequest.changeset`, `Changeset.ops`, `Changeset.texts`.
    static let pushField: UInt64 = 6, changesetField: UInt64 = 2, opsField: UInt64 = 7, textsField: UInt64 = 8

    struct Counts { var runs = 0, texts = 0 }

    /// Refuses a request whose push holds more runs or texts than the limit.
    static func check(_ bytes: [UInt8], limit: Int = FieldLimits.v1.opsPerChangeset) throws(WireError) {
        guard let counts = counts(bytes) else { return }  // malformed: the decoder says how
        if counts.runs > limit || counts.texts > limit {
            throw WireError(
                .badMessage,
                "the push holds \(counts.runs) op runs and \(counts.texts) texts; a changeset holds at most \(limit) ops")
        }
    }

    /// Nil when the bytes are not well-formed protobuf.
    static func counts(_ bytes: [UInt8]) -> Counts? {
        var counts = Counts()
        let ok = bytes.withUnsafeBytes { request -> Bool in
            forEachField(request) { number, body in
                guard number == pushField, let push = body else { return true }
                return forEachField(push) { number, body in
                    guard number == changesetField, let changeset = body else { return true }
                    return forEachField(changeset) { number, _ in
                        if number == opsField { counts.runs += 1 }
                        if number == textsField { counts.texts += 1 }
                        return true
                    }
                }
            }
        }
        return ok ? counts : nil
    }

    /// Calls `visit` with each field's number and, for a length-delimited field, its bytes.
    /// False when the bytes are malformed (or `visit` said stop).
    private static func forEachField(
        _ bytes: UnsafeRawBufferPointer, _ visit: (UInt64, UnsafeRawBufferPointer?) -> Bool
    ) -> Bool {
        var index = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.count {
            guard let key = varint() else { return false }
            let number = key >> 3
            var body: UnsafeRawBufferPointer?
            switch key & 7 {
            case 0: guard varint() != nil else { return false }
            case 1: index += 8
            case 5: index += 4
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - index) else { return false }
                body = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + Int(length))])
                index += Int(length)
            default: return false  // groups are not used by this protocol
            }
            guard index <= bytes.count else { return false }
            if !visit(number, body) { return false }
        }
        return true
    }
}
