#!/usr/bin/env bash
# Eighth test tier: rich messages (issue #17) as real readers and a real relay see them.
#
#   tests/rich/run.sh    run every scenario; prints "ok - NAME" / "not ok - NAME: reason" and a
#                        closing "N passed, M failed"; exits non-zero on any failure
#
# The parts, on 127.0.0.1 and free ports, in a fresh temporary directory removed on exit:
#   - a private Postfix (STARTTLS submission, SASL from a sasldb) delivering everything to the
#     recorder, as in tests/postfix: every check is made on what Postfix delivered, so a relay
#     that broke the tree or the signature fails the tier;
#   - dnsmasq on 127.0.0.1:53 publishing the DKIM keys as TXT records (SELECTOR._domainkey),
#     for dkimpy's dkimverify, run in a private mount namespace (unshare --mount) whose
#     /etc/resolv.conf says `nameserver 127.0.0.1`; the machine's own resolver is untouched.
#     When port 53 is taken, the DNS scenarios are skipped and the key-file checks still run.
#
# Scenarios:
#   ci-report       the issue's CI job: report.md with an embedded chart PNG, a zipped log,
#                   Ed25519-signed; Python's email package sees multipart/mixed around
#                   multipart/alternative(text/plain, multipart/related(text/html, image/png)),
#                   the chart not listed as an attachment, its cid resolved, the zip the only
#                   attachment; and the signature verifies (check.py: dkimpy, key as given).
#   dkim-rsa-dns, dkim-ed25519-dns
#                   a signed message through Postfix verifies with dkimverify against the key
#                   dnsmasq publishes; the same message altered does not.
#   render          with RICH_RENDER=1 and chromium on PATH: the HTML part, its cid: images
#                   made files, rendered headless to a PNG, which must not be blank (the image
#                   is kept in $T/render.png with RICH_TEST_KEEP=1, for a person to look at).
#
# Needs root (it installs postfix, sasl2-bin, libsasl2-modules, openssl, python3, python3-dkim,
# python3-dnspython and dnsmasq-base with apt-get when missing, and starts Postfix and
# dnsmasq). Environment:
#   SMTPSEND           binary under test (default target/debug/smtpsend; built if missing)
#   RICH_RENDER=1      also render the HTML in headless Chromium (chromium must be installed)
#   RICH_TEST_KEEP=1   keep the temporary directory (its path is printed)
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
HERE=$REPO/tests/rich
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"
tier_environment        # BIN; PATH, LC_ALL, umask; no SMTPSEND* variables

USER_NAME=alice
REALM=smtpsend.test
DOMAIN=rich.test        # the signing domain, published by dnsmasq
DELIVERY_TIMEOUT=20
CLIENT_TIMEOUT=60
PY=/usr/bin/python3     # Debian's, which has python3-dkim

T=$(mktemp -d /tmp/smtpsend-rich.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs KEYS=$T/keys
MAILLOG=$T/maillog
KEEP=${RICH_TEST_KEEP:-}   # cleanup keeps $T when 1
# shellcheck disable=SC2034  # start_dnsmasq sets it, stop_servers reads it by name
DNS_PID=

stop_servers() { stop_job DNS_PID; }
trap_cleanup

setup_logs() {
    show_log maillog "$MAILLOG" 30
    show_log dnsmasq "$T/dnsmasq.log" 20
}

PACKAGES=(postfix sasl2-bin libsasl2-modules openssl python3 python3-dkim python3-dnspython
    dnsmasq-base)

# Key pairs for both algorithms, and the TXT record each publishes: RSA's p= is the
# SubjectPublicKeyInfo, Ed25519's the bare 32-octet key (RFC 8463 section 4.2).
make_keys() {
    local log=$T/keys.log
    mkdir -p "$KEYS"
    {
        openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/rsa.pem" &&
        openssl genpkey -algorithm ed25519 -out "$KEYS/ed25519.pem" &&
        RSA_P=$(openssl pkey -in "$KEYS/rsa.pem" -pubout -outform DER | base64 -w0) &&
        ED_P=$(openssl pkey -in "$KEYS/ed25519.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
    } >"$log" 2>&1 || setup_failed "openssl could not make the DKIM keys" "$log"
    chmod 644 "$KEYS"/*.pem   # the client runs as root here, but keep them readable for a person
    RSA_TXT="v=DKIM1; k=rsa; p=$RSA_P"
    ED_TXT="v=DKIM1; k=ed25519; p=$ED_P"
}

# dnsmasq answering only for $DOMAIN: each key under its selector. A TXT string holds at most
# 255 octets, so RSA's record is given as several, which verifiers join (RFC 6376 3.6.2.2).
DNS=0
start_dns() {
    if port_in_use 53 || ss -lnu 2>/dev/null | grep -q '127.0.0.1:53 '; then
        echo "# 127.0.0.1:53 is taken: the DNS scenarios are skipped"
        return 0
    fi
    local rsa_strings
    rsa_strings=$(fold -w 250 <<<"$RSA_TXT" | sed 's/.*/"&"/' | paste -sd, -)
    start_dnsmasq "txt-record=rsa2026._domainkey.$DOMAIN,$rsa_strings" \
        "txt-record=ed2026._domainkey.$DOMAIN,\"$ED_TXT\""
    for _ in $(seq 50); do port_in_use 53 && break; sleep 0.1; done
    DNS=1
}

# in_dns_namespace PROGRAM ARGS...: PROGRAM with /etc/resolv.conf pointing at dnsmasq.
in_dns_namespace() {
    # shellcheck disable=SC2016  # $0 and $@ are the inner shell's
    unshare --mount sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$T/resolv.conf" "$@"
}

write_postfix_config() {
    make_sasldb
    write_postfix_base
    write_sasl_main_cf
    write_master_cf postfix-rich
}

setup_servers() {
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts Postfix and dnsmasq)"
    # shellcheck disable=SC2119  # PACKAGES alone
    install_packages
    make_certificates
    make_keys
    # shellcheck disable=SC2119  # no port to avoid yet
    SUB_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
    write_postfix_config
    start_postfix "$SUB_PORT"
    start_dns
}

# shellcheck source=tests/postfix/lib.sh disable=SC1091
source "$REPO/tests/postfix/lib.sh"
# shellcheck source=tests/lib/checks.sh disable=SC1091
source "$REPO/tests/lib/checks.sh"
PASSED=0 FAILED=0 FAILED_NAMES=()

SEND=()
send_args() {
    SEND=(--server "smtp://localhost:$SUB_PORT" --ca-file "$CA" --timeout 20 --user "$USER_NAME"
        -f "CI <ci@$DOMAIN>" -t team@example.net)
}

# The one delivery of run NAME, or a problem.
delivery_of() {
    local file
    file=$(find "$RUNS/$1/deliveries" -name '*.eml' 2>/dev/null | head -n 1)
    [[ -n $file ]] || { problem "$1: nothing delivered"; return 1; }
    echo "$file"
}

# The CI job's files: a Markdown report, a chart PNG it embeds, a zipped log.
write_report() {
    mkdir -p "$FILES/out/charts"
    "$PY" "$HERE/fixtures.py" "$FILES/out" || setup_failed "fixtures.py failed"
}

scenario_ci_report() {
    local name=ci-report start=$EPOCHREALTIME eml tree
    run_client "$name" SMTPSEND_PASSWORD="$PASSWORD" -- "${SEND[@]}" -s "Nightly build 1234" \
        --markdown out/report.md -a 'out/*.zip' \
        --dkim-key "$KEYS/ed25519.pem" --dkim-selector ed2026 </dev/null
    rc_is "$name" 0
    delivered "$name" 1 'Nightly build 1234'
    if eml=$(delivery_of "$name"); then
        tree=$("$PY" "$HERE/check.py" tree "$eml" 2>&1) || problem "$name: check.py tree: $tree"
        [[ $tree == *"multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png]],application/zip]"* ]] \
            || problem "$name: Python's email sees $tree"
        [[ $tree == *"attachments: logs.zip" ]] || problem "$name: attachments are ${tree##*attachments: }"
        "$PY" "$HERE/check.py" related "$eml" chart.png 2>"$T/related.err" \
            || problem "$name: $(cat "$T/related.err")"
        "$PY" "$HERE/check.py" dkim "$eml" ed2026 "$DOMAIN" "$ED_TXT" 2>"$T/dkim.err" \
            || problem "$name: $(cat "$T/dkim.err")"
        cp "$eml" "$T/ci-report.eml"
    fi
    conclude "$name" "$start"
}

# dkim_scenario ALGORITHM SELECTOR: signed, relayed by Postfix, verified by dkimverify against
# the key in DNS; then altered, refused.
dkim_scenario() {
    local name=dkim-$1-dns start=$EPOCHREALTIME eml out
    if [[ $DNS != 1 ]]; then
        echo "ok - $name # skip 127.0.0.1:53 is taken"
        PASSED=$((PASSED + 1))
        return
    fi
    run_client "$name" SMTPSEND_PASSWORD="$PASSWORD" -- "${SEND[@]}" -s "Signed with $1" \
        -m "Grüße from the build; caf$(printf '\xc3\xa9')" --dkim-key "$KEYS/$1.pem" \
        --dkim-selector "$2" </dev/null
    rc_is "$name" 0
    delivered "$name" 1 "Signed with $1"
    if eml=$(delivery_of "$name"); then
        out=$(in_dns_namespace dkimverify <"$eml" 2>&1) \
            || problem "$name: dkimverify: $out"
        sed 's/^Subject: Signed with/Subject: Signed by/' "$eml" >"$T/$name.altered"
        if in_dns_namespace dkimverify <"$T/$name.altered" >/dev/null 2>&1; then
            problem "$name: an altered message still verifies"
        fi
        grep -q "query\[TXT\] $2._domainkey.$DOMAIN" "$T/dnsmasq.log" \
            || problem "$name: dkimverify did not ask DNS for $2._domainkey.$DOMAIN"
    fi
    grep -rqF -e "$(sed -n 2p "$KEYS/$1.pem")" "$RUNS/$name" --include=stdout --include=stderr \
        && problem "$name: key material in the output"
    conclude "$name" "$start"
}

# The HTML part in headless Chromium, its cid: images written as files beside it.
scenario_render() {
    local name=render start=$EPOCHREALTIME chromium
    chromium=$(command -v chromium || command -v chromium-browser || true)
    if [[ ${RICH_RENDER:-0} != 1 || -z $chromium || ! -s $T/ci-report.eml ]]; then
        echo "ok - $name # skip (RICH_RENDER=1 and chromium needed)"
        PASSED=$((PASSED + 1))
        return
    fi
    mkdir -p "$T/render"
    "$PY" "$HERE/fixtures.py" --html "$T/ci-report.eml" "$T/render" 2>"$T/render.err" \
        || problem "$name: $(cat "$T/render.err")"
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=800,900 --screenshot="$T/render.png" "file://$T/render/page.html" \
        >"$T/chromium.log" 2>&1 || problem "$name: chromium failed: $(tail -n 3 "$T/chromium.log")"
    "$PY" "$HERE/fixtures.py" --not-blank "$T/render.png" 2>"$T/render.err" \
        || problem "$name: $(cat "$T/render.err")"
    conclude "$name" "$start"
}

TIER_START=$EPOCHREALTIME
setup_servers
ensure_binary
mkdir -p "$FILES" "$RUNS"
write_report
send_args
echo "# servers up in $(awk -v a="$TIER_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
scenario_ci_report
dkim_scenario rsa rsa2026
dkim_scenario ed25519 ed2026
scenario_render
if ((FAILED > 0)); then
    echo "# failed: ${FAILED_NAMES[*]}"
    setup_logs
fi
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
