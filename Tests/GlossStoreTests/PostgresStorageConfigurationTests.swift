import GlossStorePostgres
import GlossTestSupport
import Testing

/// The storage URL: what it accepts, and what it refuses with which reason.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct PostgresStorageConfigurationTests {
    @Test func aFullURLIsParsed() throws {
        let c = try PostgresStorageConfiguration(url: "postgresql://gloss@db.example:6543/corpora?sslmode=require", password: "s3cret")
        #expect(c.host == "db.example" && c.port == 6543 && c.user == "gloss" && c.database == "corpora")
        #expect(c.sslMode == .require && c.password == "s3cret" && c.poolSize == 10)
        #expect(c.location == "db.example:6543/corpora")
        #expect(!c.url.contains("s3cret"))
        let client = c.clientConfiguration
        #expect(client.host == "db.example" && client.port == 6543 && client.options.maximumConnections == 10)
    }

    @Test func defaultsArePort5432AndPreferredTLS() throws {
        let c = try PostgresStorageConfiguration(url: "postgres://gloss@localhost/gloss", poolSize: 3)
        #expect(c.port == 5432 && c.sslMode == .prefer && c.password == nil)
        #expect(c.clientConfiguration.options.maximumConnections == 3)
    }

    @Test(arguments: [
        ("postgres://gloss:hunter2@localhost/db", "password"),
        ("mysql://gloss@localhost/db", "scheme"),
        ("postgres://localhost/db", "no user"),
        ("postgres://gloss@localhost", "no database"),
        ("postgres://gloss@localhost/", "no database"),
        ("postgres://gloss@localhost/a/b", "slash"),
        ("postgres://gloss@localhost/db?sslmode=verify-everything", "sslmode"),
        ("postgres://gloss@localhost/db?application_name=x", "unknown option"),
        ("not a url", "URL"),
    ])
    func aBadURLIsRefusedSayingWhy(url: String, reason: String) throws {
        let error = #expect(throws: PostgresStorageError.self) { try PostgresStorageConfiguration(url: url) }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
        // The refusal never repeats a password it found.
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func aPasswordInTheURLPointsToTheAlternatives() throws {
        let error = #expect(throws: PostgresStorageError.self) {
            try PostgresStorageConfiguration(url: "postgres://gloss:pw@localhost/db")
        }
        #expect(error?.message.contains("password file") == true)
        #expect(error?.message.contains("environment") == true)
    }

    @Test func aPoolNeedsAConnection() throws {
        #expect(throws: PostgresStorageError.self) { try PostgresStorageConfiguration(url: "postgres://gloss@localhost/db", poolSize: 0) }
    }
}
