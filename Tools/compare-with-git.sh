#!/usr/bin/env bash
# Gloss beside git as users run them: the real `gloss` and `git` commands, timed as whole
# processes with GNU time (one warm-up pair, then pairs A B A B …; medians of wall time and
# peak memory, and the median of the per-pair ratios Gloss ÷ git), over loopback,
# on the same history: the glossd data directory and the git repository that
# `gloss-sync-bench --keep` leaves (it prints this script's command line at its end).
#
#   swift build -c release
#   .build-syncbench/release/gloss-sync-bench --keep ...
#   Tools/compare-with-git.sh DATA_DIR CORPUS GIT_REPO [DOC]
#
# DATA_DIR is a glossd data directory (server.sqlite, the identity, admin.token, corpora/);
# GIT_REPO is a bare repository of brat files (DOC.txt, DOC.ann), one commit per revision;
# DOC is the document to look at 1,000 revisions back (default: the .ann most often changed).
# Both are copied first: the pushes and pulls below add revisions. Environment: RUNS (counted
# runs per command, default 5), GLOSS_BIN (default .build/release), KEEP=1 to keep the scratch
# directory.
#
# Compared: `gloss clone` vs `git clone --bare` and `git clone` (checkout) over git daemon,
# protocol v2; `gloss pull` of 10 new changesets vs `git fetch` of 10 new commits;
# `gloss show DOC --at HEAD-1000` vs `git show HEAD~1000:DOC.ann`; `gloss log --json` vs
# `git log`, 10,000 revisions. Commands that need a fresh directory or a workspace that is
# behind run through a small /bin/sh wrapper that picks the next prepared copy and `exec`s
# the command; both sides go through the same kind of wrapper.
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
DATA=$(cd "$1" && pwd)
CORPUS=$2
REPO=$(cd "$3" && pwd)
DOC=${4:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Absolute: the script changes directory.
BIN=$(cd "${GLOSS_BIN:-$ROOT/.build/release}" && pwd)
GLOSS=$BIN/gloss
GLOSSD=$BIN/glossd
RUNS=${RUNS:-5}
BACK=1000
LOG_LIMIT=10000

for exe in "$GLOSS" "$GLOSSD"; do
  [ -x "$exe" ] || { echo "no $exe: build first (swift build -c release), or set GLOSS_BIN" >&2; exit 2; }
done
command -v git >/dev/null || { echo "git is not installed (apt-get install -y git)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install -y time)" >&2; exit 2; }
[ -f "$DATA/admin.token" ] && [ -f "$DATA/corpora/$CORPUS.sqlite" ] || { echo "$DATA: no admin.token or corpora/$CORPUS.sqlite" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gloss-vs-git.XXXXXX")
GLOSSD_PID=
DAEMON_PID=
cleanup() {
  local rc=$?
  set +e # a server stopped by SIGTERM is waited for with status 143
  [ -n "$GLOSSD_PID" ] && kill "$GLOSSD_PID" 2>/dev/null && wait "$GLOSSD_PID" 2>/dev/null
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
mkdir -p "$WORK/bin" "$WORK/home" "$WORK/git" "$WORK/clones"
note() { printf '\n== %s\n' "$*"; }
step() { printf '  %s\n' "$*" >&2; }

# git with a configuration of its own, as the benchmark runs it.
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home NO_COLOR=1
git config --global user.name bench
git config --global user.email bench@gloss.bench

step "copying $DATA and $REPO to $WORK"
cp -a "$DATA" "$WORK/glossd"
rm -f "$WORK/glossd/glossd.pid"
cp -a "$REPO" "$WORK/git/repo.git"

# --- the servers ------------------------------------------------------------------------------
GLOSSD_METRICS_LISTEN=off "$GLOSSD" serve --data "$WORK/glossd" --listen 127.0.0.1:0 >"$WORK/glossd.log" 2>&1 &
GLOSSD_PID=$!
until grep -qs "listening on" "$WORK/glossd.log"; do
  kill -0 "$GLOSSD_PID" 2>/dev/null || { cat "$WORK/glossd.log" >&2; exit 1; }
  sleep 0.1
done
PIN=$(grep -m1 -o 'sha256:[0-9a-f]\{64\}' "$WORK/glossd.log")
PORT=$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$WORK/glossd.log" | sed 's/.*://')
SERVER=gloss://127.0.0.1:$PORT
URL=$SERVER/$CORPUS
# A user of our own, granted by the admin, as README.md does it.
TOKEN=$("$GLOSSD" user add "vs-git-$$" --data "$WORK/glossd")
GLOSS_TOKEN=$(cat "$WORK/glossd/admin.token") "$GLOSS" corpus grant "$SERVER" "$CORPUS" "vs-git-$$" annotator --pin "$PIN" -q
step "glossd on 127.0.0.1:$PORT ($PIN)"

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
GPORT=$(free_port)
git daemon --export-all --base-path="$WORK/git" --reuseaddr --listen=127.0.0.1 --port="$GPORT" "$WORK/git" 2>"$WORK/daemon.log" &
DAEMON_PID=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$GPORT") 2>/dev/null; do
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
GURL=git://127.0.0.1:$GPORT/repo.git
step "git daemon on 127.0.0.1:$GPORT"

if [ -z "$DOC" ]; then
  DOC=$(git -C "$WORK/git/repo.git" log --format= --name-only main | grep '\.ann$' | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
  DOC=${DOC%.ann}
fi

# --- wrappers: /bin/sh, then exec ------------------------------------------------------------
# `next POOL` prints the next unused copy in POOL (copies 0, 1, 2 …).
cat >"$WORK/bin/next" <<'EOF'
#!/bin/sh
n=$(cat "$1/next" 2>/dev/null || echo 0)
echo $((n + 1)) >"$1/next"
[ -d "$1/$n" ] || { echo "$1: no copy $n left" >&2; exit 1; }
echo "$1/$n"
EOF
chmod +x "$WORK/bin/next"
wrapper() { # NAME BODY
  printf '#!/bin/sh\nset -e\n%s\n' "$2" >"$WORK/bin/$1"
  chmod +x "$WORK/bin/$1"
}
wrapper gloss-clone "exec '$GLOSS' clone '$URL' \"\$(mktemp -u -d '$WORK/clones/gloss.XXXXXX')\" --pin '$PIN' --token '$TOKEN'"
wrapper git-clone-bare "exec git -c protocol.version=2 clone --bare '$GURL' \"\$(mktemp -u -d '$WORK/clones/bare.XXXXXX')\""
wrapper git-clone "exec git -c protocol.version=2 clone '$GURL' \"\$(mktemp -u -d '$WORK/clones/checkout.XXXXXX')\""
wrapper gloss-pull "cd \"\$('$WORK/bin/next' '$WORK/pull-gloss')\"; exec '$GLOSS' pull"
wrapper git-fetch "cd \"\$('$WORK/bin/next' '$WORK/pull-git')\"; exec git -c protocol.version=2 fetch origin"

# One run of a command: prints "WALL_SECONDS PEAK_KB" (wall from bash's microsecond clock,
# as GNU time's is in hundredths; peak from GNU time); the output is thrown away, a failure
# reported.
timed() {
  local out=$WORK/time.out start end
  start=$EPOCHREALTIME
  if ! /usr/bin/time -f '%M' -o "$out" "$@" >/dev/null 2>"$WORK/time.err"; then
    echo "  failed: $* ($(tail -n 1 "$WORK/time.err"))" >&2
  fi
  end=$EPOCHREALTIME
  printf '%s %s\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')" "$(tail -n 1 "$out")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Medians of RUNS runs of A and of B, taken in turn after one warm-up pair (so a drift in the
# machine's speed touches both), and the median of the pair-by-pair ratios A ÷ B.
bench() { # TITLE TIMEOUT A-COMMAND... B-COMMAND-STRING (B last, one string; TIMEOUT unused)
  local title=$1
  shift 2
  local b=${*: -1}
  local -a a=("${@:1:$#-1}")
  note "$title (A = Gloss, B = git; ratios A/B = Gloss ÷ git)"
  read -r -a bcmd <<<"$b"
  timed "${a[@]}" >/dev/null
  timed "${bcmd[@]}" >/dev/null
  local -a aw am bw bm ratios
  for ((i = 0; i < RUNS; i++)); do
    read -r w m < <(timed "${a[@]}"); aw+=("$w"); am+=("$m")
    read -r w2 m2 < <(timed "${bcmd[@]}"); bw+=("$w2"); bm+=("$m2")
    ratios+=("$(awk -v x="$w" -v y="$w2" 'BEGIN { print (y > 0) ? x / y : "inf" }')")
  done
  printf '  A wall s %s   peak MiB %s\n' "$(printf '%s\n' "${aw[@]}" | median)" \
    "$(printf '%s\n' "${am[@]}" | median | awk '{ printf "%.1f", $1 / 1024 }')"
  printf '  B wall s %s   peak MiB %s\n' "$(printf '%s\n' "${bw[@]}" | median)" \
    "$(printf '%s\n' "${bm[@]}" | median | awk '{ printf "%.1f", $1 / 1024 }')"
  printf '  A/B wall (median of %s pairs) %s\n' "$RUNS" "$(printf '%s\n' "${ratios[@]}" | median)"
}

# Median wall time of one command alone.
alone() {
  local -a ws
  timed "$@" >/dev/null
  for ((i = 0; i < RUNS; i++)); do read -r w _ < <(timed "$@"); ws+=("$w"); done
  printf '  wall s %s\n' "$(printf '%s\n' "${ws[@]}" | median)"
}

# --- clones -----------------------------------------------------------------------------------
bench "clone: gloss clone vs git clone --bare" 1800 "$WORK/bin/gloss-clone" "$WORK/bin/git-clone-bare"
rm -rf "$WORK/clones"/*
bench "clone: gloss clone vs git clone (with checkout)" 1800 "$WORK/bin/gloss-clone" "$WORK/bin/git-clone"
rm -rf "$WORK/clones"/*

# One workspace and one clone at the head, for the reading commands and as the pull copies' origin.
step "a workspace and a git clone at the head"
"$GLOSS" clone "$URL" "$WORK/ws" --pin "$PIN" --token "$TOKEN" -q
git -c protocol.version=2 clone -q "$GURL" "$WORK/checkout"
HEAD_REV=$(cd "$WORK/ws" && "$GLOSS" log -n 1 --json | sed 's/.*"revision":\([0-9]*\).*/\1/')
AT=$((HEAD_REV - BACK))
note "workspace at r$HEAD_REV; git at $(git -C "$WORK/checkout" rev-list --count HEAD) commits; document $DOC"
printf '  sizes: gloss workspace %s B; git clone .git %s B + checkout %s B\n' \
  "$(du -sb "$WORK/ws" | cut -f1)" "$(du -sb "$WORK/checkout/.git" | cut -f1)" \
  "$(($(du -sb "$WORK/checkout" | cut -f1) - $(du -sb "$WORK/checkout/.git" | cut -f1)))"

# --- reading the past ---------------------------------------------------------------------------
cd "$WORK/ws"
if err=$("$GLOSS" show "$DOC" --at "$AT" 2>&1 >/dev/null); then
  bench "gloss show $DOC --at $AT vs git show HEAD~$BACK:$DOC.ann" 300 \
    "$GLOSS" show "$DOC" --at "$AT" "git -C $WORK/checkout show HEAD~$BACK:$DOC.ann"
else
  # A clone starts a document's history at its latest snapshot: nothing before it to show.
  note "gloss show $DOC --at $AT fails in a fresh clone: $err"
  note "git show HEAD~$BACK:$DOC.ann alone"
  alone git -C "$WORK/checkout" show "HEAD~$BACK:$DOC.ann"
fi
bench "gloss log --json -n $LOG_LIMIT vs git log -n $LOG_LIMIT" 300 \
  "$GLOSS" log --json -n "$LOG_LIMIT" "git -C $WORK/checkout log -n $LOG_LIMIT"
cd "$WORK"

# --- incremental pull of 10 -----------------------------------------------------------------
# Copies of the workspace and of the clone, one per run (the warm-up's included), then 10 new
# changesets on each server: the copies are then all 10 behind.
step "$((RUNS + 2)) copies of the workspace and of the clone"
for i in $(seq 0 $((RUNS + 1))); do
  mkdir -p "$WORK/pull-gloss" "$WORK/pull-git"
  cp -a "$WORK/ws" "$WORK/pull-gloss/$i"
  cp -a "$WORK/checkout" "$WORK/pull-git/$i"
done
step "10 changesets of one span each: gloss span add + gloss push; git commit + git push"
"$GLOSS" clone "$URL" "$WORK/pusher" --pin "$PIN" --token "$TOKEN" -q
git clone -q "$WORK/git/repo.git" "$WORK/gitpusher"
for i in $(seq 1 10); do
  (cd "$WORK/pusher" && "$GLOSS" span add "$DOC" $((i * 13)) $((i * 13 + 5)) PER -q >/dev/null)
  printf 'T%d\tPER %d %d\tspan\n' $((900000 + i)) $((i * 13)) $((i * 13 + 5)) >>"$WORK/gitpusher/$DOC.ann"
  git -C "$WORK/gitpusher" commit -q -am "span $i"
done
(cd "$WORK/pusher" && "$GLOSS" push -q)
git -C "$WORK/gitpusher" push -q origin main
bench "gloss pull (10 changesets) vs git fetch (10 commits)" 300 "$WORK/bin/gloss-pull" "$WORK/bin/git-fetch"
# Each copy must have caught up.
after=$(cd "$WORK/pull-gloss/0" && "$GLOSS" log -n 1 --json | sed 's/.*"revision":\([0-9]*\).*/\1/')
[ "$after" = $((HEAD_REV + 10)) ] || echo "warning: a pulled workspace is at r$after, expected r$((HEAD_REV + 10))" >&2
[ "$(git -C "$WORK/pull-git/0" rev-list --count HEAD..origin/main)" = 10 ] || echo "warning: a fetch did not bring 10 commits" >&2
