import GlossModel

/// A parsed CoNLL file: documents of sentences of tokens, with line numbers.
struct CoNLLFile {
    struct Token {
        var text: String
        var tag: CoNLLTag
        var tagText: String
        var line: Int
    }

    struct Document {
        var sentences: [[Token]]
        /// The line of the first token.
        var line: Int
    }

    var documents: [Document] = []

    init(_ contents: String, log: inout ProblemLog) {
        var sentences: [[Token]] = []
        var sentence: [Token] = []
        func endSentence() {
            if !sentence.isEmpty { sentences.append(sentence) }
            sentence = []
        }
        func endDocument(_ documents: inout [Document]) {
            endSentence()
            if let line = sentences.first?.first?.line { documents.append(Document(sentences: sentences, line: line)) }
            sentences = []
        }
        var lineNumber = 0
        for rawLine in contents.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let fields: [String] =
                line.contains("\t")
                ? line.split(separator: "\t").map { trimmedWhitespace(String($0)) }.filter { !$0.isEmpty }
                : line.split(whereSeparator: { $0 == " " }).map(String.init)
            guard let token = fields.first else {
                endSentence()
                continue
            }
            if token == "-DOCSTART-" {
                endDocument(&documents)
                continue
            }
            var tagText = fields.count >= 2 ? fields[fields.count - 1] : "O"
            if fields.count < 2 {
                log.add(.malformedLine, "token \"\(token)\" has no tag column; it is read as O", line: lineNumber)
            }
            var tag = CoNLLTag(tagText)
            if tag == nil {
                log.add(.invalidTag, "tag \(tagText) has no entity type; it is read as O", line: lineNumber)
                tagText = "O"
                tag = .outside
            }
            sentence.append(Token(text: token, tag: tag!, tagText: tagText, line: lineNumber))
        }
        endDocument(&documents)
    }

    /// A text from the tokens (single spaces, a line per sentence) and each token's range in it.
    static func rebuild(_ doc: Document) -> (String, [TextRange?]) {
        var text = ""
        var ranges: [TextRange?] = []
        var offset = 0
        for (s, sentence) in doc.sentences.enumerated() {
            if s > 0 {
                text += "\n"
                offset += 1
            }
            for (t, token) in sentence.enumerated() {
                if t > 0 {
                    text += " "
                    offset += 1
                }
                let length = token.text.unicodeScalars.count
                ranges.append(TextRange(offset, offset + length))
                text += token.text
                offset += length
            }
        }
        return (text, ranges)
    }

    /// How a token may appear in a text: as written, or unescaped (Penn Treebank brackets and quotes).
    static func forms(of token: String) -> [[Unicode.Scalar]] {
        ([token] + (escapes[token] ?? [])).map { Array($0.unicodeScalars) }
    }

    /// Built once: `forms(of:)` runs for every token of an import.
    private static let escapes: [String: [String]] = [
        "-LRB-": ["("], "-RRB-": [")"], "-LSB-": ["["], "-RSB-": ["]"], "-LCB-": ["{"], "-RCB-": ["}"],
        "``": ["\"", "\u{201C}"], "''": ["\"", "\u{201D}"],
    ]

    /// The scheme of the file's tags and, for a file mixing IOB1 and IOB2 starts, the minority.
    static func detect(_ documents: [Document]) -> (
        scheme: CoNLLTagScheme?, mixed: (prefix: String, count: Int, line: Int)?
    ) {
        var iStarts = (count: 0, line: 0)
        var bStarts = (count: 0, line: 0)
        var anyB = false
        var bare = false
        var ends = false
        for doc in documents {
            for sentence in doc.sentences {
                var previous = CoNLLTag.outside
                for token in sentence {
                    let tag = token.tag
                    defer { previous = tag }
                    guard let type = tag.type else { continue }
                    let continues = previous.type == type
                    switch tag.prefix {
                    case "E", "S", "L", "U": ends = true
                    case "B":
                        anyB = true
                        if !continues {
                            if bStarts.count == 0 { bStarts.line = token.line }
                            bStarts.count += 1
                        }
                    case "I":
                        if !continues {
                            if iStarts.count == 0 { iStarts.line = token.line }
                            iStarts.count += 1
                        }
                    default: bare = true
                    }
                }
            }
        }
        if ends { return (.bioes, nil) }
        if iStarts.count > 0 && bStarts.count > 0 {
            return iStarts.count >= bStarts.count
                ? (.iob1, ("B", bStarts.count, bStarts.line)) : (.iob2, ("I", iStarts.count, iStarts.line))
        }
        if iStarts.count > 0 { return (.iob1, nil) }
        if anyB { return (.iob2, nil) }
        return (bare ? .io : nil, nil)
    }
}
