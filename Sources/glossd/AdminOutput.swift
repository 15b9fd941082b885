import Foundation

/// How the admin listings print: aligned columns for people, JSON Lines for scripts.
enum AdminOutput {
    /// Prints `rows` under `header`, each column padded to its widest cell (the last column is
    /// not padded, so lines carry no trailing spaces).
    static func printTable(header: [String], rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    /// Prints one value as a line of JSON, keys sorted and dates in ISO 8601, so that output is
    /// stable for scripts and tests.
    static func printJSONLine(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// A time as listings show it: UTC, to the second.
    static func time(_ date: Date) -> String { date.formatted(.iso8601) }
}
