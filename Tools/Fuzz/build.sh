#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer and AddressSanitizer (FUZZING.md), in a scratch
# directory of its own so that the instrumented objects never mix with the main `.build`.
# Usage: Tools/Fuzz/build.sh [extra swift build arguments]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${GLOSS_FUZZ_SCRATCH:-$here/../../.build-fuzz}"
# Both flag kinds are needed: SwiftPM's for the C targets and the link, swiftc's for Swift.
swift build --package-path "$here" --scratch-path "$scratch" -c debug \
  --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library "$@"
