import ArgumentParser
import GlossClient
import GlossModel

/// `--layer` and `--label`: which annotations a listing, `show` or `export` looks at. A layer
/// is an annotator's name (or `curated`); the same flag means the same thing in every command.
struct AnnotationFilter: ParsableArguments {
    @Option(name: .customLong("layer"), help: "Only this layer (an annotator, or curated); repeatable.")
    var layers: [String] = []

    /// The spelling `show` and `export` used before `--layer`; `--author` now always means the
    /// user who made a revision (`gloss log --author`).
    @Option(name: .customLong("author"), help: .hidden) var legacyLayers: [String] = []

    @Option(name: .customLong("label"), help: "Only this label; repeatable.") var labels: [String] = []

    var allLayers: [String] { layers + legacyLayers }

    func matches(_ a: Annotation) -> Bool {
        (allLayers.isEmpty || allLayers.contains(a.layer)) && (labels.isEmpty || labels.contains(a.label))
    }

    /// Refuses a layer or label that nothing here carries, rather than printing nothing: a typo
    /// in a name should not look like an empty layer. Your own layer is always known.
    func check(against annotations: some Sequence<Annotation>, user: String) throws {
        if !legacyLayers.isEmpty { warn("note: --author is now --layer here (`gloss log --author` names a user)") }
        var knownLayers: Set<String> = [user]
        var knownLabels: Set<String> = []
        for a in annotations {
            knownLayers.insert(a.layer)
            knownLabels.insert(a.label)
        }
        for layer in allLayers where !knownLayers.contains(layer) {
            throw WorkspaceError(.unknownLayer, Self.unknown("layer", layer, known: knownLayers))
        }
        for label in labels where !knownLabels.contains(label) {
            throw WorkspaceError(.unknownLayer, Self.unknown("label", label, known: knownLabels))
        }
    }

    private static func unknown(_ what: String, _ name: String, known: Set<String>) -> String {
        let hint = EditDistance.suggestion(for: name, among: known.sorted()).map { "; did you mean \($0)?" } ?? ""
        let list = known.sorted().prefix(12).joined(separator: ", ")
        return "no \(what) \(name) here\(hint) (\(what)s: \(list.isEmpty ? "none" : list))"
    }
}
