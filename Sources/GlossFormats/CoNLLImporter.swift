import GlossModel

/// Reads CoNLL-style token-per-line files (CoNLL-2003 NER and its relatives) into Gloss
/// documents with spans.
///
/// The layout: one token per line with its tag in the last column (columns separated by tabs,
/// or else by spaces; the token is the first column), a blank line between sentences, and a
/// `-DOCSTART-` line between documents. Empty documents (a `-DOCSTART-` at the start or end
/// of the file) are dropped.
///
/// Tags: IOB1, IOB2, BIOES (and BILOU) and bare IO types are read alike: `B-`/`S-`/`U-`
/// start an entity, `I-` (or a bare type) continues one of its type or else starts one,
/// `E-`/`L-` end one. The scheme is detected per file (``detectScheme(_:)``); a file that
/// mixes IOB1 and IOB2 starts is reported once. With ``scheme`` set, every tag that breaks
/// that scheme is reported.
///
/// Texts: given a document's text, tokens are aligned to it in order, skipping whitespace
/// (and `-LRB-`-style escapes and ```` `` ````/`''` quotes match their characters); text the
/// tokens skip over, and tokens not found within the next 2,000 characters, are reported with
/// their lines. Without a text, it is rebuilt: tokens joined by single spaces, sentences by
/// line breaks (no final line break). Documents are named after the file: its stem alone for a
/// file with one document, else the stem plus a zero-padded number (`wikigold-001`).
public struct CoNLLImporter: Sendable {
    /// Owner, layer and strictness (the offset unit does not apply).
    public var options: ImportOptions
    /// The scheme the file must follow; nil detects it and accepts any.
    public var scheme: CoNLLTagScheme?
    /// The prefix of document names; nil uses the file's stem.
    public var documentPrefix: String?

    /// An importer; see the properties for the parameters.
    public init(options: ImportOptions, scheme: CoNLLTagScheme? = nil, documentPrefix: String? = nil) {
        self.options = options
        self.scheme = scheme
        self.documentPrefix = documentPrefix
    }

    /// Imports one file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents (UTF-8).
    ///   - file: the name problems carry and document names derive from.
    ///   - texts: the text of each document, in file order; nil rebuilds every text from its tokens.
    ///   - mintID: makes a fresh Gloss id for each span.
    /// - Throws: `invalid-utf8` when the file is not UTF-8; in strict mode, the first problem.
    public func importFile(
        _ bytes: some Collection<UInt8>, file: String? = nil, texts: [String]? = nil, mintID: () -> AnnotationID
    ) throws(FormatProblem) -> FormatImport {
        let contents = try decodeUTF8(bytes, file: file)
        var log = ProblemLog(file: file)
        let parsed = CoNLLFile(contents, log: &log)
        let detection = CoNLLFile.detect(parsed.documents)
        if scheme == nil, let mixed = detection.mixed {
            log.add(
                .mixedTagScheme,
                "the tags mix schemes: \(mixed.count) entities start with \(mixed.prefix)- although the file reads as "
                    + "\(detection.scheme.map(\.description) ?? "?"); they are read as entity starts",
                line: mixed.line)
        }
        if let texts, texts.count != parsed.documents.count {
            log.add(
                .missingText,
                "the file holds \(parsed.documents.count) documents but \(texts.count) texts were given; "
                    + (texts.count < parsed.documents.count
                        ? "the texts of the others are rebuilt from their tokens" : "the extra texts are ignored"))
        }
        let prefix = documentPrefix ?? DocumentNaming.stem(of: file, fallback: "conll")
        let width = String(parsed.documents.count).count
        var naming = DocumentNaming()
        var documents: [ImportedDocument] = []
        for (n, doc) in parsed.documents.enumerated() {
            let number = String(repeating: "0", count: width - String(n + 1).count) + String(n + 1)
            let (id, _) = naming.claim(nil, fallback: parsed.documents.count == 1 ? prefix : "\(prefix)-\(number)")
            let given = texts.flatMap { n < $0.count ? $0[n] : nil }
            let (text, ranges) =
                given.map { align(doc, to: $0, document: id, log: &log) } ?? CoNLLFile.rebuild(doc)
            var annotations: [Annotation] = []
            for entity in decode(doc, log: &log) {
                let covered = ranges[entity.first...entity.last].compactMap { $0 }
                guard let first = covered.first, let last = covered.last else {
                    log.add(
                        .tokenMisaligned,
                        "document \(id): entity \(entity.type) has no token found in the text; not imported",
                        line: entity.line)
                    continue
                }
                annotations.append(
                    Annotation.span(
                        mintID(), in: id, [TextRange(first.start, last.end)], label: entity.type,
                        owner: options.owner, layer: options.layer))
            }
            documents.append(
                ImportedDocument(
                    id: id, text: text, annotations: annotations, offsetUnit: nil,
                    source: "\(file ?? "conll"):\(doc.line)"))
        }
        return try log.finish(documents, strict: options.strict)
    }

    /// The tag scheme a file uses, judged by how its entities start; nil when it has no
    /// entities (or is not UTF-8). A file mixing IOB1 and IOB2 starts gets the majority.
    public static func detectScheme(_ bytes: some Collection<UInt8>) -> CoNLLTagScheme? {
        guard let contents = try? decodeUTF8(bytes, file: nil) else { return nil }
        var log = ProblemLog(file: nil)
        return CoNLLFile.detect(CoNLLFile(contents, log: &log).documents).scheme
    }

    // MARK: - Entities

    struct Entity {
        var type: String
        /// Token indices within the document, inclusive.
        var first: Int
        var last: Int
        var line: Int
    }

    /// The entities of a document; with a required ``scheme``, tags that break it are reported.
    private func decode(_ doc: CoNLLFile.Document, log: inout ProblemLog) -> [Entity] {
        var entities: [Entity] = []
        var index = 0
        for sentence in doc.sentences {
            var open: Entity?
            var previous = CoNLLTag.outside
            func close() {
                if let e = open { entities.append(e) }
                open = nil
            }
            for token in sentence {
                let tag = token.tag
                defer {
                    previous = tag
                    index += 1
                }
                guard let type = tag.type else {
                    close()
                    continue
                }
                let continues = open?.type == type
                switch tag.prefix {
                case "B":
                    if let scheme, scheme == .iob1, previous.type != type {
                        report(
                            token,
                            "B- starts an entity after a token of another type; IOB1 uses B- only "
                                + "between two adjacent entities of one type", log: &log)
                    }
                    close()
                    open = Entity(type: type, first: index, last: index, line: token.line)
                case "E", "L":
                    if continues {
                        open!.last = index
                    } else {
                        if scheme != nil {
                            report(token, "\(tag.prefix!)- ends an entity that did not begin", log: &log)
                        }
                        close()
                        open = Entity(type: type, first: index, last: index, line: token.line)
                    }
                    close()
                case "S", "U":
                    close()
                    open = Entity(type: type, first: index, last: index, line: token.line)
                    close()
                default:  // I- or a bare IO type
                    if continues {
                        open!.last = index
                    } else {
                        if let scheme, scheme == .iob2 || scheme == .bioes {
                            report(token, "I- starts an entity; \(scheme) starts entities with B-", log: &log)
                        }
                        close()
                        open = Entity(type: type, first: index, last: index, line: token.line)
                    }
                }
            }
            close()
        }
        return entities
    }

    private func report(_ token: CoNLLFile.Token, _ message: String, log: inout ProblemLog) {
        log.add(.invalidTag, "tag \(token.tagText): \(message)", line: token.line)
    }

    // MARK: - Alignment

    /// Where each token of the document lies in `text` (nil: not found).
    private func align(
        _ doc: CoNLLFile.Document, to text: String, document: DocumentID, log: inout ProblemLog
    ) -> (String, [TextRange?]) {
        let scalars = Array(text.unicodeScalars)
        var ranges: [TextRange?] = []
        var position = 0
        for token in doc.sentences.joined() {
            while position < scalars.count, isWhitespaceScalar(scalars[position]) { position += 1 }
            let forms = CoNLLFile.forms(of: token.text)
            if let form = forms.first(where: { Self.matches($0, scalars, at: position) }) {
                ranges.append(TextRange(position, position + form.count))
                position += form.count
                continue
            }
            let window = min(scalars.count, position + Self.searchWindow)
            var found: (at: Int, length: Int)?
            search: for start in position..<max(position, window) {
                for form in forms where Self.matches(form, scalars, at: start) {
                    found = (start, form.count)
                    break search
                }
            }
            if let found {
                let skipped = trimmedWhitespace(String(String.UnicodeScalarView(scalars[position..<found.at])))
                log.add(
                    .tokenMisaligned,
                    "document \(document): token \"\(token.text)\" is preceded in the text by \""
                        + "\(abbreviated(skipped))\", which no token covers", line: token.line)
                ranges.append(TextRange(found.at, found.at + found.length))
                position = found.at + found.length
            } else {
                log.add(
                    .tokenMisaligned,
                    "document \(document): token \"\(token.text)\" is not found in the text at scalar \(position) "
                        + "or in the \(Self.searchWindow) characters after it; its tag is ignored", line: token.line)
                ranges.append(nil)
            }
        }
        return (text, ranges)
    }

    /// How far ahead a token that is not next in the text is looked for.
    static let searchWindow = 2000

    private static func matches(_ form: [Unicode.Scalar], _ scalars: [Unicode.Scalar], at position: Int) -> Bool {
        guard !form.isEmpty, position + form.count <= scalars.count else { return false }
        for (i, u) in form.enumerated() where scalars[position + i] != u { return false }
        return true
    }
}

extension ErrorCode where Domain == FormatProblem {
    /// A tag that is not `O` or `<prefix>-<type>`, or that breaks the required tag scheme.
    public static let invalidTag = Self(rawValue: "invalid-tag")
    /// A file whose entities start in the ways of two schemes (IOB1 and IOB2).
    public static let mixedTagScheme = Self(rawValue: "mixed-tag-scheme")
    /// A token that does not line up with the document text, or text that no token covers.
    public static let tokenMisaligned = Self(rawValue: "token-misaligned")
    /// A document whose text the import needs but was not given (or texts for no document).
    public static let missingText = Self(rawValue: "missing-text")
}
