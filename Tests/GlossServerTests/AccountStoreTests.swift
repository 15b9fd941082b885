import Crypto
import Foundation
import GRDB
import GlossStore
import GlossTestSupport
import Testing

@testable import GlossServer

/// A store in a fresh temporary directory.
private struct Fixture {
    let directory: TemporaryDirectory
    let store: AccountStore
    var path: String { directory.path("accounts.sqlite") }

    init() throws {
        directory = try TemporaryDirectory("accounts")
        store = try AccountStore(path: directory.path("accounts.sqlite"))
    }
}

/// Runs `body`, expecting an ``AccountError`` with `code` (and `context`, when given).
private func expectAccountError(
    _ code: AccountError.Code, context: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    expectError(AccountError.self, code, context: context, sourceLocation: sourceLocation, body)
}

@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct AccountStoreTests {
    // MARK: Opening

    @Test func writerIsDurable() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect(try f.store.writerSynchronousLevel() == 2)
    }

    @Test func unopenablePathIsABackendErrorNamingIt() throws {
        let directory = try TemporaryDirectory("accounts")
        defer { directory.remove() }
        let path = directory.path("missing-folder/accounts.sqlite")
        expectAccountError(.backend, context: path) { _ = try AccountStore(path: path) }
    }

    @Test func refusesADatabaseOfANewerVersion() throws {
        let directory = try TemporaryDirectory("accounts")
        defer { directory.remove() }
        let path = directory.path("accounts.sqlite")
        _ = try AccountStore(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES ('v99')")
        }
        expectAccountError(.unsupportedFormat, context: path) { _ = try AccountStore(path: path) }
    }

    @Test func adminCommandsOpenOnlyAnExistingStore() throws {
        let directory = try TemporaryDirectory("accounts")
        defer { directory.remove() }
        // No such directory, and a directory without a store: refused, naming the path and
        // how to create a store, and nothing is created.
        let typo = directory.url.appendingPathComponent("srv-typo")
        let empty = directory.url.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        for data in [typo, empty] {
            let error = #expect(throws: DataDirectoryError.self) { _ = try DataDirectory.openAccounts(data: data) }
            #expect(error?.code == .notADataDirectory)
            #expect(error?.context == data.path)
            #expect(error?.message.contains(data.path) == true)
            #expect(error?.message.contains("glossd serve --data") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: typo.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)

        // The server creates one; from then on it opens, with what the server wrote.
        let created = try DataDirectory.createAccounts(data: empty)
        try created.addUser("admin", isAdmin: true)
        #expect(DataDirectory.holdsStore(empty))
        #expect(try DataDirectory.openAccounts(data: empty).users().map(\.name) == ["admin"])
    }

    // MARK: Users

    @Test func addsAndListsUsers() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let before = Date()
        let bob = try f.store.addUser("bob")
        let alice = try f.store.addUser("alice", isAdmin: true)
        #expect(bob.name == "bob" && !bob.isAdmin)
        #expect(alice.isAdmin)
        #expect(abs(bob.createdAt.timeIntervalSince(before)) < 5)
        #expect(try f.store.user(named: "bob") == bob)
        #expect(try f.store.user(named: "alice") == alice)
        #expect(try f.store.user(named: "carol") == nil)
        #expect(try f.store.user(named: "Bob") == nil)
        #expect(try f.store.users() == [alice, bob])
    }

    @Test(arguments: ["a", "0", "alice", "a.b_c-d", "9lives", String(repeating: "x", count: 64)])
    func acceptsUserName(_ name: String) throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect(try f.store.addUser(name).name == name)
    }

    @Test(arguments: [
        "", String(repeating: "x", count: 65), "Alice", ".alice", "_alice", "-alice", "al ice", "al/ice", "zoë",
        "alice\n", "a:b", "a@b",
    ])
    func rejectsUserName(_ name: String) throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        expectAccountError(.invalidName, context: name) { try f.store.addUser(name) }
        #expect(try f.store.users().isEmpty)
    }

    @Test func refusesADuplicateUser() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        expectAccountError(.alreadyExists, context: "bob") { try f.store.addUser("bob", isAdmin: true) }
        #expect(try f.store.user(named: "bob")?.isAdmin == false)
    }

    // MARK: Tokens

    @Test func issuedTokenAuthenticatesItsUser() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        let bob = try f.store.addUser("bob")
        try f.store.addUser("carol")
        let token = try f.store.issueToken(for: "bob", label: "laptop")
        let carols = try f.store.issueToken(for: "carol")
        #expect(token.user == "bob")
        #expect(try f.store.authenticate(token: token.secret) == bob)
        #expect(try f.store.authenticate(token: carols.secret)?.name == "carol")
        #expect(token.secret != carols.secret)
    }

    @Test func tokenFormat() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var secrets: Set<String> = []
        for _ in 0..<20 {
            let token = try f.store.issueToken(for: "bob")
            #expect(token.secret.hasPrefix("gls_"))
            let body = token.secret.dropFirst(4)
            #expect(body.count == 43)
            #expect(body.allSatisfy(base64url.contains))
            // 43 characters carry 258 bits: the last one holds 4 bits of the key and 2 zero bits.
            #expect("AEIMQUYcgkosw048".contains(body.last!))
            let hashHex = SHA256.hash(data: Array(token.secret.utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(token.id == String(hashHex.prefix(8)))
            secrets.insert(token.secret)
        }
        #expect(secrets.count == 20)
    }

    @Test func issuedTokenDescriptionHidesTheSecret() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        let token = try f.store.issueToken(for: "bob")
        #expect(!String(describing: token).contains(token.secret))
        #expect(!String(reflecting: token).contains(token.secret))
        #expect(String(describing: token).contains(token.id))
    }

    @Test func storesOnlyTheHashOfTheSecret() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        let token = try f.store.issueToken(for: "bob", label: "ci")
        let hash = Data(SHA256.hash(data: Array(token.secret.utf8)))
        let secretBytes = Data(token.secret.utf8)
        let secretBody = Data(token.secret.dropFirst(4).utf8)

        // The token table, read directly: the hash is there, the secret in no column.
        let rows = try DatabaseQueue(path: f.path).read { db in try Row.fetchAll(db, sql: "SELECT * FROM tokens") }
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["hash"] as Data? == hash)
        #expect(row["id"] as String? == token.id)
        for column in row.columnNames {
            let value: DatabaseValue = row[column]
            let bytes: Data? =
                switch value.storage {
                case .blob(let data): data
                case .string(let text): Data(text.utf8)
                default: nil
                }
            if let bytes {
                #expect(bytes.range(of: secretBody) == nil, "column \(column)")
            }
        }
        // Nor anywhere in the files (the WAL included).
        for suffix in ["", "-wal"] {
            if let file = try? Data(contentsOf: URL(fileURLWithPath: f.path + suffix)) {
                #expect(file.range(of: secretBytes) == nil)
                #expect(file.range(of: secretBody) == nil)
            }
        }
    }

    @Test func unknownOrForeignTokensDoNotAuthenticate() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        let token = try f.store.issueToken(for: "bob")
        #expect(try f.store.authenticate(token: "") == nil)
        #expect(try f.store.authenticate(token: "gls_") == nil)
        #expect(try f.store.authenticate(token: token.secret + "x") == nil)
        #expect(try f.store.authenticate(token: String(token.secret.dropLast())) == nil)
        #expect(try f.store.authenticate(token: AccountStore.newSecret()) == nil)
        // The bare hash or id is no credential.
        #expect(try f.store.authenticate(token: token.id) == nil)
        #expect(try f.store.authenticate(token: "gls_" + String(repeating: "A", count: 10_000)) == nil)
    }

    @Test func revokedTokenNoLongerAuthenticates() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        let kept = try f.store.issueToken(for: "bob", label: "desktop")
        let revoked = try f.store.issueToken(for: "bob", label: "lost laptop")
        try f.store.revokeToken(id: revoked.id.uppercased())
        #expect(try f.store.authenticate(token: revoked.secret) == nil)
        #expect(try f.store.authenticate(token: kept.secret)?.name == "bob")
        try f.store.revokeToken(id: revoked.id)  // again: nothing to do, no error

        let listed = try f.store.tokens(for: "bob")
        #expect(Set(listed.map(\.id)) == [kept.id, revoked.id])
        #expect(listed.first { $0.id == revoked.id }?.isRevoked == true)
        #expect(listed.first { $0.id == revoked.id }?.label == "lost laptop")
        #expect(listed.first { $0.id == kept.id }?.isRevoked == false)
        #expect(listed.allSatisfy { $0.user == "bob" })
    }

    @Test func tokenErrors() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        expectAccountError(.unknownToken, context: "deadbeef") { try f.store.revokeToken(id: "deadbeef") }
        expectAccountError(.unknownUser, context: "carol") { _ = try f.store.issueToken(for: "carol") }
        expectAccountError(.unknownUser, context: "carol") { _ = try f.store.tokens(for: "carol") }
        expectAccountError(.invalidLabel) { _ = try f.store.issueToken(for: "bob", label: "two\nlines") }
        expectAccountError(.invalidLabel) {
            _ = try f.store.issueToken(for: "bob", label: String(repeating: "l", count: AccountStore.maxLabelLength + 1))
        }
        _ = try f.store.issueToken(for: "bob", label: String(repeating: "l", count: AccountStore.maxLabelLength))
        #expect(try f.store.tokens(for: "bob").count == 1)
    }

    @Test func listsEveryUsersTokensOldestFirstWithoutSecrets() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect(try f.store.tokens().isEmpty)
        try f.store.addUser("bob")
        try f.store.addUser("ann")
        let first = try f.store.issueToken(for: "bob", label: "desktop")
        let second = try f.store.issueToken(for: "ann", label: "laptop")
        let third = try f.store.issueToken(for: "bob", label: "ci")
        try f.store.revokeToken(id: third.id)

        let all = try f.store.tokens()
        #expect(Set(all.map(\.id)) == [first.id, second.id, third.id])
        // Oldest first; tokens issued in the same millisecond by id.
        for (a, b) in zip(all, all.dropFirst()) {
            #expect(a.createdAt < b.createdAt || (a.createdAt == b.createdAt && a.id < b.id))
        }
        let listed = try #require(all.first { $0.id == second.id })
        #expect(listed.user == "ann" && listed.label == "laptop" && !listed.isRevoked)
        #expect(all.first { $0.id == third.id }?.isRevoked == true)
        // The same rows as the per-user listing.
        #expect(all.filter { $0.user == "bob" } == (try f.store.tokens(for: "bob")))
        // A listing has no field that could hold a secret.
        #expect(!String(describing: all).contains(AccountStore.tokenPrefix))
    }

    // MARK: Corpora

    @Test func createsCorporaOwnedByTheirCreator() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        try f.store.createCorpus(name: "news-2024", owner: "bob")
        try f.store.createCorpus(name: "Federation_1923.v2", owner: "bob", policy: .own)

        #expect(try f.store.corpus(named: "news-2024")?.policy == .shared)
        #expect(try f.store.corpus(named: "Federation_1923.v2")?.policy == .own)
        #expect(try f.store.corpus(named: "news") == nil)
        #expect(try f.store.corpus(named: "NEWS-2024") == nil)
        #expect(try f.store.corpora().map(\.name) == ["Federation_1923.v2", "news-2024"])
        #expect(try f.store.role(of: "bob", in: "news-2024") == .owner)
        #expect(try f.store.grants(corpus: "news-2024").map(\.user) == ["bob"])
    }

    @Test(arguments: ["", "a b", "../x", "x/y", ".", "..", ".hidden", "-rf", "_x", "née", String(repeating: "c", count: 65)])
    func rejectsCorpusName(_ name: String) throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        expectAccountError(.invalidName, context: name) { try f.store.createCorpus(name: name, owner: "bob") }
        #expect(try f.store.corpora().isEmpty)
    }

    @Test func acceptsALongestCorpusName() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        let name = "Z" + String(repeating: "c", count: 63)
        try f.store.createCorpus(name: name, owner: "bob")
        #expect(try f.store.corpus(named: name) != nil)
    }

    @Test func refusesDuplicateCorporaIgnoringCase() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("bob")
        try f.store.addUser("carol")
        try f.store.createCorpus(name: "news", owner: "bob")
        expectAccountError(.alreadyExists, context: "news") { try f.store.createCorpus(name: "news", owner: "carol") }
        expectAccountError(.alreadyExists, context: "news") { try f.store.createCorpus(name: "NEWS", owner: "carol") }
        #expect(try f.store.corpora().count == 1)
        #expect(try f.store.role(of: "carol", in: "news") == nil)
    }

    @Test func corpusNeedsAnExistingOwner() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        expectAccountError(.unknownUser, context: "ghost") { try f.store.createCorpus(name: "news", owner: "ghost") }
        #expect(try f.store.corpora().isEmpty)
    }

    // MARK: Roles and grants

    @Test func rolesAreOrderedAndNamed() {
        #expect(Role.allCases == [.viewer, .annotator, .curator, .owner])
        #expect(Role.allCases.map(\.rawValue) == [1, 2, 3, 4])
        #expect(Role.viewer < .annotator && .annotator < .curator && .curator < .owner)
        #expect(Role.allCases.sorted(by: >) == [.owner, .curator, .annotator, .viewer])
        #expect(Role.allCases.map(\.name) == ["viewer", "annotator", "curator", "owner"])
        for role in Role.allCases { #expect(Role(name: role.name) == role) }
        #expect(Role(name: "Owner") == nil)
        #expect(Role(name: "admin") == nil)
        #expect(Role(name: "") == nil)
        #expect(CorpusPolicy(rawValue: "own") == .own && CorpusPolicy(rawValue: "shared") == .shared)
    }

    @Test func grantsChangeAndRevokeRoles() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("olga")
        try f.store.addUser("ann")
        try f.store.createCorpus(name: "news", owner: "olga")
        #expect(try f.store.role(of: "ann", in: "news") == nil)

        try f.store.grant(corpus: "news", user: "ann", role: .viewer)
        #expect(try f.store.role(of: "ann", in: "news") == .viewer)
        try f.store.grant(corpus: "news", user: "ann", role: .curator)
        #expect(try f.store.role(of: "ann", in: "news") == .curator)
        let grants = try f.store.grants(corpus: "news")
        #expect(grants.map(\.user) == ["ann", "olga"])
        #expect(grants.map(\.role) == [.curator, .owner])

        try f.store.grant(corpus: "news", user: "ann", role: nil)
        #expect(try f.store.role(of: "ann", in: "news") == nil)
        #expect(try f.store.grants(corpus: "news").map(\.user) == ["olga"])
        try f.store.grant(corpus: "news", user: "ann", role: nil)  // nothing to revoke: fine
    }

    @Test func grantErrors() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("olga")
        try f.store.createCorpus(name: "news", owner: "olga")
        expectAccountError(.unknownCorpus, context: "sports") {
            try f.store.grant(corpus: "sports", user: "olga", role: .viewer)
        }
        expectAccountError(.unknownCorpus, context: "NEWS") {
            try f.store.grant(corpus: "NEWS", user: "olga", role: .viewer)
        }
        expectAccountError(.unknownUser, context: "ghost") {
            try f.store.grant(corpus: "news", user: "ghost", role: .viewer)
        }
        expectAccountError(.unknownCorpus, context: "sports") { _ = try f.store.grants(corpus: "sports") }
        #expect(try f.store.grants(corpus: "news").count == 1)
    }

    @Test func aCorpusKeepsAnOwner() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("olga")
        try f.store.addUser("pia")
        try f.store.createCorpus(name: "news", owner: "olga")
        expectAccountError(.lastOwner, context: "news") { try f.store.grant(corpus: "news", user: "olga", role: nil) }
        expectAccountError(.lastOwner, context: "news") {
            try f.store.grant(corpus: "news", user: "olga", role: .curator)
        }
        #expect(try f.store.role(of: "olga", in: "news") == .owner)

        // With a second owner, the first may step down.
        try f.store.grant(corpus: "news", user: "pia", role: .owner)
        try f.store.grant(corpus: "news", user: "olga", role: .curator)
        #expect(try f.store.role(of: "olga", in: "news") == .curator)
        #expect(try f.store.role(of: "pia", in: "news") == .owner)
    }

    @Test func adminsOwnEveryCorpus() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("root", isAdmin: true)
        try f.store.addUser("olga")
        try f.store.createCorpus(name: "news", owner: "olga")
        #expect(try f.store.role(of: "root", in: "news") == .owner)
        #expect(try f.store.role(of: "root", in: "nothing") == nil)
        // Even a lower explicit grant does not demote an admin.
        try f.store.grant(corpus: "news", user: "root", role: .viewer)
        #expect(try f.store.role(of: "root", in: "news") == .owner)
        #expect(try f.store.role(of: "ghost", in: "news") == nil)
    }

    @Test func corporaVisibleToAUser() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        try f.store.addUser("root", isAdmin: true)
        try f.store.addUser("olga")
        try f.store.addUser("ann")
        try f.store.addUser("nobody")
        try f.store.createCorpus(name: "news", owner: "olga")
        try f.store.createCorpus(name: "blogs", owner: "olga", policy: .own)
        try f.store.createCorpus(name: "private", owner: "root")
        try f.store.grant(corpus: "blogs", user: "ann", role: .annotator)

        let ann = try f.store.corpora(visibleTo: "ann")
        #expect(ann.map(\.0.name) == ["blogs"])
        #expect(ann.map(\.1) == [.annotator])
        #expect(ann.first?.0.policy == .own)
        let olga = try f.store.corpora(visibleTo: "olga")
        #expect(olga.map(\.0.name) == ["blogs", "news"])
        #expect(olga.map(\.1) == [.owner, .owner])
        let root = try f.store.corpora(visibleTo: "root")
        #expect(root.map(\.0.name) == ["blogs", "news", "private"])
        #expect(root.allSatisfy { $0.1 == .owner })
        #expect(try f.store.corpora(visibleTo: "nobody").isEmpty)
        expectAccountError(.unknownUser, context: "ghost") { _ = try f.store.corpora(visibleTo: "ghost") }
    }

    @Test func userSummariesGiveGrantsAndTokenCounts() throws {
        let f = try Fixture()
        defer { f.directory.remove() }
        #expect(try f.store.userSummaries().isEmpty)
        let root = try f.store.addUser("root", isAdmin: true)
        let olga = try f.store.addUser("olga")
        let ann = try f.store.addUser("ann")
        _ = try f.store.issueToken(for: "root")
        _ = try f.store.issueToken(for: "ann")
        let lost = try f.store.issueToken(for: "ann", label: "lost")
        try f.store.revokeToken(id: lost.id)
        try f.store.createCorpus(name: "news", owner: "olga")
        try f.store.createCorpus(name: "blogs", owner: "olga")
        try f.store.grant(corpus: "news", user: "ann", role: .annotator)
        try f.store.grant(corpus: "blogs", user: "ann", role: .viewer)

        let summaries = try f.store.userSummaries()
        #expect(
            summaries == [
                UserSummary(
                    user: ann, grants: [.init(corpus: "blogs", role: .viewer), .init(corpus: "news", role: .annotator)],
                    activeTokens: 1, revokedTokens: 1),
                UserSummary(
                    user: olga, grants: [.init(corpus: "blogs", role: .owner), .init(corpus: "news", role: .owner)],
                    activeTokens: 0, revokedTokens: 0),
                // An admin's implicit ownership is not a grant.
                UserSummary(user: root, grants: [], activeTokens: 1, revokedTokens: 0),
            ])
        // The counts agree with the token listings.
        for summary in summaries {
            let tokens = try f.store.tokens(for: summary.user.name)
            #expect(tokens.filter { !$0.isRevoked }.count == summary.activeTokens)
            #expect(tokens.filter(\.isRevoked).count == summary.revokedTokens)
        }
    }

    // MARK: Persistence

    @Test func everythingSurvivesReopening() throws {
        let directory = try TemporaryDirectory("accounts")
        defer { directory.remove() }
        let path = directory.path("accounts.sqlite")
        var store: AccountStore? = try AccountStore(path: path)
        let root = try store!.addUser("root", isAdmin: true)
        let ann = try store!.addUser("ann")
        let token = try store!.issueToken(for: "ann", label: "laptop")
        let revoked = try store!.issueToken(for: "ann")
        try store!.revokeToken(id: revoked.id)
        try store!.createCorpus(name: "news", owner: "root", policy: .own)
        try store!.grant(corpus: "news", user: "ann", role: .curator)
        let corpus = try #require(try store!.corpus(named: "news"))
        let tokens = try store!.tokens(for: "ann")
        store = nil  // closes the pool

        let reopened = try AccountStore(path: path)
        #expect(try reopened.users() == [ann, root])
        #expect(try reopened.authenticate(token: token.secret) == ann)
        #expect(try reopened.authenticate(token: revoked.secret) == nil)
        #expect(try reopened.tokens(for: "ann") == tokens)
        #expect(try reopened.corpora() == [corpus])
        #expect(try reopened.role(of: "ann", in: "news") == .curator)
        #expect(try reopened.role(of: "root", in: "news") == .owner)
        #expect(try reopened.writerSynchronousLevel() == 2)
    }
}
