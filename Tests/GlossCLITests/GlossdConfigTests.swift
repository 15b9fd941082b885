import Foundation
import GlossTestSupport
import Testing

/// `glossd` as an admin runs it: a configuration file under environment variables under
/// flags, `glossd config check`, and a certificate reloaded on SIGHUP.
@Suite(.serialized, .hangGuard, .timeLimit(.minutes(10)))
struct GlossdConfigTests {
    @Test func configCheckNamesTheBadKeyAndLine() async throws {
        let dir = try TemporaryDirectory("config")
        defer { dir.remove() }
        let bad = dir.url.appendingPathComponent("bad.yaml")
        try Data("listen: 0.0.0.0:7743\nlimits:\n  idle_timout: 5m\n".utf8).write(to: bad)
        let result = try await GlossProcesses.glossd(["config", "check", bad.path], in: dir.url)
        #expect(result.status == 1)
        #expect(result.err.contains("bad.yaml:3:3: unknown-key: limits.idle_timout is not a setting (did you mean limits.idle_timeout?)"), "\(result.err)")
        let good = dir.url.appendingPathComponent("good.yaml")
        try Data("listen: 0.0.0.0:7743\nlimits:\n  idle_timeout: 5m\n".utf8).write(to: good)
        let ok = try await GlossProcesses.glossd(["config", "check", good.path], in: dir.url)
        #expect(ok.status == 0 && ok.out.contains("ok (2 setting(s))"))
        let keys = try await GlossProcesses.glossd(["config", "keys"], in: dir.url)
        #expect(keys.out.contains("`GLOSSD_LIMITS_IDLE_TIMEOUT`"))
    }

    @Test func flagsBeatEnvironmentBeatTheFile() async throws {
        let dir = try TemporaryDirectory("layers")
        defer { dir.remove() }
        let file = dir.url.appendingPathComponent("glossd.yaml")
        try Data("data: \(dir.path("srv"))\nlisten: 127.0.0.1:1\nlog:\n  level: debug\n".utf8).write(to: file)
        let shown = try await GlossProcesses.glossd(
            ["config", "show", "--config", file.path], in: dir.url, env: ["GLOSSD_LISTEN": "127.0.0.1:2"])
        #expect(shown.out.contains("listen = 127.0.0.1:2\t# GLOSSD_LISTEN"))
        #expect(shown.out.contains("log.level = debug\t# \(file.path):4"))
        #expect(shown.out.contains("limits.idle_timeout = 5m\t# default"))
        // serve: the file gives the data directory, the environment a bad port, the flag wins.
        let daemon = try await GlossDaemon(
            data: dir.url.appendingPathComponent("srv"), arguments: ["--config", file.path, "--listen", "127.0.0.1:0"],
            environment: ["GLOSSD_LISTEN": "127.0.0.1:1"])
        #expect(daemon.port > 1)
        #expect(FileManager.default.fileExists(atPath: dir.path("srv/server.sqlite")))
        #expect(await daemon.terminate() == 0)
        // A bad value in the environment is refused before anything starts.
        let refused = try await GlossProcesses.glossd(
            ["serve", "--config", file.path], in: dir.url, env: ["GLOSSD_LIMITS_IDLE_TIMEOUT": "soon"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("GLOSSD_LIMITS_IDLE_TIMEOUT: invalid-value: limits.idle_timeout"))
    }

    @Test func sighupReloadsTheCertificate() async throws {
        let dir = try TemporaryDirectory("sighup")
        defer { dir.remove() }
        func makeCertificate() throws {
            _ = try GlossProcesses.runBlocking(URL(fileURLWithPath: "/usr/bin/openssl"), [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", dir.path("key.pem"), "-out", dir.path("cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        }
        try makeCertificate()
        let daemon = try await GlossDaemon(
            data: dir.url.appendingPathComponent("srv"),
            arguments: ["--listen", "127.0.0.1:0", "--cert", dir.path("cert.pem"), "--key", dir.path("key.pem")])
        let admin = ["GLOSS_TOKEN": daemon.adminToken]
        #expect(try await GlossProcesses.gloss(["corpus", "create", daemon.url, "news", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        let workspace = dir.url.appendingPathComponent("w")
        #expect(try await GlossProcesses.gloss(["clone", "\(daemon.url)/news", workspace.path, "--pin", daemon.pin], in: dir.url, env: admin).status == 0)

        try makeCertificate()  // renewed
        daemon.signal(SIGHUP)
        let said = await daemon.readOutput(until: "reloaded the certificate")
        let renewed = try #require(said.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression).map { String(said[$0]) })
        #expect(renewed != daemon.pin)
        #expect(try await GlossProcesses.gloss(["corpus", "list", daemon.url, "--pin", renewed], in: dir.url, env: admin).status == 0)
        let old = try await GlossProcesses.gloss(["corpus", "list", daemon.url, "--pin", daemon.pin], in: dir.url, env: admin)
        #expect(old.status == 3)
        // The workspace pinned the old certificate: a loud refusal that says what to do.
        let refused = try await GlossProcesses.gloss(["pull"], in: workspace)
        #expect(refused.status == 3)
        #expect(refused.err.contains("CERTIFICATE HAS CHANGED") && refused.err.contains("gloss trust --pin \(renewed)"))
        #expect(try await GlossProcesses.gloss(["trust", "--pin", renewed], in: workspace).status == 0)
        #expect(try await GlossProcesses.gloss(["pull"], in: workspace).status == 0)
        #expect(daemon.process.isRunning)
        #expect(await daemon.terminate() == 0)
    }

    @Test func metricsAndHealthAreServedOnTheLocalPort() async throws {
        let dir = try TemporaryDirectory("metrics")
        defer { dir.remove() }
        let daemon = try await GlossDaemon(
            data: dir.url.appendingPathComponent("srv"), arguments: ["--listen", "127.0.0.1:0"],
            environment: ["GLOSSD_METRICS_LISTEN": "127.0.0.1:0", "GLOSSD_LOG_FORMAT": "json"])
        let line = try #require(
            daemon.startupOutput.range(of: #"http://127\.0\.0\.1:[0-9]+/"#, options: .regularExpression)
                .map { String(daemon.startupOutput[$0]) })
        let admin = ["GLOSS_TOKEN": daemon.adminToken]
        #expect(try await GlossProcesses.gloss(["corpus", "create", daemon.url, "news", "--pin", daemon.pin], in: dir.url, env: admin).status == 0)
        func get(_ path: String) throws -> String {
            try GlossProcesses.runBlocking(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-w", "\n%{http_code}", line + path]).out
        }
        let health = try get("health")
        #expect(health.hasSuffix("200") && health.contains("\"status\":\"ok\""), "\(health)")
        let metrics = try get("metrics")
        #expect(metrics.contains("glossd_requests_total{"), "\(metrics.prefix(500))")
        #expect(metrics.contains("type=\"create_corpus\""))
        #expect(metrics.contains("glossd_connections_total"))
        #expect(try get("nope").hasSuffix("404"))
        #expect(await daemon.terminate() == 0)
    }
}
