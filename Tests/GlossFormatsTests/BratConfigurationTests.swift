import Foundation
import GlossFormats
import GlossModel
import GlossTestSupport
import Testing

/// `annotation.conf` → Gloss schema, on brat's example configurations and on the corner cases.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct BratConfigurationTests {
    static func example(_ path: String) throws -> BratConfiguration {
        let text = String(decoding: try BratFixtures.examples.read(path), as: UTF8.self)
        return BratConfiguration.parse(text, file: path)
    }

    func rule(_ conf: BratConfiguration, _ label: String) throws -> Schema.RelationRule {
        try #require(conf.schema.relations.first { $0.label == label }, "no rule \(label)")
    }

    func values(_ conf: BratConfiguration, _ name: String) -> [String]? {
        conf.schema.attributes.first { $0.name == name }?.values
    }

    /// Fuzzing finding 4: a type defined twice can be its own ancestor; expanding an argument
    /// type then walked the cycle for ever.
    @Test func aCycleInTheTypeHierarchyEnds() throws {
        let conf = BratConfiguration.parse(
            "[entities]\nA\n\tB\nB\n\tA\n[relations]\nR Arg1:A, Arg2:C\n", file: "annotation.conf")
        let r = try rule(conf, "R")
        #expect(Set(r.fromLabels) == ["A", "B"])
        #expect(r.toLabels == ["C"])
    }

    @Test func bioTutorial() throws {
        let conf = try Self.example("tutorials/bio/annotation.conf")
        #expect(conf.entityTypes == ["Protein", "Simple_chemical", "Complex", "Organism"])
        #expect(conf.eventTypes == ["Gene_expression", "Binding", "Positive_regulation", "Negative_regulation"])
        #expect(conf.schema.spanLabels == conf.entityTypes + conf.eventTypes)
        #expect(!conf.schema.isOpen)
        // Event roles are relation labels from the events that have them; <EVENT> is every event type.
        let theme = try rule(conf, "Theme")
        #expect(theme.fromLabels == conf.eventTypes)
        #expect(Set(theme.toLabels) == Set(["Protein"] + conf.eventTypes))
        let cause = try rule(conf, "Cause")  // "Cause?": cardinality dropped
        #expect(cause.fromLabels == ["Positive_regulation", "Negative_regulation"])
        // Three Equiv lines merge into one rule.
        let equiv = try rule(conf, "Equiv")
        #expect(equiv.fromLabels == ["Protein", "Simple_chemical", "Organism"] && equiv.toLabels == equiv.fromLabels)
        #expect(try rule(conf, "Part-of").fromLabels == ["Protein"])
        // Binary attribute: the single value "true"; valued attribute: its values.
        #expect(values(conf, "Negation") == ["true"])
        #expect(values(conf, "Confidence") == ["Possible", "Likely", "Certain"])
        // <REL-TYPE> cannot be held: reported with its line, once per Equiv line.
        #expect(conf.problems.map(\.code) == Array(repeating: .ignoredConfiguration, count: 3))
        #expect(conf.problems.map(\.line) == [21, 22, 23])
        #expect(
            conf.problems.allSatisfy { $0.message.contains("<REL-TYPE>") && $0.file == "tutorials/bio/annotation.conf" }
        )
    }

    @Test func newsTutorial() throws {
        let conf = try Self.example("tutorials/news/annotation.conf")
        #expect(conf.entityTypes == ["Person", "Organization", "GPE", "Money"])
        // "!" types are hierarchy nodes only; their children are annotatable.
        #expect(!conf.eventTypes.contains("Life") && !conf.schema.spanLabels.contains("Business"))
        #expect(conf.eventTypes.contains("Be-born") && conf.eventTypes.contains("Report"))
        #expect(conf.eventTypes.count == 10)
        #expect(conf.parents["Be-born"] == "Life" && conf.parents["Merge-org"] == "Business")
        #expect(conf.parents["Report"] == nil)
        // The <POG> macro expands; "Person-Arg{2}" loses its count.
        #expect(try rule(conf, "Reporter-Arg").toLabels == ["Person", "Organization", "GPE"])
        #expect(try rule(conf, "Event-Arg").toLabels == conf.eventTypes)
        #expect(try rule(conf, "Person-Arg").fromLabels == ["Be-born", "Marry", "Divorce", "Die"])
        #expect(try rule(conf, "Located").fromLabels == ["Person"])
        #expect(values(conf, "Individual") == ["true"])
        #expect(values(conf, "Mention") == ["Name", "Nominal", "Other"])
        #expect(conf.problems.map(\.line) == [37])  // Alias … <REL-TYPE>:symmetric-transitive
    }

    @Test func treebankUsesTheSpansAlias() throws {
        let conf = try Self.example("corpora/TDT/annotation.conf")
        #expect(conf.entityTypes.count == 15 && conf.entityTypes.first == "A" && conf.entityTypes.last == "V")
        #expect(conf.eventTypes.isEmpty)
        #expect(conf.relationTypes.count == 98)
        #expect(try rule(conf, "nsubj").fromLabels == conf.entityTypes)
        #expect(values(conf, "CASE")?.count == 14)
        #expect(conf.problems.isEmpty, "\(conf.problems)")
    }

    @Test func ncbiDisease() throws {
        let conf = try Self.example("corpora/NCBI-disease/annotation.conf")
        #expect(conf.schema.spanLabels == ["Disease"])
        #expect(conf.schema.relations.isEmpty)
        #expect(values(conf, "Category") == ["SpecificDisease", "Modifier", "DiseaseClass", "CompositeMention"])
        #expect(conf.problems.isEmpty)
    }

    @Test func specialAndMalformedLines() {
        let conf = BratConfiguration.parse(
            """
            stray line
            [entities]
            Thing
            \tPerson|Human
            \t\tWriter
            \t!Abstract
            Place   <NORM>:Wiki
            [relations]
            <OVERLAP> Arg1:Person, Arg2:Person, <OVL-TYPE>:contain
            Likes Arg1:Person, Arg2:<ANY>
            Near Arg1:Thing
            Knows Arg1:Person, Arg2:Nobody
            ENTITY-NESTING Arg1:Thing, Arg2:Thing
            [events]
            <AGENT>=Person|Place
            Visit Visitor*:<AGENT>, Site{1-2}:Place
            -------
            [visual]
            Thing bgColor:red
            [attributes]
            Old Arg:<EVENT>, Yes:Y, No:N
            Flag Arg:<ENTITY>
            Flag Arg:<ENTITY>, Value:maybe
            Bad Arg:<UNDEFINED>
            """, file: "x.conf")
        #expect(conf.entityTypes == ["Thing", "Person", "Writer", "Place"])
        #expect(conf.parents == ["Person": "Thing", "Writer": "Person", "Abstract": "Thing"])
        #expect(conf.schema.spanLabels == ["Thing", "Person", "Writer", "Place", "Visit"])
        let likes = conf.schema.relations.first { $0.label == "Likes" }
        // A type allows its subtypes; <ANY> allows anything (an empty list).
        #expect(likes?.fromLabels == ["Person", "Writer"] && likes?.toLabels == [])
        #expect(conf.schema.relations.first { $0.label == "Visitor" }?.toLabels == ["Person", "Writer", "Place"])
        #expect(conf.schema.relations.first { $0.label == "Site" }?.fromLabels == ["Visit"])
        #expect(conf.schema.relations.first { $0.label == "Near" } == nil)
        #expect(conf.schema.attributes.first { $0.name == "Old" }?.values == ["Yes", "No"])
        #expect(conf.schema.attributes.first { $0.name == "Flag" }?.values == ["true", "maybe"])
        let found = conf.problems.map { "\($0.line!) \($0.code)" }
        #expect(
            found == [
                "1 ignored-configuration",  // stray line
                "7 ignored-configuration",  // <NORM>
                "9 ignored-configuration",  // <OVERLAP>
                "11 malformed-configuration",  // Near: one argument
                "12 malformed-configuration",  // Nobody: undefined type
                "13 ignored-configuration",  // ENTITY-NESTING
                "18 ignored-configuration",  // [visual]
                "24 malformed-configuration",  // <UNDEFINED>
            ], "\(conf.problems)")
    }

    /// Every imported annotation of each corpus against the schema of its own annotation.conf.
    @Test func corporaValidateAgainstTheirOwnConfiguration() throws {
        let examples = BratFixtures.examples
        var failures: [String] = []
        var checked = 0
        for path in try examples.documents() {
            let confPath = try #require(examples.configuration(for: path))
            let conf = try Self.example(confPath)
            let validator = Validator(schema: conf.schema)
            let (ann, text) = try BratFixtures.example(path)
            let result = try BratFixtures.importing(ann, text: text, file: path)
            let byID = Dictionary(uniqueKeysWithValues: result.annotations.map { ($0.id, $0) })
            let length = text.unicodeScalars.count
            for a in result.annotations {
                checked += 1
                do throws(ValidationError) {
                    try validator.validate(a, documentLength: length)
                    if a.kind == .relation {
                        try validator.validateArguments(relation: a, from: byID[a.from!]!, to: byID[a.to!]!)
                    }
                } catch {
                    failures.append("\(path) \(result.bratIDs[a.id] ?? "?"): \(error.code)")
                }
            }
        }
        #expect(checked == 4069, "\(checked)")  // 1617 spans, 1183 R + 96 event arguments, 1173 notes
        // Every real file fits its own configuration.
        #expect(failures.isEmpty, "\(failures.count) failures: \(failures.prefix(20))")
    }
}
