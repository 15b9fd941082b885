#!/usr/bin/env bash
# Prints the figures of fuzz runs from their logs (Tools/Fuzz/logs/), one line per log, as
# FUZZING.md records them: executions, coverage edges (cov), features (ft), corpus size,
# executions per second, peak RSS, and whether it ended in a finding.
# Usage: Tools/Fuzz/figures.sh [LOG ...] (default: every log)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -gt 0 ] || set -- "$here"/logs/*.log
printf '%-48s %10s %6s %6s %8s %7s %6s %s\n' log execs cov ft corpus exec/s rss outcome
for log in "$@"; do
  last="$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 || true)"
  [ -n "$last" ] || continue
  execs="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
  [ -n "$execs" ] || execs="$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")"
  cov="$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+')"
  ft="$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+')"
  corpus="$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" | cut -d' ' -f2)"
  rate="$(grep -oE 'average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || grep -oE 'exec/s: [0-9]+' <<<"$last" | grep -oE '[0-9]+')"
  rss="$(grep -oE 'peak_rss_mb: *[0-9]+' "$log" | grep -oE '[0-9]+$' || grep -oE 'rss: [0-9]+' <<<"$last" | grep -oE '[0-9]+')"
  outcome=clean
  grep -qE 'ERROR: libFuzzer|Fatal error|ERROR: AddressSanitizer' "$log" && outcome=FINDING
  printf '%-48s %10s %6s %6s %8s %7s %6s %s\n' "$(basename "$log")" "$execs" "$cov" "$ft" "$corpus" "$rate" "$rss" "$outcome"
done
