import GlossModel

/// A brat `annotation.conf` read as a Gloss ``Schema``.
///
/// - `[entities]` (alias `[spans]`): every type, nested ones too (nesting by indentation),
///   becomes a span label. Types marked `!` exist only as hierarchy nodes in brat and are not
///   span labels.
/// - `[events]`: every event type becomes a span label (the trigger's label, as
///   ``BratImporter`` imports events); every role becomes a relation label, without its
///   cardinality mark (`Theme+`, `Site?`, `Arg{2}`) and without trailing digits (as imported
///   arguments are labelled: `Theme2` → `Theme`), from the event types that have it to the
///   types it accepts.
/// - `[relations]`: `Label Arg1:A|B, Arg2:C` becomes a relation rule from `A`, `B` to `C`.
///   Several lines with one label (and an event role with the same name) merge into one rule
///   whose argument lists are the unions, which is looser than brat's per-line pairing.
/// - Argument types: `<ENTITY>` stands for every entity type, `<EVENT>` for every event type,
///   `<RELATION>` for every relation type, `<ANY>` for anything (an empty list); a type with
///   subtypes also allows its subtypes; `<NAME>=…` macros are expanded within their section.
/// - `[attributes]`: `Name Arg:<ENTITY>, Value:V1|V2` becomes an attribute rule with those
///   values. A binary attribute (no values) gets the single value `"true"`, which is what
///   ``BratImporter`` stores for it; the old `Name Arg:X, V1:glyph, V2:glyph` form lists its
///   values as keys. What an attribute attaches to (`Arg:`) has no counterpart in a Gloss
///   schema and is not kept.
///
/// Special lines Gloss cannot hold (`<OVERLAP>` and `ENTITY-NESTING` rules, `<REL-TYPE>`,
/// `<NORM>` and other reserved arguments, unknown sections) are ignored and reported in
/// ``problems``; so are lines that do not parse. Cardinalities are not kept (a Gloss schema
/// does not count arguments).
public struct BratConfiguration: Hashable, Sendable {
    /// Entity types that can be annotated, in file order.
    public var entityTypes: [String]
    /// Event types that can be annotated, in file order.
    public var eventTypes: [String]
    /// Relation types of the `[relations]` section, in file order (special ones left out).
    public var relationTypes: [String]
    /// The parent of each nested entity or event type.
    public var parents: [String: String]
    /// The Gloss schema: span labels, relation rules and attribute rules.
    public var schema: Schema
    /// Lines ignored or not understood, each with its line number.
    public var problems: [FormatProblem]

    /// Parses an `annotation.conf`. Never fails: what cannot be used comes back in ``problems``.
    public static func parse(_ text: String, file: String? = nil) -> BratConfiguration {
        var parser = ConfigurationParser(file: file)
        parser.read(text)
        return parser.configuration()
    }
}

/// The section-by-section reading of an `annotation.conf`.
private struct ConfigurationParser {
    enum Section: String {
        case entities, relations, events, attributes
    }

    /// One type definition line: its type, indentation depth and `KEY:VALUES` arguments.
    struct Node {
        var line: Int
        var type: String
        var annotatable: Bool
        var depth: Int
        var arguments: [(key: String, values: [String])]
    }

    static let reserved: Set<String> = [
        "ANY", "ENTITY", "RELATION", "EVENT", "NONE", "EMPTY", "REL-TYPE", "URL", "URLBASE", "GLYPH-POS", "DEFAULT",
        "NORM", "OVERLAP", "OVL-TYPE", "INHERIT",
    ]

    let file: String?
    var nodes: [Section: [Node]] = [:]
    var problems: [FormatProblem] = []

    init(file: String?) { self.file = file }

    mutating func read(_ text: String) {
        var section: Section?
        var ignoring = false
        var macros: [String: String] = [:]
        var lastAtDepth: [Int: Node] = [:]
        var number = 0
        // Split on the scalar "\n": at the Character level "\r\n" is one character.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = String(String.UnicodeScalarView(rawLine))
            if line.unicodeScalars.last == "\r" { line.unicodeScalars.removeLast() }
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                let name = String(trimmed.dropFirst().dropLast())
                section = Section(rawValue: name == "spans" ? "entities" : name)
                ignoring = section == nil
                macros = [:]
                lastAtDepth = [:]
                if ignoring {
                    note(
                        .ignoredConfiguration,
                        "section [\(name)] is not part of an annotation configuration; its lines are ignored", number)
                }
                continue
            }
            if ignoring { continue }
            guard let current = section else {
                note(.ignoredConfiguration, "line outside any section is ignored", number)
                continue
            }
            if trimmed.allSatisfy({ $0 == "-" }) { continue }  // a visual separator
            if trimmed.hasPrefix("<"), let equals = trimmed.firstIndex(of: "="), trimmed[..<equals].hasSuffix(">") {
                let name = String(trimmed[..<equals])
                if Self.reserved.contains(String(name.dropFirst().dropLast())) {
                    note(.malformedConfiguration, "\(name) is reserved and cannot be redefined", number)
                } else {
                    macros[name] = String(trimmed[trimmed.index(after: equals)...]).trimmingWhitespace
                }
                continue
            }
            for (name, value) in macros.sorted(by: { $0.key.count > $1.key.count }) {
                line = line.replacingAll(name, with: value)
            }
            guard var node = parseNode(line, number: number) else { continue }
            if node.depth > 0 {
                let parentDepth = lastAtDepth.keys.filter { $0 < node.depth }.max()
                if let parentDepth, let parent = lastAtDepth[parentDepth] {
                    node.arguments = node.arguments.flatMap { a in
                        a.key == "<INHERIT>" ? parent.arguments : [a]
                    }
                } else {
                    note(
                        .malformedConfiguration, "\(node.type) is indented but has no parent; read as a top-level type",
                        number)
                    node.depth = 0
                }
            }
            lastAtDepth = lastAtDepth.filter { $0.key < node.depth }
            lastAtDepth[node.depth] = node
            nodes[current, default: []].append(node)
        }
    }

    /// `INDENT TYPE[|ALIAS…] [KEY:VALUE|VALUE, …]`; nil (reported) when it does not parse.
    mutating func parseNode(_ line: String, number: Int) -> Node? {
        let scalars = Array(line.unicodeScalars)
        var i = 0
        while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        let depth = i
        var j = i
        while j < scalars.count, scalars[j] != " ", scalars[j] != "\t" { j += 1 }
        let termField = String(String.UnicodeScalarView(scalars[i..<j]))
        let rest = String(String.UnicodeScalarView(scalars[j...]))
        guard var type = termField.split(separator: "|").first.map(String.init), !type.isEmpty else {
            note(.malformedConfiguration, "no type name", number)
            return nil
        }
        var annotatable = true
        if type.hasPrefix("!") {
            annotatable = false
            type.removeFirst()
        }
        var arguments: [(key: String, values: [String])] = []
        for part in rest.split(separator: ",") {
            let argument = String(part).trimmingWhitespace
            if argument.isEmpty { continue }
            guard let colon = argument.firstIndex(of: ":"), colon != argument.startIndex,
                !argument[..<colon].contains(" ")
            else {
                if argument == "<INHERIT>" {
                    arguments.append(("<INHERIT>", []))
                    continue
                }
                note(
                    .malformedConfiguration, "argument \"\(argument)\" of \(type) is not KEY:VALUE; it is ignored",
                    number)
                continue
            }
            let key = String(argument[..<colon])
            let values = argument[argument.index(after: colon)...].split(separator: "|").map {
                String($0).trimmingWhitespace
            }.filter { !$0.isEmpty }
            arguments.append((key, values))
        }
        for a in arguments {
            for value in a.values where value.hasPrefix("<") && value.hasSuffix(">") {
                let name = String(value.dropFirst().dropLast())
                if !Self.reserved.contains(name) {
                    note(
                        .malformedConfiguration, "\(value) is not a defined macro (macros only apply in their section)",
                        number)
                }
            }
        }
        return Node(line: number, type: type, annotatable: annotatable, depth: depth, arguments: arguments)
    }

    mutating func note(_ code: FormatProblem.Code, _ message: String, _ line: Int) {
        problems.append(FormatProblem(code, message, file: file, line: line))
    }

    // MARK: - Building the schema

    mutating func configuration() -> BratConfiguration {
        let entityNodes = nodes[.entities] ?? []
        let eventNodes = nodes[.events] ?? []
        let entityTypes = unique(entityNodes.filter(\.annotatable).map(\.type))
        let eventTypes = unique(eventNodes.filter(\.annotatable).map(\.type))
        var parents: [String: String] = [:]
        for list in [entityNodes, eventNodes] {
            var stack: [Node] = []
            for node in list {
                while let last = stack.last, last.depth >= node.depth { stack.removeLast() }
                if let parent = stack.last { parents[node.type] = parent.type }
                stack.append(node)
            }
        }
        for node in entityNodes {
            for a in node.arguments {
                note(
                    .ignoredConfiguration, "argument \(a.key) of entity \(node.type) has no Gloss counterpart; ignored",
                    node.line)
            }
        }

        var relationTypes: [String] = []
        // nil lists mean "any label".
        var rules: [(label: String, from: [String]?, to: [String]?)] = []
        func merge(_ label: String, _ from: [String]?, _ to: [String]?) {
            if let i = rules.firstIndex(where: { $0.label == label }) {
                rules[i].from = union(rules[i].from, from)
                rules[i].to = union(rules[i].to, to)
            } else {
                rules.append((label, from, to))
            }
        }
        let relationNodeTypes = (nodes[.relations] ?? []).map(\.type)
        let context = TypeContext(
            entities: entityTypes, events: eventTypes, relations: relationNodeTypes, parents: parents,
            defined: Set(entityNodes.map(\.type) + eventNodes.map(\.type) + relationNodeTypes))
        for node in nodes[.relations] ?? [] {
            if node.type == "<OVERLAP>" || node.type == "ENTITY-NESTING" {
                note(
                    .ignoredConfiguration,
                    "\(node.type) rules (which spans may overlap) have no Gloss counterpart; ignored", node.line)
                continue
            }
            var ends: [[String]?] = []
            for a in node.arguments {
                if a.key.hasPrefix("<") {
                    note(
                        .ignoredConfiguration, "\(a.key) of relation \(node.type) has no Gloss counterpart; ignored",
                        node.line)
                    continue
                }
                guard ends.count < 2 else {
                    note(
                        .ignoredConfiguration,
                        "relation \(node.type) has more than two arguments; only the first two are used", node.line)
                    break
                }
                ends.append(expand(a.values, context, line: node.line))
            }
            guard ends.count == 2 else {
                note(
                    .malformedConfiguration,
                    "relation \(node.type) needs two arguments (Arg1:TYPE, Arg2:TYPE); ignored", node.line)
                continue
            }
            if !relationTypes.contains(node.type) { relationTypes.append(node.type) }
            merge(node.type, ends[0], ends[1])
        }
        for node in eventNodes {
            for a in node.arguments {
                if a.key.hasPrefix("<") {
                    note(
                        .ignoredConfiguration, "\(a.key) of event \(node.type) has no Gloss counterpart; ignored",
                        node.line)
                    continue
                }
                let role = BratEntry.Argument.label(ofRole: Self.withoutCardinality(a.key))
                merge(
                    role, node.annotatable ? [node.type] : subtypes(of: node.type, context),
                    expand(a.values, context, line: node.line))
            }
        }

        var attributes: [Schema.AttributeRule] = []
        for node in nodes[.attributes] ?? [] {
            var values: [String] = []
            var hasValueKey = false
            for a in node.arguments {
                switch a.key {
                case "Arg": continue
                case "Value":
                    hasValueKey = true
                    values += a.values
                case let key where key.hasPrefix("<"):
                    note(
                        .ignoredConfiguration, "\(key) of attribute \(node.type) has no Gloss counterpart; ignored",
                        node.line)
                default:
                    if !hasValueKey { values.append(a.key) }  // old form: each value is a key with its glyph
                }
            }
            if values.isEmpty { values = ["true"] }
            if let i = attributes.firstIndex(where: { $0.name == node.type }) {
                attributes[i].values = unique(attributes[i].values + values)
            } else {
                attributes.append(Schema.AttributeRule(name: node.type, values: unique(values)))
            }
        }

        let schema = Schema(
            spanLabels: unique(entityTypes + eventTypes),
            relations: rules.map {
                Schema.RelationRule(label: $0.label, fromLabels: $0.from ?? [], toLabels: $0.to ?? [])
            },
            attributes: attributes)
        let ordered = problems.enumerated().sorted {
            ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset)
        }
        return BratConfiguration(
            entityTypes: entityTypes, eventTypes: eventTypes, relationTypes: relationTypes, parents: parents,
            schema: schema,
            problems: ordered.map(\.element))
    }

    struct TypeContext {
        var entities: [String]
        var events: [String]
        var relations: [String]
        var parents: [String: String]
        var defined: Set<String>
    }

    /// Argument types as span labels; nil for "any".
    mutating func expand(_ types: [String], _ context: TypeContext, line: Int) -> [String]? {
        var out: [String] = []
        for type in types {
            switch type {
            case "<ANY>": return nil
            case "<ENTITY>": out += context.entities
            case "<EVENT>": out += context.events
            case "<RELATION>": out += context.relations
            default:
                if !context.defined.contains(type) {
                    note(
                        .malformedConfiguration, "argument type \(type) is not defined in [entities] or [events]", line)
                }
                out += subtypes(of: type, context)
            }
        }
        return unique(out)
    }

    /// A type and every type nested under it that can be annotated.
    func subtypes(of type: String, _ context: TypeContext) -> [String] {
        var out: [String] = []
        if context.entities.contains(type) || context.events.contains(type) || !context.defined.contains(type) {
            out.append(type)
        }
        for candidate in context.entities + context.events {
            var p = context.parents[candidate]
            // A type defined twice can be its own ancestor (`A` over `B`, then `B` over `A`):
            // stop at the first ancestor seen again.
            var seen: Set<String> = [candidate]
            while let parent = p, seen.insert(parent).inserted {
                if parent == type {
                    out.append(candidate)
                    break
                }
                p = context.parents[parent]
            }
        }
        return out
    }

    /// `Theme+` → `Theme`, `Site?` → `Site`, `Arg{2}` → `Arg`.
    static func withoutCardinality(_ key: String) -> String {
        if key.hasSuffix("}"), let brace = key.lastIndex(of: "{") { return String(key[..<brace]) }
        if let last = key.last, "?*+".contains(last) { return String(key.dropLast()) }
        return key
    }

    func union(_ a: [String]?, _ b: [String]?) -> [String]? {
        guard let a, let b else { return nil }
        return unique(a + b)
    }

    func unique(_ list: [String]) -> [String] {
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(scalars[first...last])
    }

    /// Every occurrence of `target` replaced by `replacement`.
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
