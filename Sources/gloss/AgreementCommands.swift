import ArgumentParser
import Foundation
import Synchronization
import GlossClient
import GlossFormats
import GlossModel

struct Agree: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agree",
        abstract: "Measure agreement between annotators' layers.",
        discussion: HelpText.reflow(
            """
            Span F1 (exact: same ranges and label; overlap: same label, overlapping ranges),
            averaged over pairs of annotators; and at token level (tokens are runs of letters and
            digits, and each other non-space character), Cohen's κ for two annotators, Fleiss' κ for
            three or more, and Krippendorff's α (nominal) for any number. Per label and overall.
            A dash means undefined (for example, everyone used one category only).
            Examples:
              gloss agree alice bob
              gloss agree alice bob carol --label PER --doc news-1 --json
              gloss agree --layer alice --layer curated
            """))
    @Argument(help: "The annotators (layers) to compare; two or more.") var positionalLayers: [String] = []
    @Option(name: .customLong("layer"), help: "A layer to compare, as in other commands; repeatable.") var layers: [String] = []
    var annotators: [String] { positionalLayers + layers }
    @Option(name: .customLong("doc"), help: "Only this document (repeatable).") var documents: [String] = []
    @Option(help: "As the corpus was at this revision.") var at: Int?
    @Option(help: "Only this label (repeatable).") var label: [String] = []
    @Flag(help: "The report as one JSON object.") var json = false

    func validate() throws {
        guard annotators.count >= 2 else { throw ValidationError("give at least two annotators to compare") }
    }

    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let only = Set(try documents.map { try DocumentID(validating: $0) })
            let docs = try FormatIO.states(of: w, at: at, only: only)
            let input = docs.map { d in
                AgreementDocument(text: d.text, layers: Dictionary(grouping: d.state.annotations.values, by: \.layer))
            }
            let present = Set(docs.flatMap { $0.state.annotations.values.map(\.layer) })
            // A misspelt name would compare against an empty layer: refuse it, naming the layers.
            for a in annotators where !present.contains(a) {
                let hint = EditDistance.suggestion(for: a, among: present.sorted()).map { "; did you mean \($0)?" } ?? ""
                throw WorkspaceError(
                    .unknownLayer,
                    "no layer \(a) in \(docs.count == 1 ? "this document" : "these documents")\(hint) (layers: \(present.sorted().joined(separator: ", ")))")
            }
            let report = try AgreementReport.compute(
                documents: input, annotators: annotators, labels: label.isEmpty ? nil : Set(label))
            if json {
                try printJSON(report)
            } else {
                print(AgreementTable(report: report).render(), terminator: "")
            }
        }
    }
}

/// `gloss agree`'s table: one row per label and one for everything.
struct AgreementTable {
    let report: AgreementReport

    func render() -> String {
        let tokens = report.overall.tokens.tokens
        var out =
            "\(report.annotators.count) annotators (\(report.annotators.joined(separator: ", "))), "
            + "\(report.documents) document(s), \(tokens) token(s)\n\n"
        let header = ["label", "F1 exact", "F1 overlap", "Cohen κ", "Fleiss κ", "Kripp. α"]
        var rows = [header]
        for row in [report.overall] + report.labels {
            rows.append([
                row.label ?? "(all)", Self.number(row.exact.meanF1), Self.number(row.overlap.meanF1),
                Self.number(row.tokens.cohensKappa?.value), Self.number(row.tokens.fleissKappa?.value),
                Self.number(row.tokens.krippendorffAlpha.value),
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        for (i, row) in rows.enumerated() {
            out += row.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ") + "\n"
            if i == 0 { out += widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n" }
        }
        return out
    }

    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        // Rounding must not print "-0.000".
        return String(format: "%.3f", abs(value) < 0.0005 ? 0 : value)
    }
}

struct Curate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curate",
        abstract: "Adjudicate a document: walk through the annotators' disagreements and build the curated layer.",
        discussion: HelpText.reflow(
            """
            Spans every annotator agrees on go into the curated layer by themselves. For each
            disagreement you see the text and each annotator's spans, and answer:
              1, 2, …   take that annotator's spans
              b         take both (all of them)
              n         take neither
              e         type the spans yourself, as inline markup of the text shown
              s         skip for now;  q  stop here (what you decided is kept)
            Agreed spans are recorded even when you stop early: with q, at the end of the input, or with \
            Ctrl-C, which also keeps the answers given so far. Places the curated layer already covers are not asked again (a place decided as
            "neither" leaves nothing there, so it is asked again next time). Needs the curator role to
            sync. Reads answers from standard input, so a script can answer too.
            Examples:
              gloss curate news-1
              gloss curate news-1 --layer alice --layer bob --into adjudicated
            """))
    @Argument(help: "The document id.") var document: String
    @Option(name: .customLong("layer"), help: "A layer to compare; repeatable (default: every layer but the curated one).")
    var layersToCompare: [String] = []
    /// The spelling before `--layer`, which took several names at once.
    @Option(name: .customLong("annotators"), parsing: .upToNextOption, help: .hidden) var annotators: [String] = []
    @Option(help: "The layer to write.") var into = "curated"
    @OptionGroup var output: OutputOptions

    func run() async throws {
        output.apply()
        try await Gloss.guarded {
            let w = try currentWorkspace()
            let (id, state, text) = try workingDocument(w, document)
            let index = TextIndex(text)
            let layers = Dictionary(grouping: state.annotations.values, by: \.layer)
            let asked = layersToCompare + annotators
            for name in asked where layers[name] == nil {
                throw WorkspaceError(.unknownLayer, "no layer \(name) in \(id) (layers: \(layers.keys.sorted().joined(separator: ", ")))")
            }
            let names = asked.isEmpty ? layers.keys.filter { $0 != into }.sorted() : asked
            guard names.count >= 2 else {
                throw ValidationError("curation compares two or more annotators; this document has \(names)")
            }
            let curated = (layers[into] ?? []).filter { $0.kind == .span }
            var session = CurationSession(
                text: text, index: index, into: into, owner: w.config.user, document: id, curated: curated)
            let items = CurationItem.items(layers: layers, annotators: names)
            // Ctrl-C keeps what was decided: the ops so far are recorded before gloss exits.
            let decided = Mutex<[Op]>([])
            session.onChange = { ops in decided.withLock { $0 = ops } }
            let interrupts = InterruptHandler()
            defer { interrupts.stop() }
            interrupts.onSignal { number in
                let ops = decided.withLock { $0 }
                if !ops.isEmpty {
                    do {
                        try w.reserveIDs(through: ops)
                        try w.commit(ops, message: "curate \(id) (interrupted)")
                        warn("\ninterrupted: recorded the \(ops.count) span(s) decided so far; `gloss curate \(id)` goes on from there")
                    } catch {
                        warn("\ninterrupted, and could not record the decisions: \(error)")
                    }
                }
                Foundation.exit(128 + number)
            }
            try w.mintingIDs { mint in
                session.walk(items, mint: mint)
            }
            guard !session.ops.isEmpty else {
                note("nothing to record (\(session.summary))")
                return
            }
            try w.commit(session.ops, message: "curate \(id)")
            note("recorded \(session.ops.count) span(s) in the \(into) layer (\(session.summary)); `gloss sync` to share")
        }
    }
}

/// The interactive walk of `gloss curate`: asks about each disagreement on standard input and
/// collects the spans to create in the curated layer.
struct CurationSession {
    let text: String
    let index: TextIndex
    let into: String
    let owner: String
    let document: DocumentID
    /// Curated spans that exist already: items they overlap were decided before.
    let curated: [Annotation]
    var ops: [Op] = [] { didSet { onChange(ops) } }
    /// Told of every decision, so that an interrupted session can keep them.
    var onChange: ([Op]) -> Void = { _ in }
    var agreed = 0
    var decided = 0
    var skipped = 0
    var alreadyCurated = 0

    init(text: String, index: TextIndex, into: String, owner: String, document: DocumentID, curated: [Annotation]) {
        self.text = text
        self.index = index
        self.into = into
        self.owner = owner
        self.document = document
        self.curated = curated
    }

    var summary: String {
        "\(agreed) agreed, \(decided) decided, \(skipped) skipped, \(alreadyCurated) already curated"
    }

    mutating func walk(_ items: [CurationItem], mint: () -> AnnotationID) {
        let open = items.filter { item in
            !curated.contains { $0.ranges.contains { r in item.extent.overlaps(r) || r == item.extent } }
        }
        alreadyCurated = items.count - open.count
        let disagreements = open.filter { $0.kind == .disagreement }.count
        // What everyone agrees on needs no answer: it is taken first, so that stopping early
        // (q, the end of the input, Ctrl-C) still keeps it.
        for item in open where item.kind == .agreed {
            agreed += 1
            take(item.alternatives.first?.spans ?? [], mint: mint)
        }
        var number = 0
        for item in open where item.kind == .disagreement {
            number += 1
            guard ask(item, number: number, of: disagreements, mint: mint) else { return }
        }
    }

    /// Asks about one disagreement; false when the user stops.
    private mutating func ask(_ item: CurationItem, number: Int, of total: Int, mint: () -> AnnotationID) -> Bool {
        let context = 30
        let before = TextRange(max(0, item.extent.start - context), item.extent.start)
        let after = TextRange(item.extent.end, min(index.scalarCount, item.extent.end + context))
        let shown = (try? index.text(in: item.extent)) ?? ""
        print("\n[\(number)/\(total)] \(item.extent) …\(flat(before))«\(flat(item.extent))»\(flat(after))…")
        for (i, alt) in item.alternatives.enumerated() {
            let spans = alt.spans.map { s in
                "[\(s.ranges.compactMap { try? index.text(in: $0) }.joined(separator: " … "))](\(s.label))"
                    + " \(s.ranges.map(\.description).joined(separator: ","))"
            }
            print("  \(i + 1)) \(alt.annotator): \(spans.isEmpty ? "nothing" : spans.joined(separator: "  "))")
        }
        while true {
            print("take 1-\(item.alternatives.count), b(oth), n(either), e(dit), s(kip), q(uit)? ", terminator: "")
            fflush(nil)
            guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
            if let choice = Int(answer), (1...item.alternatives.count).contains(choice) {
                take(item.alternatives[choice - 1].spans, mint: mint)
            } else if answer == "b" {
                take(item.alternatives.flatMap(\.spans), mint: mint)
            } else if answer == "n" {
                // Decided: nothing goes there.
            } else if answer == "e" {
                print("spans for «\(shown)» as inline markup, e.g. [\(shown)](LABEL): ", terminator: "")
                fflush(nil)
                guard let line = readLine() else { return false }
                do throws(InlineMarkupError) {
                    let content = try InlineMarkupParser().parse(line, originalText: shown)
                    for span in content.spans {
                        let ranges = span.ranges.map { TextRange($0.start + item.extent.start, $0.end + item.extent.start) }
                        add(label: span.label, ranges: ranges, attributes: span.attributes, mint: mint)
                    }
                } catch {
                    for problem in error.problems { print("  \(problem.message)") }
                    continue
                }
            } else if answer == "s" {
                skipped += 1
                return true
            } else if answer == "q" {
                return false
            } else {
                continue
            }
            decided += 1
            return true
        }
    }

    /// Copies spans into the curated layer (once each: two annotators' identical spans are one).
    private mutating func take(_ spans: [Annotation], mint: () -> AnnotationID) {
        for s in spans { add(label: s.label, ranges: s.ranges, attributes: s.attributes, mint: mint) }
    }

    private mutating func add(label: String, ranges: [TextRange], attributes: [String: String], mint: () -> AnnotationID) {
        let exists = ops.contains { op in
            if case .create(let a) = op { a.label == label && a.ranges == ranges } else { false }
        }
        guard !exists else { return }
        ops.append(
            .create(Annotation.span(mint(), in: document, ranges, label: label, owner: owner, layer: into, attributes: attributes)))
    }

    private func flat(_ range: TextRange) -> String {
        ((try? index.text(in: range)) ?? "").replacingOccurrences(of: "\n", with: " ")
    }
}
