#!/usr/bin/env bash
# The keyring scenarios of tests/postfix/run.sh, against a real Secret Service. run.sh runs it
# inside a D-Bus session bus of its own, with throwaway HOME and XDG directories:
#
#   dbus-run-session -- bash tests/postfix/keyring.sh STATE
#
# STATE is run.sh's `declare -p` of the variables it needs. This starts gnome-keyring-daemon with
# a new login keyring unlocked by a throwaway password, touches $KEYRING/ready once the Secret
# Service answers, then runs every step in order and records each in $RUNS/SCENARIO/STEP
# (smtpsend with run_client, secret-tool and dbus-send with `tool`). It judges nothing: run.sh
# has check.py check the recordings afterwards. Its own output is run.sh's keyring session log.
set -euo pipefail

# shellcheck source=/dev/null
source "$1"
# shellcheck source=tests/postfix/lib.sh disable=SC1091
source "$HERE/lib.sh"

# The entry smtpsend documents: service smtpsend:HOST, user name USER.
LOOKUP=(secret-tool lookup service smtpsend:localhost username "$USER_NAME")
# run_client keeps the bus only when told; the account `work` (the default) is in this config.
SESSION=(XDG_CONFIG_HOME="$KEYRING/config" DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS")
TOOL_TIMEOUT=20

say() { echo "keyring.sh: $*"; }

# tool NAME COMMAND...   (stdin: whatever the caller redirects in)
# Runs a command on the session bus and records $RUNS/NAME/{stdout,stderr,rc,cmd,time}.
tool() {
    local name=$1 dir=$RUNS/$1 rc=0 start
    shift
    mkdir -p "$dir"
    printf '%q ' "$@" >"$dir/cmd"
    start=$EPOCHREALTIME
    timeout -k 5 "$TOOL_TIMEOUT" "$@" >"$dir/stdout" 2>"$dir/stderr" || rc=$?
    echo "$start $EPOCHREALTIME" >"$dir/time"
    echo "$rc" >"$dir/rc"
    say "$name: exit $rc"
}

# client NAME ARGS...: smtpsend on the session bus with the `work` config, stdin from the caller.
client() {
    local name=$1
    shift
    run_client "$name" "${SESSION[@]}" -- "$@"
    say "$name: exit $(cat "$RUNS/$name/rc")"
}

bus() { timeout -k 5 "$TOOL_TIMEOUT" dbus-send --session --print-reply=literal "$@"; }

start_secret_service() {
    local keyring_password i
    keyring_password=$(openssl rand -hex 16)
    say "bus $DBUS_SESSION_BUS_ADDRESS"
    printf '%s' "$keyring_password" |
        timeout -k 5 "$TOOL_TIMEOUT" gnome-keyring-daemon --unlock --components=secrets ||
        { say "gnome-keyring-daemon --unlock failed (exit $?)"; exit 1; }
    # The daemon returns before it owns org.freedesktop.secrets. That name is activatable, so
    # a call to it before then would have the bus start a second, locked daemon: wait.
    for ((i = 0; i < 100; i++)); do
        [[ $(bus --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
            string:org.freedesktop.secrets 2>&1) == *true* ]] && break
        sleep 0.1
    done
    ((i < 100)) || { say "nothing owns org.freedesktop.secrets after 10 s"; exit 1; }
    # New items go to the collection with the alias "default": the login keyring, unlocked.
    COLLECTION=$(bus --dest=org.freedesktop.secrets /org/freedesktop/secrets \
        org.freedesktop.Secret.Service.ReadAlias string:default | tr -d ' ')
    [[ $COLLECTION == /org/freedesktop/secrets/collection/* ]] ||
        { say "no default collection: ${COLLECTION:-nothing}"; exit 1; }
    say "default collection $COLLECTION"
    touch "$KEYRING/ready"
}

start_secret_service

# keyring-login: login stores the (verified) password under the documented names.
printf '%s\n' "$PASSWORD" | client keyring-login/login login work --password-stdin || true
tool keyring-login/lookup "${LOOKUP[@]}" </dev/null

# keyring-send: with no other source and no terminal, a send takes the password from there.
client keyring-send/send -t bob@example.net -s 'from the keyring' -m hi </dev/null
client keyring-send/verbose -v -t bob@example.net -s 'from the keyring (-v)' -m hi </dev/null

# keyring-wrong-password: a wrong stored password is refused (77); login puts the right one back.
printf '%s' "$WRONG_PASSWORD" |
    tool keyring-wrong-password/store secret-tool store --label x \
        service smtpsend:localhost username "$USER_NAME" || true
client keyring-wrong-password/send -t bob@example.net -s 'wrong keyring password' \
    -m 'never sent' </dev/null
printf '%s\n' "$PASSWORD" | client keyring-wrong-password/restore login --password-stdin || true
tool keyring-wrong-password/lookup "${LOOKUP[@]}" </dev/null

# keyring-login-verifies: login checks with the server first and keeps a bad password out.
printf 'wrong\n' | client keyring-login-verifies/login login work --password-stdin || true
tool keyring-login-verifies/lookup "${LOOKUP[@]}" </dev/null

# keyring-logout: the entry goes; a send then has no password (78); a second logout is fine.
client keyring-logout/logout logout work </dev/null
tool keyring-logout/lookup "${LOOKUP[@]}" </dev/null
client keyring-logout/send -t bob@example.net -s 'after logout' -m 'never sent' </dev/null
client keyring-logout/again logout work </dev/null

# keyring-locked: an entry in a locked collection. Unlocking needs a prompt nobody can answer
# (no display: gnome-keyring's prompter fails), so send, login and logout must give up quickly.
printf '%s\n' "$PASSWORD" | client keyring-locked/store login work --password-stdin || true
tool keyring-locked/lock dbus-send --session --print-reply=literal \
    --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.Lock "array:objpath:$COLLECTION" </dev/null
tool keyring-locked/is-locked dbus-send --session --print-reply=literal \
    --dest=org.freedesktop.secrets "$COLLECTION" org.freedesktop.DBus.Properties.Get \
    string:org.freedesktop.Secret.Collection string:Locked </dev/null
client keyring-locked/send -t bob@example.net -s 'locked keyring' -m 'never sent' </dev/null
printf '%s\n' "$PASSWORD" | client keyring-locked/login login work --password-stdin || true
client keyring-locked/logout logout work </dev/null

say "done"
