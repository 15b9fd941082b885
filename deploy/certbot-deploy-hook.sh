#!/bin/sh
# certbot deploy hook for glossd.
#
# Install:  install -m 0755 certbot-deploy-hook.sh /etc/letsencrypt/renewal-hooks/deploy/glossd
# and set CERT_NAME below to the certificate's name (ls /etc/letsencrypt/live).
#
# certbot runs every deploy hook after it obtains or renews a certificate, with
# RENEWED_LINEAGE=/etc/letsencrypt/live/NAME. This one copies fullchain.pem and privkey.pem
# into /etc/glossd/tls, readable by the glossd group only (certbot keeps private keys
# readable by root alone), and has glossd reload them: SIGHUP, no connection is dropped.
# Point glossd at the copies (glossd.yaml):
#   tls:
#     cert: /etc/glossd/tls/fullchain.pem
#     key: /etc/glossd/tls/privkey.pem
# Run it once by hand after the first `certbot certonly`:
#   RENEWED_LINEAGE=/etc/letsencrypt/live/annot.example.org /etc/letsencrypt/renewal-hooks/deploy/glossd
set -eu

CERT_NAME=${GLOSSD_CERT_NAME:-annot.example.org}
DEST=${GLOSSD_TLS_DIR:-/etc/glossd/tls}
# The group glossd runs as: glossd for the systemd unit, 7743 for the container image.
GROUP=${GLOSSD_GROUP:-glossd}

case "${RENEWED_LINEAGE:?certbot sets RENEWED_LINEAGE}" in
    */"$CERT_NAME") ;;
    *) exit 0 ;;  # another certificate on this machine
esac

install -d -m 0750 -o root -g "$GROUP" "$DEST"
install -m 0644 -o root -g "$GROUP" "$RENEWED_LINEAGE/fullchain.pem" "$DEST/fullchain.pem.new"
install -m 0640 -o root -g "$GROUP" "$RENEWED_LINEAGE/privkey.pem" "$DEST/privkey.pem.new"
# Key first: glossd reloads both on SIGHUP, and each rename is atomic.
mv -f "$DEST/privkey.pem.new" "$DEST/privkey.pem"
mv -f "$DEST/fullchain.pem.new" "$DEST/fullchain.pem"

if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet glossd.service 2>/dev/null; then
    systemctl reload glossd.service
fi
# In a container instead: docker compose -f /path/to/deploy/compose.yaml kill -s HUP glossd
