import Foundation
import GlossModel
import GlossTestSupport
import GlossWire
import Logging
import Synchronization
import Testing

@testable import GlossServer

/// The JSON log handler's lines, and the request ids and outcomes a real server logs.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct ObservabilityLogTests {
    /// Lines written by a ``JSONLogHandler``, parsed back.
    final class Lines: Sendable {
        private let raw = Mutex<[[UInt8]]>([])

        func handler(label: String, level: Logger.Level = .trace, clock: @escaping @Sendable () -> Date = { Date() })
            -> JSONLogHandler
        {
            var handler = JSONLogHandler(label: label, metadataProvider: nil, clock: clock) { line in
                self.raw.withLock { $0.append(line) }
            }
            handler.logLevel = level
            return handler
        }

        var texts: [String] { raw.withLock { $0 }.map { String(decoding: $0, as: UTF8.self) } }

        /// Each line as a JSON object; a line that is not one fails the test.
        func objects() throws -> [[String: Any]] {
            try raw.withLock { $0 }.map { line in
                #expect(line.last == UInt8(ascii: "\n"))
                #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false, "one object per line")
                return try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            }
        }
    }

    @Test func linesAreJSONWithFixedFieldsThenFlattenedMetadata() throws {
        let lines = Lines()
        let instant = Date(timeIntervalSince1970: 1_777_777_777.123_9)
        var logger = Logger(label: "glossd") { lines.handler(label: $0, clock: { instant }) }
        logger[metadataKey: "connection"] = "9f3a61c2"
        logger.info(
            "request \"finished\"\n\tdone",
            metadata: [
                "request": "9f3a61c2/7",
                "nested": ["a": "1", "b": ["c": "2"]],
                "docs": ["d1", "d2"],
                "message": "clashes with the fixed member",
                "bell": "\u{07}",
                "unicode": "東京 👍🏽",
            ])
        logger.debug("also written: the handler's level is trace")

        let objects = try lines.objects()
        try #require(objects.count == 2)
        let first = objects[0]
        #expect(first["time"] as? String == "2026-05-03T03:09:37.123Z")
        #expect(first["level"] as? String == "info")
        #expect(first["label"] as? String == "glossd")
        #expect(first["message"] as? String == "request \"finished\"\n\tdone")
        #expect(first["connection"] as? String == "9f3a61c2")
        #expect(first["request"] as? String == "9f3a61c2/7")
        #expect(first["nested.a"] as? String == "1")
        #expect(first["nested.b.c"] as? String == "2")
        #expect(first["docs"] as? [String] == ["d1", "d2"])
        #expect(first["metadata.message"] as? String == "clashes with the fixed member")
        #expect(first["bell"] as? String == "\u{07}")
        #expect(first["unicode"] as? String == "東京 👍🏽")
        #expect(objects[1]["level"] as? String == "debug")

        // Fixed members first, in this order; metadata after, by key.
        let text = lines.texts[0]
        let order = ["\"time\"", "\"level\"", "\"label\"", "\"message\"", "\"bell\"", "\"connection\"", "\"docs\""]
            .map { text.range(of: $0)!.lowerBound }
        #expect(order == order.sorted())
        #expect(!text.contains("\u{07}"), "control characters are escaped")
    }

    @Test func theLevelFiltersAndMetadataLayersMerge() throws {
        let lines = Lines()
        var logger = Logger(label: "glossd") { lines.handler(label: $0, level: .notice) }
        logger[metadataKey: "user"] = "from-handler"
        logger.info("dropped: below notice")
        logger.notice("kept", metadata: ["user": "from-call"])
        logger.error("with an error")
        let objects = try lines.objects()
        #expect(objects.map { $0["message"] as? String } == ["kept", "with an error"])
        #expect(objects[0]["user"] as? String == "from-call")
        #expect(objects[1]["user"] as? String == "from-handler")
        #expect(objects[1]["level"] as? String == "error")
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(JSONLogHandler.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(JSONLogHandler.iso8601(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(JSONLogHandler.iso8601(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
    }

    /// A real server logging in JSON: each request is logged at debug when it starts and at
    /// info when it finishes, with `connection/request` ids, user, corpus, type, outcome and
    /// duration.
    @Test func requestsAreLoggedWithIdsAndOutcomes() async throws {
        let lines = Lines()
        let logger = Logger(label: "glossd") { lines.handler(label: $0, level: .debug) }
        let fixture = try await ObservedServer.start(logger: logger)
        defer { Task { await fixture.stop() } }
        let admin = try await fixture.connect()
        _ = try await admin.request(.with { $0.createCorpus = .with { $0.name = "news" } })
        let documents = Minter("admin", replica: 5).documents(base: 0, [("d1", SampleTexts.short)])
        #expect(try await ObservedServer.push(admin, "news", Gloss_V1_Changeset(documents)).acceptedRevision == 1)
        await #expect(throws: (any Error).self) {
            _ = try await ObservedServer.push(admin, "nowhere", Gloss_V1_Changeset(documents))
        }
        admin.close()

        let objects = try lines.objects()
        let finished = objects.filter { $0["message"] as? String == "request finished" }
        let pushes = finished.filter { $0["type"] as? String == "push" }
        try #require(pushes.count == 2, "\(lines.texts)")
        // Found by corpus: each is logged once its answer is written, so the order may vary.
        let accepted = try #require(pushes.first { $0["corpus"] as? String == "news" })
        let connection = try #require(accepted["connection"] as? String)
        #expect(connection.count == 8 && connection.allSatisfy(\.isHexDigit))
        let request = try #require(accepted["request"] as? String)
        #expect(request.hasPrefix(connection + "/"))
        #expect(UInt32(request.dropFirst(connection.count + 1)) != nil)
        #expect(accepted["level"] as? String == "info")
        #expect(accepted["user"] as? String == "admin")
        #expect(accepted["corpus"] as? String == "news")
        #expect(accepted["outcome"] as? String == "ok")
        #expect(Double(accepted["duration_ms"] as? String ?? "") != nil)
        #expect(accepted["peer"] as? String == "127.0.0.1")

        let refused = try #require(pushes.first { $0["corpus"] as? String == "nowhere" })
        #expect(refused["outcome"] as? String == "not-found")
        #expect(refused["corpus"] as? String == "nowhere")
        #expect((refused["reason"] as? String)?.contains("nowhere") == true)
        #expect(refused["request"] as? String != request, "each request has its own id")

        // Started at debug, with the same ids; the auth request never logs the token.
        let started = objects.filter { $0["message"] as? String == "request started" }
        #expect(started.contains { $0["request"] as? String == request && $0["level"] as? String == "debug" })
        #expect(finished.contains { $0["type"] as? String == "auth" && $0["user"] as? String == "admin" })
        #expect(!lines.texts.joined().contains(fixture.adminToken))
    }
}
