import Foundation

/// The hand-written schema file that `gloss corpus create --schema FILE` reads, checked key by
/// key: a misspelt key (`"labels"` for `"spanLabels"`) or a value of the wrong type is refused
/// with its place in the file, instead of silently leaving the corpus without the rule.
///
/// Keys left out default to empty lists, and `isOpen` to false: in a closed schema only the
/// labels listed are allowed, so an empty or missing `spanLabels` allows no span label. In
/// relation and attribute rules an empty or missing list of arguments or values means any.
public enum SchemaFile {
    /// The largest schema file read: far above any real schema, far below what would let a
    /// request make the server parse megabytes of JSON.
    public static let maxBytes = 1 << 20

    /// Parses and checks a schema file's bytes.
    public static func parse(_ data: Data) throws(SchemaFileError) -> Schema {
        guard data.count <= maxBytes else {
            throw SchemaFileError(.tooLarge, "the schema is \(data.count) bytes; the limit is \(maxBytes) bytes", at: "")
        }
        do {
            let schema = try JSONDecoder().decode(Body.self, from: data).schema
            do throws(ValidationError) {
                try FieldLimits.v1.check(schema)
            } catch {
                throw SchemaFileError(.tooLarge, error.message, at: "")
            }
            return schema
        } catch let error as SchemaFileError {
            throw error
        } catch let DecodingError.typeMismatch(type, context) {
            throw SchemaFileError(.wrongType, "expected \(describe(type))", at: path(context.codingPath))
        } catch let DecodingError.valueNotFound(type, context) {
            throw SchemaFileError(.wrongType, "expected \(describe(type)), found null", at: path(context.codingPath))
        } catch let DecodingError.keyNotFound(key, context) {
            throw SchemaFileError(.missingKey, "this key is required", at: path(context.codingPath + [key]))
        } catch {
            throw SchemaFileError(.notJSON, "the file is not valid JSON", at: "")
        }
    }

    /// `relations[0].fromLabels`, from a decoder's coding path.
    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue { out += "[\(index)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
        }
        return out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "a list […]"
        default: "\(type)".contains("Array") ? "a list […]" : "an object {…}"
        }
    }

    /// Refuses keys other than `known`, naming the closest known one.
    static func checkKeys(_ decoder: any Decoder, known: [String]) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
            let hint = EditDistance.suggestion(for: key.stringValue, among: known).map { "; did you mean \"\($0)\"?" } ?? ""
            throw SchemaFileError(
                .unknownKey, "unknown key \"\(key.stringValue)\"\(hint) (known: \(known.joined(separator: ", ")))",
                at: path(decoder.codingPath + [key]))
        }
    }

    static func uniqueNames(_ names: [String], at keys: [any CodingKey]) throws -> [String] {
        var seen: Set<String> = []
        for (i, name) in names.enumerated() {
            let place = path(keys) + "[\(i)]"
            guard !name.isEmpty, name.trimmingCharacters(in: .whitespacesAndNewlines) == name else {
                throw SchemaFileError(.badName, "\"\(name)\": a name must be non-empty, without spaces around it", at: place)
            }
            guard seen.insert(name).inserted else { throw SchemaFileError(.duplicate, "\"\(name)\" is listed twice", at: place) }
        }
        return names
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Body: Decodable {
        var schema = Schema()
        enum Keys: String, CodingKey, CaseIterable { case isOpen, spanLabels, documentLabels, relations, attributes }

        init(from decoder: any Decoder) throws {
            try SchemaFile.checkKeys(decoder, known: Keys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: Keys.self)
            schema.isOpen = try c.decodeIfPresent(Bool.self, forKey: .isOpen) ?? false
            schema.spanLabels = try SchemaFile.uniqueNames(
                c.decodeIfPresent([String].self, forKey: .spanLabels) ?? [], at: c.codingPath + [Keys.spanLabels])
            schema.documentLabels = try SchemaFile.uniqueNames(
                c.decodeIfPresent([String].self, forKey: .documentLabels) ?? [], at: c.codingPath + [Keys.documentLabels])
            schema.relations = try c.decodeIfPresent([Relation].self, forKey: .relations)?.map(\.rule) ?? []
            schema.attributes = try c.decodeIfPresent([Attribute].self, forKey: .attributes)?.map(\.rule) ?? []
            _ = try SchemaFile.uniqueNames(schema.relations.map(\.label), at: c.codingPath + [Keys.relations])
            _ = try SchemaFile.uniqueNames(schema.attributes.map(\.name), at: c.codingPath + [Keys.attributes])
        }
    }

    private struct Relation: Decodable {
        var rule: Schema.RelationRule
        enum Keys: String, CodingKey, CaseIterable { case label, fromLabels, toLabels }

        init(from decoder: any Decoder) throws {
            try SchemaFile.checkKeys(decoder, known: Keys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: Keys.self)
            rule = Schema.RelationRule(
                label: try c.decode(String.self, forKey: .label),
                fromLabels: try c.decodeIfPresent([String].self, forKey: .fromLabels) ?? [],
                toLabels: try c.decodeIfPresent([String].self, forKey: .toLabels) ?? [])
        }
    }

    private struct Attribute: Decodable {
        var rule: Schema.AttributeRule
        enum Keys: String, CodingKey, CaseIterable { case name, values }

        init(from decoder: any Decoder) throws {
            try SchemaFile.checkKeys(decoder, known: Keys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: Keys.self)
            rule = Schema.AttributeRule(
                name: try c.decode(String.self, forKey: .name),
                values: try c.decodeIfPresent([String].self, forKey: .values) ?? [])
        }
    }
}

/// A schema file that cannot be used, with the place in it (`relations[2].fromLabels`).
public struct SchemaFileError: ContextualError, Sendable {
    public typealias Code = ErrorCode<SchemaFileError>
    public var code: Code
    public var message: String
    /// The key path in the file; empty for the file as a whole.
    public var path: String

    public init(_ code: Code, _ message: String, at path: String) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var context: String? { path.isEmpty ? nil : path }
    public var description: String { (path.isEmpty ? "" : path + ": ") + message + " [\(code)]" }
}

extension ErrorCode where Domain == SchemaFileError {
    public static let notJSON = Self(rawValue: "not-json")
    public static let unknownKey = Self(rawValue: "unknown-key")
    public static let missingKey = Self(rawValue: "missing-key")
    public static let wrongType = Self(rawValue: "wrong-type")
    public static let duplicate = Self(rawValue: "duplicate")
    public static let badName = Self(rawValue: "bad-name")
    /// Past ``SchemaFile/maxBytes`` or a list or label limit of ``FieldLimits``.
    public static let tooLarge = Self(rawValue: "too-large")
}
