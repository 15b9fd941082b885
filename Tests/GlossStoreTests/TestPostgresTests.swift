import Foundation
import GlossTestSupport
import Testing

/// The throwaway PostgreSQL the suite starts for the PostgreSQL backend and the multi-node tests.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct TestPostgresTests {
    @Test func aThrowawayServerStartsServesAndStops() async throws {
        let postgres = try await TestPostgres.start()
        do {
            #expect(try await postgres.psql("SELECT 1") == "1")
            // Blobs go in and out byte for byte, as the store's bytea columns will.
            _ = try await postgres.psql("CREATE TABLE blobs(id int PRIMARY KEY, data bytea NOT NULL)")
            _ = try await postgres.psql(#"INSERT INTO blobs VALUES (1, '\x00ff10'::bytea)"#)
            #expect(try await postgres.psql("SELECT encode(data, 'hex') FROM blobs WHERE id = 1") == "00ff10")
            // An acknowledgement will mean a commit on disk.
            #expect(try await postgres.psql("SHOW synchronous_commit") == "on")
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
        // Stopped: nothing answers on its port, and its directory is gone.
        await #expect(throws: TestPostgres.Unavailable.self) { _ = try await postgres.psql("SELECT 1") }
        #expect(!FileManager.default.fileExists(atPath: postgres.directory.url.path))
    }
}
