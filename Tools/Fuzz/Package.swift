// swift-tools-version:6.0
// libFuzzer targets for every decoder and importer of the main package (FUZZING.md).
//
// A package of its own, depending on the main one by path, so that the instrumented build
// (`--sanitize=fuzzer --sanitize=address`) lives in its own scratch directory and never
// touches the main `.build`. Build and run it with the scripts beside this file.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which differs between clones (CI
// clones into a folder of its own): derive it instead of spelling it.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let gloss = root.lastPathComponent.lowercased()

/// One libFuzzer executable: `Sources/<name>/`, entry point `LLVMFuzzerTestOneInput`.
func fuzzer(_ name: String, _ products: [String], extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: gloss) } + extra)
}

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let protobuf = Target.Dependency.product(name: "SwiftProtobuf", package: "swift-protobuf")

let package = Package(
    name: "GlossFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "GlossModel", package: gloss)]),
        // Network input: the decoders a peer's bytes reach.
        fuzzer("FuzzFrameDecoder", ["GlossWire"], extra: [nioCore]),
        fuzzer("FuzzMessageAssembler", ["GlossWire"], extra: [nioCore]),
        fuzzer("FuzzWireMessage", ["GlossWire", "GlossModel"], extra: [nioCore, protobuf]),
        fuzzer("FuzzDeltaCodec", ["GlossModel"]),
        fuzzer("FuzzHeadBlockCodec", ["GlossModel"]),
        fuzzer("FuzzHeadEntryCodec", ["GlossModel"]),
        fuzzer("FuzzSnapshot", ["GlossModel", "GlossStore"]),
        // Files users import.
        fuzzer("FuzzBrat", ["GlossFormats", "GlossModel"]),
        fuzzer("FuzzDoccano", ["GlossFormats", "GlossModel"]),
        fuzzer("FuzzLabelStudio", ["GlossFormats", "GlossModel"]),
        fuzzer("FuzzCoNLL", ["GlossFormats", "GlossModel"]),
        fuzzer("FuzzW3C", ["GlossFormats", "GlossModel"]),
        fuzzer("FuzzInlineMarkup", ["GlossFormats", "GlossModel"]),
        // glossd's configuration file.
        fuzzer("FuzzSettings", ["GlossServer"]),
    ]
)
