#!/usr/bin/env bash
# Regenerates Sources/GlossWire/Generated/*.pb.swift from Protocol/*.proto.
#
# Needs Debian's protoc (apt-get install protobuf-compiler) and builds protoc-gen-swift from
# the swift-protobuf checkout SwiftPM resolved for this package, so the generator matches the
# runtime. The generated code is committed: builds and CI never run this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
swift package resolve
checkout=.build/checkouts/swift-protobuf
[ -d "$checkout" ] || { echo "no swift-protobuf checkout under .build/checkouts" >&2; exit 1; }
swift build -c release --package-path "$checkout" --scratch-path .build-protoc-gen-swift --product protoc-gen-swift
plugin=.build-protoc-gen-swift/release/protoc-gen-swift

protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  --swift_out=Sources/GlossWire/Generated \
  --proto_path=Protocol Protocol/gloss.proto
echo "generated: $(ls Sources/GlossWire/Generated)"
