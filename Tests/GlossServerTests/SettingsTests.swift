import Foundation
import GlossServer
import GlossTestSupport
import Testing

/// glossd's settings: defaults < file < environment < flags, and precise errors for bad files.
@Suite(.hangGuard, .timeLimit(.minutes(10)))
struct SettingsTests {
    static func file(_ yaml: String) throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory("settings")
        let path = dir.path("glossd.yaml")
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() async throws {
        let (dir, path) = try Self.file(
            """
            data: /srv/gloss
            listen: 0.0.0.0:7000
            limits:
              idle_timeout: 2m
              max_connections: 10
            log:
              level: debug
            """)
        defer { dir.remove() }
        let fileOnly = try GlossdSettings.resolve(file: path, environment: [:])
        #expect(fileOnly.listen.port == 7000)
        #expect(fileOnly.duration("limits.idle_timeout") == .seconds(120))
        #expect(fileOnly.entries["limits.idle_timeout"]?.source == "\(path):4")
        #expect(fileOnly.integer("limits.max_connections") == 10)
        #expect(fileOnly.duration("limits.handshake_timeout") == .seconds(10))  // the default
        #expect(fileOnly.entries["limits.handshake_timeout"]?.source == "default")

        let env = ["GLOSSD_LISTEN": "127.0.0.1:7100", "GLOSSD_LIMITS_MAX_CONNECTIONS": "20"]
        let withEnv = try GlossdSettings.resolve(file: path, environment: env)
        #expect(withEnv.listen.port == 7100)
        #expect(withEnv.integer("limits.max_connections") == 20)
        #expect(withEnv.entries["listen"]?.source == "GLOSSD_LISTEN")

        let withFlags = try GlossdSettings.resolve(file: path, environment: env, flags: ["listen": "127.0.0.1:7200"])
        #expect(withFlags.listen.port == 7200)
        #expect(withFlags.entries["listen"]?.source == "--listen")
        #expect(withFlags.integer("limits.max_connections") == 20)

        let configuration = try withFlags.serverConfiguration()
        #expect(configuration.port == 7200)
        #expect(configuration.maxConnections == 20)
        #expect(configuration.idleTimeout == .seconds(120))
        #expect(configuration.dataDirectory.path == "/srv/gloss")
    }

    @Test func badFilesNameTheKeyAndLine() async throws {
        let cases: [(yaml: String, code: SettingsError.Code, line: Int, mentions: String)] = [
            ("data: /x\nlimits:\n  idle_timout: 5m\n", .unknownKey, 3, "limits.idle_timout is not a setting (did you mean limits.idle_timeout?)"),
            ("data: /x\nlisten: nowhere\n", .invalidValue, 2, "expected HOST:PORT"),
            ("limits:\n  max_frame_bytes: 12 parsecs\n", .invalidValue, 2, "expected a size"),
            ("log:\n  level: loud\n", .invalidValue, 2, "expected one of trace, debug"),
            ("limits:\n  idle_timeout: [1, 2]\n", .invalidValue, 2, "takes a single value"),
            ("data: /x\n  listen: : :\n", .malformedFile, 2, "YAML"),
            ("tls:\n  cert: /etc/cert.pem\n", .inconsistent, 0, "tls.cert and tls.key go together"),
            ("- data\n- listen\n", .malformedFile, 1, "mapping"),
            ("bogus:\n  deeper: 1\n", .unknownKey, 1, "bogus is not a setting"),
        ]
        for c in cases {
            let (dir, path) = try Self.file(c.yaml)
            defer { dir.remove() }
            do {
                try GlossdSettings.check(file: path)
                Issue.record("accepted: \(c.yaml)")
            } catch {
                #expect(error.code == c.code, "\(c.yaml): \(error)")
                if c.line > 0 { #expect(error.line == c.line, "\(c.yaml): \(error)") }
                #expect(error.description.contains(c.mentions), "\(error)")
                #expect(error.description.hasPrefix(path) || c.line == 0)
            }
        }
        // A valid file passes, and an empty one sets nothing.
        let (dir, path) = try Self.file("listen: 0.0.0.0:7743\nmetrics:\n  listen: off\n")
        defer { dir.remove() }
        #expect(try GlossdSettings.check(file: path) == 2)
        let (empty, emptyPath) = try Self.file("")
        defer { empty.remove() }
        #expect(try GlossdSettings.check(file: emptyPath) == 0)
    }

    @Test func environmentAndFlagsAreCheckedToo() async throws {
        #expect(throws: SettingsError.self) { try GlossdSettings.resolve(environment: ["GLOSSD_LIMITS_IDLE_TIMEOUT": "soon"]) }
        do {
            _ = try GlossdSettings.resolve(environment: [:], flags: ["listen": "x"])
            Issue.record("a bad flag was accepted")
        } catch {
            #expect(error.source == "--listen")
        }
        #expect(throws: SettingsError.self) { try GlossdSettings.resolve(environment: [:]).serverConfiguration() }
    }

    @Test func theMemoryBoundsAreSettingsWithSafeDefaults() throws {
        let defaults = try GlossdSettings.resolve(environment: ["GLOSSD_DATA": "/tmp/x"]).serverConfiguration()
        #expect(defaults.limits.maxAuthMessageBytes == 64 << 10)
        #expect(defaults.limits.maxBufferedBytes == 64 << 20)
        #expect(defaults.maxBufferedBytes == 256 << 20)
        let set = try GlossdSettings.resolve(environment: [
            "GLOSSD_DATA": "/tmp/x", "GLOSSD_LIMITS_MAX_AUTH_MESSAGE_BYTES": "16KiB",
            "GLOSSD_LIMITS_MAX_CONNECTION_BUFFERED_BYTES": "8MiB", "GLOSSD_LIMITS_MAX_BUFFERED_BYTES": "1GiB",
        ]).serverConfiguration()
        #expect(set.limits.maxAuthMessageBytes == 16 << 10)
        #expect(set.limits.maxBufferedBytes == 8 << 20)
        #expect(set.maxBufferedBytes == 1 << 30)
    }

    @Test func everySettingIsDocumentedInDeployReadme() async throws {
        let readme = try String(
            contentsOf: GlossProcesses.repositoryRoot.appendingPathComponent("deploy/README.md"), encoding: .utf8)
        for key in SettingKey.all {
            #expect(readme.contains("`\(key.key)`"), "deploy/README.md does not document \(key.key)")
            #expect(readme.contains(key.environmentVariable), "deploy/README.md does not name \(key.environmentVariable)")
        }
    }
}
