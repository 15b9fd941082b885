import GlossModel

// Helpers that the doccano, Label Studio, CoNLL and W3C formats share: naming documents,
// collecting problems, decoding bytes and summarising what an export leaves out.

/// What an export could not write for one document, counted by kind and reported once.
struct Omissions {
    private var counts: [(what: String, count: Int)] = []

    mutating func add(_ what: String, _ n: Int = 1) {
        guard n > 0 else { return }
        if let i = counts.firstIndex(where: { $0.what == what }) {
            counts[i].count += n
        } else {
            counts.append((what, n))
        }
    }

    /// One `unrepresentable` problem listing everything left out of `document`, or nil.
    func problem(document: DocumentID, format: String, file: String?) -> FormatProblem? {
        guard !counts.isEmpty else { return nil }
        let list = counts.map { "\($0.count) \($0.what)" }.joined(separator: ", ")
        return FormatProblem(
            .unrepresentable, "document \(document): \(list) have no \(format) form; left out", file: file)
    }
}

/// File text from bytes: UTF-8 (a leading byte-order mark is dropped), or the fatal
/// `invalid-utf8` problem.
func decodeUTF8(_ bytes: some Collection<UInt8>, file: String?) throws(FormatProblem) -> String {
    var slice = Array(bytes)[...]
    if slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
    do throws(ValidationError) {
        return try Document.text(fromUTF8: slice)
    } catch {
        throw FormatProblem(.invalidUTF8, error.message, file: file)
    }
}

/// A text shortened for messages.
func abbreviated(_ s: String, _ limit: Int = 60) -> String {
    let scalars = s.unicodeScalars
    guard scalars.count > limit else { return s }
    return String(String.UnicodeScalarView(scalars.prefix(limit - 1))) + "…"
}

/// Whether a scalar is whitespace (for trimming recorded span texts and tokenizing).
func isWhitespaceScalar(_ u: Unicode.Scalar) -> Bool { u.properties.isWhitespace }

/// The text without leading and trailing whitespace.
func trimmedWhitespace(_ s: String) -> String {
    let scalars = Array(s.unicodeScalars)
    guard let first = scalars.firstIndex(where: { !isWhitespaceScalar($0) }),
        let last = scalars.lastIndex(where: { !isWhitespaceScalar($0) })
    else { return "" }
    return String(String.UnicodeScalarView(scalars[first...last]))
}

extension ErrorCode where Domain == FormatProblem {
    // Records of JSON-based formats (doccano, Label Studio, W3C).
    /// A record lacks a field it needs (a text, offsets, a label); the record or item is skipped.
    public static let missingField = Self(rawValue: "missing-field")
    /// A record or item whose shape the format does not allow (a string where an object belongs…).
    public static let invalidRecord = Self(rawValue: "invalid-record")
    /// Content the format allows but Gloss does not import (an image region, a rating…); skipped.
    public static let unsupportedContent = Self(rawValue: "unsupported-content")
    /// The same span (label and offsets) twice from one annotator; the copy is skipped.
    public static let duplicateAnnotation = Self(rawValue: "duplicate-annotation")

    // Document naming.
    // `invalidDocumentName` (a name that gives no valid document id) is declared with the
    // common codes in FormatProblem.swift.
    /// Two documents whose names give the same id; the later one gets a numbered suffix.
    public static let duplicateDocument = Self(rawValue: "duplicate-document")
}
