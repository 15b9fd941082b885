#!/usr/bin/env bash
# Runs one fuzz target (built by build.sh) on its corpus, under the limits FUZZING.md gives.
# Usage: Tools/Fuzz/run.sh TARGET SECONDS [more libFuzzer flags, e.g. -runs=10000000]
# Exits non-zero when libFuzzer finds a crash, a hang (-timeout), an allocation over
# -malloc_limit_mb or a process over -rss_limit_mb; the input that did it is written to
# Tools/Fuzz/artifacts/TARGET/ and the log to Tools/Fuzz/logs/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="${GLOSS_FUZZ_SCRATCH:-$here/../../.build-fuzz}"
target="$1"
seconds="$2"
shift 2
binary="$scratch/debug/$target"
[ -x "$binary" ] || { echo "no $binary: run Tools/Fuzz/build.sh first" >&2; exit 2; }
corpus="$here/corpus/$target"
[ -d "$corpus" ] || python3 "$here/seed.py" "$target" >/dev/null
mkdir -p "$here/artifacts/$target" "$here/logs"
log="$here/logs/$target-$(date +%Y%m%d-%H%M%S).log"
# A smaller ASan quarantine keeps freed memory from counting against the RSS limit; leak
# checking is off because the Swift runtime's caches live until exit.
# Swift's own crash backtracer trips ASan; libFuzzer prints the stack itself.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32:detect_leaks=0:allocator_may_return_null=0}"
# A dictionary of the format's tokens, when the target has one.
dict=()
[ -e "$here/dicts/$target.dict" ] && dict=(-dict="$here/dicts/$target.dict")
status=0
"$binary" "$corpus" "${dict[@]}" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=512 -malloc_limit_mb=512 \
  -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$here/artifacts/$target/" "$@" \
  >"$log" 2>&1 || status=$?
grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|^stat::number_of_executed_units|^Done ' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "FINDING in $target (exit $status): see $log and $here/artifacts/$target/" >&2
  grep -E 'ERROR|Fatal error|fuzz invariant|SUMMARY|artifact' "$log" | head -20 >&2 || true
fi
exit "$status"
