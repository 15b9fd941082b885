/// What a corpus allows: span labels, relation labels with their allowed arguments, document
/// labels and attributes with their allowed values.
///
/// An *open* schema (the default for a corpus created without one) accepts any label and
/// attribute; ranges, references and text are still checked.
public struct Schema: Hashable, Sendable, Codable {
    /// A relation label and the span labels its arguments may carry (empty: any label).
    public struct RelationRule: Hashable, Sendable, Codable {
        public var label: String
        public var fromLabels: [String]
        public var toLabels: [String]

        public init(label: String, fromLabels: [String] = [], toLabels: [String] = []) {
            self.label = label
            self.fromLabels = fromLabels
            self.toLabels = toLabels
        }

        /// Missing lists mean "any label", as in a hand-written schema file.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            label = try c.decode(String.self, forKey: .label)
            fromLabels = try c.decodeIfPresent([String].self, forKey: .fromLabels) ?? []
            toLabels = try c.decodeIfPresent([String].self, forKey: .toLabels) ?? []
        }
    }

    /// An attribute name and its allowed values (empty: any value).
    public struct AttributeRule: Hashable, Sendable, Codable {
        public var name: String
        public var values: [String]

        public init(name: String, values: [String] = []) {
            self.name = name
            self.values = values
        }

        /// A missing list means "any value".
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            values = try c.decodeIfPresent([String].self, forKey: .values) ?? []
        }
    }

    private enum CodingKeys: String, CodingKey {
        case isOpen, spanLabels, relations, documentLabels, attributes
    }

    /// Keys left out of a hand-written schema file default to empty lists (and `isOpen` to
    /// false: a file that lists labels means to restrict them).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        isOpen = try c.decodeIfPresent(Bool.self, forKey: .isOpen) ?? false
        spanLabels = try c.decodeIfPresent([String].self, forKey: .spanLabels) ?? []
        relations = try c.decodeIfPresent([RelationRule].self, forKey: .relations) ?? []
        documentLabels = try c.decodeIfPresent([String].self, forKey: .documentLabels) ?? []
        attributes = try c.decodeIfPresent([AttributeRule].self, forKey: .attributes) ?? []
    }

    public var isOpen: Bool
    public var spanLabels: [String]
    public var relations: [RelationRule]
    public var documentLabels: [String]
    public var attributes: [AttributeRule]

    public init(
        spanLabels: [String] = [], relations: [RelationRule] = [], documentLabels: [String] = [],
        attributes: [AttributeRule] = []
    ) {
        self.isOpen = false
        self.spanLabels = spanLabels
        self.relations = relations
        self.documentLabels = documentLabels
        self.attributes = attributes
    }

    /// Accepts any label or attribute.
    public static let open: Schema = {
        var s = Schema()
        s.isOpen = true
        return s
    }()

    func relationRule(_ label: String) -> RelationRule? { relations.first { $0.label == label } }
    func attributeRule(_ name: String) -> AttributeRule? { attributes.first { $0.name == name } }
}
