// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Gloss",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "GlossModel", targets: ["GlossModel"]),
        .library(name: "GlossStore", targets: ["GlossStore"]),
        .library(name: "GlossStoreSQLite", targets: ["GlossStoreSQLite"]),
        .library(name: "GlossStorePostgres", targets: ["GlossStorePostgres"]),
        .library(name: "GlossWire", targets: ["GlossWire"]),
        .library(name: "GlossServer", targets: ["GlossServer"]),
        .library(name: "GlossClient", targets: ["GlossClient"]),
        .library(name: "GlossFormats", targets: ["GlossFormats"]),
        .executable(name: "glossd", targets: ["glossd"]),
        .executable(name: "gloss", targets: ["gloss"]),
        .executable(name: "gloss-bench", targets: ["GlossBench"]),
        .executable(name: "gloss-sync-bench", targets: ["GlossSyncBench"]),
        .executable(name: "gloss-local-bench", targets: ["GlossLocalBench"]),
        .executable(name: "gloss-push-memory", targets: ["GlossPushMemory"]),
        .executable(name: "gloss-text-bench", targets: ["GlossTextBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure core: value types, validation, offsets, merge. No I/O, no NIO, no SQL.
        .target(
            name: "GlossModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Versioned store: revision log, compressed delta chains, snapshots, head table; the
        // storage seam (corpus rows and the server's catalog) and an in-memory backend. No SQL.
        .target(
            name: "GlossStore",
            dependencies: [
                "GlossModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // The embedded backend: SQLite files through GRDB (the client's replica, a single-box glossd).
        .target(
            name: "GlossStoreSQLite",
            dependencies: [
                "GlossStore", "GlossModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The raw C API, for the bulk insert of head rows on import.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The scale-out backend: PostgreSQL through postgres-nio (glossd only; the client never links it).
        .target(
            name: "GlossStorePostgres",
            dependencies: [
                "GlossStore", "GlossModel",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The framed protocol: frames, codec handlers, per-frame compression, limits, the
        // connection state machine and the protobuf message bodies (generated, committed).
        .target(
            name: "GlossWire",
            dependencies: [
                "GlossModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // glossd's library: TLS identity, accounts and roles, corpora, sessions, request handlers.
        .target(
            name: "GlossServer",
            dependencies: [
                "GlossModel", "GlossStore", "GlossStoreSQLite", "GlossStorePostgres", "GlossWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Observability: metrics exposed in the Prometheus text format on a local HTTP port.
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The configuration file (YAML, with line numbers for `glossd config check`).
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The client side: TLS connection with pinning, requests and streams, sync engine.
        .target(
            name: "GlossClient",
            dependencies: [
                "GlossModel", "GlossStore", "GlossStoreSQLite", "GlossWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Import and export of other tools' formats (brat standoff). Pure: strings and bytes in and out.
        .target(name: "GlossFormats", dependencies: ["GlossModel"]),
        .executableTarget(
            name: "gloss",
            dependencies: [
                "GlossClient", "GlossModel", "GlossStore", "GlossStoreSQLite", "GlossWire", "GlossFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "glossd",
            dependencies: [
                "GlossServer", "GlossStore", "GlossStoreSQLite", "GlossStorePostgres", "GlossModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // SIGHUP reloads the certificate.
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The seeded synthetic corpus both benchmarks measure.
        .target(name: "GlossBenchCorpus", dependencies: ["GlossModel"], path: "Tools/GlossBenchCorpus"),
        .executableTarget(
            name: "GlossBench",
            dependencies: [
                "GlossModel", "GlossStore", "GlossStoreSQLite", "GlossBenchCorpus",
                // Baselines measured in the same run: raw SQLite commits and inserts.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Tools/GlossBench"
        ),
        // Seeded generators, fixtures and a simulated replica shared by the test targets.
        .target(
            name: "GlossTestSupport",
            dependencies: ["GlossModel", "GlossStore", "GlossStoreSQLite", "GlossStorePostgres"],
            path: "Tests/GlossTestSupport"
        ),
        // The sync benchmark: clone, incremental pull and concurrent pushes over loopback TLS.
        .executableTarget(
            name: "GlossSyncBench",
            dependencies: [
                "GlossModel", "GlossStore", "GlossStoreSQLite", "GlossWire", "GlossServer", "GlossClient", "GlossBenchCorpus",
                // PostgreSQL beside SQLite in the same run: the corpus backend, loaded through the store API.
                "GlossStorePostgres",
                // git in the same run: the same history as brat files, through the project's exporter.
                "GlossFormats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/GlossSyncBench"
        ),
        // Local commands as users run them: the built `gloss` in a large workspace with pending edits.
        .executableTarget(
            name: "GlossLocalBench",
            dependencies: ["GlossModel", "GlossStore", "GlossStoreSQLite", "GlossClient", "GlossBenchCorpus"],
            path: "Tools/GlossLocalBench"
        ),
        // glossd's peak memory and time for one very large push, the real binary over TLS.
        .executableTarget(
            name: "GlossPushMemory",
            dependencies: ["GlossModel", "GlossWire", "GlossClient"],
            path: "Tools/GlossPushMemory"
        ),
        // Re-anchoring on a 10 MB text: TextDiff and range mapping against git diff in the same run.
        .executableTarget(name: "GlossTextBench", dependencies: ["GlossModel", "GlossBenchCorpus"], path: "Tools/GlossTextBench"),
        .testTarget(name: "GlossModelTests", dependencies: ["GlossModel", "GlossTestSupport"]),
        .testTarget(name: "GlossFormatsTests", dependencies: ["GlossFormats", "GlossModel", "GlossTestSupport"]),
        .testTarget(
            name: "GlossStoreTests",
            dependencies: ["GlossStore", "GlossStoreSQLite", "GlossStorePostgres", "GlossModel", "GlossTestSupport"]
        ),
        .testTarget(
            name: "GlossServerTests",
            dependencies: [
                "GlossServer", "GlossClient", "GlossWire", "GlossStore", "GlossStoreSQLite", "GlossStorePostgres",
                "GlossModel", "GlossTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The built `gloss` and `glossd` driven as processes: every command, end to end.
        .testTarget(name: "GlossCLITests", dependencies: ["GlossTestSupport", "GlossModel"]),
        .testTarget(
            name: "GlossWireTests",
            dependencies: [
                "GlossWire", "GlossModel", "GlossTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ]
)
