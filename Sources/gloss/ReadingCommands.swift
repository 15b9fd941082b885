import ArgumentParser
import Foundation
import GlossClient
import GlossFormats
import GlossModel

struct Docs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "List the documents: id, length in code points, annotations, layers.",
        discussion: "Example: gloss docs --json | jq -r .id")
    @Flag(help: "JSON Lines for scripts.") var json = false

    struct Row: Encodable {
        var id: String
        var length: Int
        var annotations: Int
        var layers: [String]
        var digest: String
    }

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            // Counts, not states: a workspace of any size lists its documents without decoding them.
            for summary in try w.documentSummaries() {
                let document = summary.document
                let row = Row(
                    id: document.id.rawValue, length: document.length, annotations: summary.annotations,
                    layers: summary.layers, digest: document.digest.description)
                if json {
                    try printJSON(row)
                } else {
                    say("\(row.id)\t\(row.length) chars\t\(row.annotations) annotation(s)\t\(row.layers.joined(separator: ","))")
                }
            }
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a document with its annotations.",
        discussion: HelpText.reflow(
            """
            On a terminal, spans are coloured by label with a legend below; piped, the text comes in
            inline markup ([text](LABEL), see Docs/inline-markup.md), which `gloss edit` also uses.
            Examples:
              gloss show news-1
              gloss show news-1 --at 12 --layer alice
              gloss show news-1 --label PER --label ORG
              gloss show news-1 --span 33ee
              gloss show news-1 --json | jq '.annotations | length'
            """))
    @Argument(help: "The document id.") var document: String
    @Option(help: "Show it as it was at this revision (default: your working state).") var at: Int?
    @OptionGroup var filter: AnnotationFilter
    @Option(help: "Only the lines around this span (an id or unique prefix), with its text marked.") var span: String?
    @Option(help: "Lines of context around --span.") var context = 2
    @Flag(help: "One JSON object: the text and the annotations.") var json = false
    @Flag(help: "Inline markup even on a terminal.") var markup = false

    struct Output: Encodable {
        var document: String
        var revision: Int?
        var text: String
        var annotations: [AnnotationJSON]
    }

    @Flag(help: "Print straight to the terminal, without a pager.") var noPager = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            Pager.start(disabled: noPager || json || !Terminal.stdoutIsTerminal)
            let id = try knownDocument(w, document)
            let state = try w.state(of: id, at: at)
            guard let doc = state.document else {
                throw WorkspaceError(
                    .unknownDocument,
                    "no document \(document)" + (at.map { " at revision \($0)" } ?? "") + "; `gloss docs` lists them")
            }
            let text = try w.text(of: doc)
            try filter.check(against: state.annotations.values, user: w.config.user)
            let annotations = state.sortedAnnotations.filter(filter.matches)
            if let span {
                let target = try w.annotation(prefix: span)
                guard target.document == id, !target.ranges.isEmpty else {
                    throw WorkspaceError(.unknownAnnotation, "\(span) is not a span of \(id)")
                }
                say(SpanContext(text: text, span: target, lines: context, colors: Terminal.colorsStdout).render())
                return
            }
            if json {
                let index = TextIndex(text)
                try printJSON(
                    Output(
                        document: id.rawValue, revision: at, text: text,
                        annotations: annotations.sorted(by: Annotations.order).map {
                            AnnotationJSON($0, covered: AnnotationJSON.covered($0, in: index))
                        }))
            } else if Terminal.colorsStdout && !markup {
                print(ColoredDocument(text: text, annotations: annotations).render(), terminator: "")
            } else {
                print(InlineMarkupRenderer(schema: try w.replica.schema()).render(text: text, annotations: annotations), terminator: "")
            }
        }
    }
}

/// A document for the terminal: spans coloured by label (the innermost span wins where they
/// nest), then document labels, relations and notes, and a legend of the labels' colours.
struct ColoredDocument {
    let text: String
    let annotations: [Annotation]

    func render() -> String {
        let spans = annotations.filter { $0.kind == .span }
        let colors = LabelColors.assign(spans.map(\.label))
        let scalars = Array(text.unicodeScalars)
        // The innermost (shortest) span covering each position decides its colour.
        var owner = [Int](repeating: -1, count: scalars.count)
        var length = [Int](repeating: .max, count: scalars.count)
        // Each span's label is named, dimmed, right after its last range.
        var endsAt: [Int: [String]] = [:]
        for (i, span) in spans.enumerated() {
            for range in span.ranges where range.end <= scalars.count {
                for p in range.start..<range.end where range.length < length[p] {
                    owner[p] = i
                    length[p] = range.length
                }
            }
            if let end = span.ranges.map(\.end).max(), end <= scalars.count { endsAt[end, default: []].append(span.label) }
        }
        var out = ""
        var p = 0
        while p < scalars.count {
            var q = p + 1
            while q < scalars.count && owner[q] == owner[p] && endsAt[q] == nil { q += 1 }
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[p..<q])
            let segment = String(piece)
            out += owner[p] < 0 ? segment : LabelColors.paint(segment, colors[spans[owner[p]].label] ?? LabelColors.palette[0])
            if let labels = endsAt[q] { out += LabelColors.dim("[" + labels.joined(separator: ",") + "]") }
            p = q
        }
        if !out.hasSuffix("\n") { out += "\n" }
        let index = TextIndex(text)
        let byID = Dictionary(annotations.map { ($0.id, $0) }) { a, _ in a }
        func name(_ id: AnnotationID?) -> String {
            guard let id, let a = byID[id] else { return "?" }
            return a.kind == .span ? "\"\(AnnotationJSON.covered(a, in: index))\" (\(a.label))" : a.label
        }
        let labels = annotations.filter { $0.kind == .documentLabel }.map(\.label).sorted()
        if !labels.isEmpty { out += "\ndocument labels: \(labels.joined(separator: ", "))\n" }
        let relations = annotations.filter { $0.kind == .relation }
        if !relations.isEmpty {
            out += "\nrelations:\n"
            for r in relations { out += "  \(name(r.from)) —\(r.label)→ \(name(r.to))\n" }
        }
        let notes = annotations.filter { $0.kind == .note }
        if !notes.isEmpty {
            out += "\nnotes:\n"
            for n in notes { out += "  \(n.target == nil ? "document" : name(n.target)): \(n.text)\n" }
        }
        var counts: [String: Int] = [:]
        for s in spans { counts[s.label, default: 0] += 1 }
        if !counts.isEmpty {
            out += "\n" + counts.keys.sorted().map { "\(LabelColors.paint("■ \($0)", colors[$0] ?? "0")) \(counts[$0]!)" }
                .joined(separator: "  ") + "\n"
        }
        return out
    }
}
