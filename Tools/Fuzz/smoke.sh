#!/usr/bin/env bash
# The fuzz smoke run of .ci/run: builds every target (instrumented, in .build-fuzz), seeds
# the corpora, and runs each target for a few seconds. Fails if any target crashes, hangs or
# exceeds the memory limits (run.sh). Usage: Tools/Fuzz/smoke.sh [SECONDS per target, default 5]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-5}"
targets=(
  FuzzFrameDecoder FuzzMessageAssembler FuzzWireMessage FuzzDeltaCodec FuzzHeadBlockCodec FuzzHeadEntryCodec
  FuzzSnapshot FuzzBrat FuzzDoccano FuzzLabelStudio FuzzCoNLL FuzzW3C FuzzInlineMarkup FuzzSettings
)
start=$SECONDS
"$here/build.sh"
echo "fuzz targets built in $((SECONDS - start)) s"
python3 "$here/seed.py" "${targets[@]}"
failed=()
for target in "${targets[@]}"; do
  echo "== $target ($seconds s)"
  "$here/run.sh" "$target" "$seconds" || failed+=("$target")
done
# Committed reproducers of fixed findings must stay fixed.
for dir in "$here"/findings/*/; do
  target="$(basename "$dir")"
  [ -d "$dir/fixed" ] || continue
  echo "== $target: fixed findings"
  "$here/run.sh" "$target" 0 -runs=0 "$dir/fixed" || failed+=("$target (a fixed finding)")
done
echo "fuzz smoke run: ${#targets[@]} targets in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke run FAILED: ${failed[*]}" >&2
  exit 1
fi
