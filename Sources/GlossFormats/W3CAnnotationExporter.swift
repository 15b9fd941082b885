import GlossModel

/// Writes each document's annotations as W3C Web Annotations (JSON-LD): one file per
/// document, `<document id>.jsonld`, holding an `AnnotationCollection` whose embedded first
/// `AnnotationPage` lists every annotation in `items`. Each item repeats the `@context`
/// (`http://www.w3.org/ns/anno.jsonld`), so it stands alone (it can be posted to an
/// Annotation Protocol server as is).
///
/// IRIs: a document is `documentBase` + its id (default `urn:gloss:document:news/1`); an
/// annotation is `annotationBase` + its Gloss id (default `urn:gloss:annotation:<26 chars>`);
/// the collection is the document IRI + `/annotations`.
///
/// The mapping (every item has `type: Annotation` and `creator: {nickname: <layer>}`; the
/// owner is not written):
/// - a span: `motivation: tagging`, a `TextualBody` with `purpose: tagging` and the label as
///   `value`, and a target `{source: <document IRI>, selector: [TextPositionSelector,
///   TextQuoteSelector]}`. Positions count Unicode code points, as the model requires; the
///   quote has `exact` and up to ``contextLength`` characters of `prefix` and `suffix`. A
///   discontinuous span has one target per range;
/// - attributes (of spans, relations and document labels): extra bodies
///   `{type: TextualBody, purpose: classifying, value: "name=value"}` (a name containing `=`
///   cannot be written and is reported);
/// - a document label: `motivation: classifying`, a tagging body, and the document IRI as target;
/// - a relation: `motivation: linking`, target = the IRI of its `from` annotation, and bodies
///   = a tagging body with its label (none when empty) plus `{type: SpecificResource,
///   purpose: linking, source: <IRI of its to annotation>}`: the target is what the relation
///   is about, the linking body where it points, so the direction survives (JSON-LD arrays are
///   unordered sets, so two targets would not keep it);
/// - a note: `motivation: commenting`, a `TextualBody` with `purpose: commenting`, targeting
///   the annotated annotation's IRI, or the document IRI for a note on the document.
/// Relations and notes whose targets are not in the export are reported and left out.
public struct W3CAnnotationExporter: Sendable {
    /// The JSON-LD context of Web Annotations.
    public static let context = "http://www.w3.org/ns/anno.jsonld"

    /// Document IRIs are this plus the document id.
    public var documentBase: String
    /// Annotation IRIs are this plus the Gloss annotation id.
    public var annotationBase: String
    /// The default ``annotationBase``; an import takes an IRI in this form as the Gloss id of the annotation.
    public static let defaultAnnotationBase = "urn:gloss:annotation:"
    /// Characters of text before and after a quote in its `prefix` and `suffix`.
    public var contextLength: Int

    /// An exporter; see the properties for the parameters.
    public init(
        documentBase: String = "urn:gloss:document:", annotationBase: String = Self.defaultAnnotationBase,
        contextLength: Int = 32
    ) {
        self.documentBase = documentBase
        self.annotationBase = annotationBase
        self.contextLength = contextLength
    }

    /// One `.jsonld` file per document, in the given order.
    public func export(_ documents: [ExportDocument]) -> FormatExport {
        var problems: [FormatProblem] = []
        let files = documents.map { document -> FormatExport.File in
            let path = "\(document.id.rawValue).jsonld"
            let json = collection(document, file: path, problems: &problems).rendered(pretty: true) + "\n"
            return FormatExport.File(path: path, contents: Array(json.utf8))
        }
        return FormatExport(files: files, problems: problems)
    }

    private func collection(_ document: ExportDocument, file: String, problems: inout [FormatProblem]) -> JSONValue {
        let documentIRI = documentBase + document.id.rawValue
        let source = SourceText(document.text)
        let scalars = Array(document.text.unicodeScalars)
        let exported = Set(document.annotations.map(\.id))
        func problem(_ code: FormatProblem.Code, _ message: String) {
            problems.append(FormatProblem(code, "document \(document.id): \(message)", file: file))
        }

        // Spans in text order, then labels, relations and notes (each after what it points at).
        let order: [AnnotationKind: Int] = [.span: 0, .documentLabel: 1, .relation: 2, .note: 3]
        let sorted = document.annotations.enumerated().sorted { a, b in
            let ka = (order[a.element.kind]!, a.element.ranges.first?.start ?? 0, a.offset)
            let kb = (order[b.element.kind]!, b.element.ranges.first?.start ?? 0, b.offset)
            return ka < kb
        }.map(\.element)

        var items: [JSONValue] = []
        for a in sorted {
            var members: [(String, JSONValue)] = [
                ("@context", .string(Self.context)), ("id", .string(annotationBase + a.id.description)),
                ("type", "Annotation"),
            ]
            var bodies: [JSONValue] = []
            let target: JSONValue
            switch a.kind {
            case .span:
                guard !a.ranges.isEmpty,
                    a.ranges.allSatisfy({ $0.start >= 0 && $0.end <= scalars.count && $0.start <= $0.end })
                else {
                    problem(
                        .offsetsOutOfBounds,
                        "span \(a.label) (\(a.id)) has no ranges or ranges outside the text; left out")
                    continue
                }
                members.append(("motivation", "tagging"))
                bodies.append(Self.textualBody(a.label, purpose: "tagging"))
                let targets = a.ranges.map { r -> JSONValue in
                    let exact = (try? source.text(in: r)) ?? ""
                    var quote: [(String, JSONValue)] = [("type", "TextQuoteSelector"), ("exact", .string(exact))]
                    let before = String(String.UnicodeScalarView(scalars[max(0, r.start - contextLength)..<r.start]))
                    let after = String(
                        String.UnicodeScalarView(scalars[r.end..<min(scalars.count, r.end + contextLength)]))
                    if !before.isEmpty { quote.append(("prefix", .string(before))) }
                    if !after.isEmpty { quote.append(("suffix", .string(after))) }
                    return [
                        "source": .string(documentIRI),
                        "selector": [
                            ["type": "TextPositionSelector", "start": .int(r.start), "end": .int(r.end)],
                            .object(quote),
                        ],
                    ]
                }
                target = targets.count == 1 ? targets[0] : .array(targets)
            case .documentLabel:
                members.append(("motivation", "classifying"))
                bodies.append(Self.textualBody(a.label, purpose: "tagging"))
                target = .string(documentIRI)
            case .relation:
                guard let from = a.from, let to = a.to, exported.contains(from), exported.contains(to) else {
                    problem(
                        .danglingReference,
                        "relation \(a.label) (\(a.id)) points at an annotation not exported; left out")
                    continue
                }
                members.append(("motivation", "linking"))
                if !a.label.isEmpty { bodies.append(Self.textualBody(a.label, purpose: "tagging")) }
                bodies.append(
                    [
                        "type": "SpecificResource", "purpose": "linking",
                        "source": .string(annotationBase + to.description),
                    ])
                target = .string(annotationBase + from.description)
            case .note:
                if let t = a.target, !exported.contains(t) {
                    problem(.danglingReference, "note \(a.id) is attached to an annotation not exported; left out")
                    continue
                }
                members.append(("motivation", "commenting"))
                bodies.append(Self.textualBody(a.text, purpose: "commenting"))
                target = .string(a.target.map { annotationBase + $0.description } ?? documentIRI)
            }
            for (name, value) in a.attributes.sorted(by: { $0.key < $1.key }) {
                guard !name.contains("=") else {
                    problem(.unrepresentable, "attribute \(name) of \(a.id) contains '='; left out")
                    continue
                }
                bodies.append(Self.textualBody("\(name)=\(value)", purpose: "classifying"))
            }
            members.append(("creator", ["nickname": .string(a.layer)]))
            members.append(("body", bodies.count == 1 ? bodies[0] : .array(bodies)))
            members.append(("target", target))
            items.append(.object(members))
        }
        let collectionIRI = documentIRI + "/annotations"
        return [
            "@context": .string(Self.context), "id": .string(collectionIRI), "type": "AnnotationCollection",
            "label": .string(document.id.rawValue), "total": .int(items.count),
            "first": [
                "id": .string(collectionIRI + "/page1"), "type": "AnnotationPage", "startIndex": 0,
                "items": .array(items),
            ],
        ]
    }

    private static func textualBody(_ value: String, purpose: String) -> JSONValue {
        ["type": "TextualBody", "purpose": .string(purpose), "value": .string(value)]
    }
}
