import GlossModel

/// Something wrong or lossy in a file another tool wrote (or in what Gloss writes for it): a
/// malformed line, offsets that do not pick out the recorded text, a reference to a missing
/// id, a configuration line Gloss cannot represent.
///
/// Importers and exporters collect problems in their report and never drop one silently; in
/// strict mode the first problem is thrown instead. The code is stable and machine-readable;
/// the message is for people; `file`, `line` and `column` say where (1-based).
public struct FormatProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// Codes of format problems (see the extension below).
    public typealias Code = ErrorCode<FormatProblem>

    /// What went wrong, stable and machine-readable.
    public var code: Code
    /// What went wrong, for people.
    public var message: String
    /// The file the problem is in, as the caller named it (nil when the caller gave no name).
    public var file: String?
    /// 1-based line number, when the problem belongs to one line.
    public var line: Int?
    /// 1-based column (in Unicode scalars) of the offending token within its line, when known.
    public var column: Int?

    /// A problem at a place in a file (all parts of the place optional).
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column: code: message`, leaving out the parts that are unknown.
    public var description: String {
        var location = file ?? ""
        if let line {
            location += (location.isEmpty ? "line " : ":") + "\(line)"
            if let column { location += ":\(column)" }
        }
        return (location.isEmpty ? "" : location + ": ") + "\(code): \(message)"
    }
}

extension ErrorCode where Domain == FormatProblem {
    // Reading files.
    /// The bytes are not valid UTF-8.
    public static let invalidUTF8 = Self(rawValue: "invalid-utf8")
    /// A file could not be read or written.
    public static let fileUnreadable = Self(rawValue: "file-unreadable")
    /// A file or record name that cannot be a Gloss document id.
    public static let invalidDocumentName = Self(rawValue: "invalid-document-name")

    // brat standoff (.ann) lines.
    /// A line that does not follow the syntax of its kind (missing tab, wrong number of fields…).
    public static let malformedLine = Self(rawValue: "malformed-line")
    /// A line whose id starts with a letter brat does not define.
    public static let unknownLineKind = Self(rawValue: "unknown-line-kind")
    /// A second line with an id that an earlier line already uses.
    public static let duplicateID = Self(rawValue: "duplicate-id")
    /// Offsets that are not numbers, or a fragment that ends before it starts.
    public static let invalidOffsets = Self(rawValue: "invalid-offsets")
    /// Offsets beyond the end of the text (in the unit the file uses).
    public static let offsetsOutOfBounds = Self(rawValue: "offsets-out-of-bounds")
    /// Fragments of one discontinuous span that overlap each other.
    public static let overlappingFragments = Self(rawValue: "overlapping-fragments")
    /// The text a `T` line records differs from the text at its offsets.
    public static let textMismatch = Self(rawValue: "text-mismatch")
    /// A reference to an id that no (imported) line defines.
    public static let unknownReference = Self(rawValue: "unknown-reference")
    /// A reference to an annotation of a kind the line cannot point at.
    public static let invalidReference = Self(rawValue: "invalid-reference")
    /// Two attribute lines set the same attribute of the same annotation.
    public static let duplicateAttribute = Self(rawValue: "duplicate-attribute")
    /// One event lists the same role twice.
    public static let duplicateRole = Self(rawValue: "duplicate-role")
    /// An event's type differs from the label of its trigger.
    public static let eventTypeMismatch = Self(rawValue: "event-type-mismatch")

    // Writing brat.
    /// An annotation brat cannot express (a document label, a note on the whole document,
    /// a label or attribute with whitespace…); it is left out of the output.
    public static let unrepresentable = Self(rawValue: "unrepresentable")
    /// An annotation that points at one that is not exported; it is left out of the output.
    public static let danglingReference = Self(rawValue: "dangling-reference")

    // brat configuration (annotation.conf).
    /// A configuration line whose meaning Gloss's schema cannot hold; it was ignored.
    public static let ignoredConfiguration = Self(rawValue: "ignored-configuration")
    /// A configuration line that does not parse.
    public static let malformedConfiguration = Self(rawValue: "malformed-configuration")
}
