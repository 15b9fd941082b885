/// How token tags in a CoNLL file mark where entities begin and end.
public enum CoNLLTagScheme: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// CoNLL-2003's original scheme: entities are `I-X`; `B-X` only starts an entity that
    /// directly follows another entity of the same type.
    case iob1
    /// Every entity starts with `B-X`, later tokens are `I-X` (also called BIO).
    case iob2
    /// `B-X` … `I-X` … `E-X` for entities of several tokens, `S-X` for one token (also
    /// IOBES; BILOU's `L-`/`U-` read the same).
    case bioes
    /// Bare types without prefixes (`PER`): adjacent entities of one type cannot be told apart.
    case io

    public var description: String {
        switch self {
        case .iob1: "IOB1"
        case .iob2: "IOB2"
        case .bioes: "BIOES"
        case .io: "IO"
        }
    }
}

/// One token tag, parsed: `O`, or a prefix (`B`, `I`, `E`, `S`, `L`, `U`; nil for a bare
/// IO type) and an entity type.
struct CoNLLTag: Hashable, Sendable {
    var prefix: Character?
    /// The entity type; nil for `O`.
    var type: String?

    static let outside = CoNLLTag(prefix: nil, type: nil)

    /// Parses a tag; nil when it has a prefix but no type (`B-`).
    init?(_ text: String) {
        if text == "O" {
            self = .outside
            return
        }
        let scalars = Array(text.unicodeScalars)
        if scalars.count >= 2, "BIESLU".unicodeScalars.contains(scalars[0]), scalars[1] == "-" || scalars[1] == "_" {
            let type = String(String.UnicodeScalarView(scalars.dropFirst(2)))
            guard !type.isEmpty else { return nil }
            self.init(prefix: Character(scalars[0]), type: type)
        } else if text.isEmpty || text == "B" || text == "I" || text == "E" || text == "S" {
            return nil
        } else {
            self.init(prefix: nil, type: text)
        }
    }

    init(prefix: Character?, type: String?) {
        self.prefix = prefix
        self.type = type
    }
}
