/// A document's id: a path-like slug such as `news/2023-01-18`, unique within a corpus.
public struct DocumentID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    /// Validates the slug: 1–255 bytes of `A–Z a–z 0–9 . _ - /`, no empty, `.` or `..` segment.
    public init(validating rawValue: String) throws(ValidationError) {
        if let problem = DocumentID.problem(with: rawValue) {
            throw ValidationError(.invalidDocumentID, "document id \"\(rawValue)\" \(problem)")
        }
        self.rawValue = rawValue
    }

    /// For literals in code and tests; traps on an invalid slug.
    public init(stringLiteral value: String) {
        precondition(DocumentID.problem(with: value) == nil, "invalid document id literal \(value)")
        self.rawValue = value
    }

    /// Unchecked: for ids read back from a store that validated them on the way in.
    public init(storedRawValue: String) { self.rawValue = storedRawValue }

    public var description: String { rawValue }
    public static func < (a: DocumentID, b: DocumentID) -> Bool { a.rawValue < b.rawValue }

    static func problem(with s: String) -> String? {
        let bytes = Array(s.utf8)
        if bytes.isEmpty { return "is empty" }
        if bytes.count > 255 { return "is longer than 255 bytes" }
        for b in bytes {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2E || b == 0x5F || b == 0x2D || b == 0x2F
            if !ok { return "contains \"\(Unicode.Scalar(b))\"; use letters, digits, '.', '_', '-' and '/'" }
        }
        for segment in s.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "has an empty path segment" }
            if segment == "." || segment == ".." { return "has a \"\(segment)\" path segment" }
        }
        return nil
    }
}
