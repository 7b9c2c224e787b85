#!/usr/bin/env bash
# A scripted browser for the OAuth2 test tier: smtpsend runs it as $BROWSER with the authorize
# URL (or the tier runs it with a device verification URL). It follows the authorization
# server's redirects with curl and a cookie jar, fills in oidc-provider's dev-interaction forms
# (login, consent, the device user-code confirmation) and finally fetches the redirect to the
# client's loopback listener, as a person clicking through a real browser would.
#
#   browser.sh URL
# Environment: BROWSER_LOGIN (the account to log in as, default alice), BROWSER_LOG (a file to
# append what it did to, default none), BROWSER_ABORT=1 (press "abort" at consent instead),
# BROWSER_PRINT_REDIRECT=PREFIX (print the first redirect to an address starting with PREFIX
# instead of following it: what a person copies from the address bar for `login --no-browser`).
set -euo pipefail
url=$1
login=${BROWSER_LOGIN:-alice}
log=${BROWSER_LOG:-/dev/null}
jar=$(mktemp)
page=$(mktemp)
trap 'rm -f "$jar" "$page"' EXIT

say() { echo "browser: $*" >>"$log"; }

# fetch METHOD URL [curl data args...]: prints the Location header (empty when none); the body
# lands in $page.
fetch() {
    local method=$1 target=$2
    shift 2
    local args=(-sS -c "$jar" -b "$jar" -o "$page" -D - --max-time 10)
    if [[ $method == POST ]]; then args+=(-X POST "$@"); fi
    curl "${args[@]}" "$target" | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }'
}

absolute() { # absolute BASE LOCATION
    case $2 in
    http://* | https://*) echo "$2" ;;
    /*) echo "$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$1")$2" ;;
    *) echo "$1" ;;
    esac
}

field() { grep -o "name=\"$1\" value=\"[^\"]*\"" "$page" | head -n 1 | cut -d'"' -f4; }
action() { grep -o '<form[^>]*action="[^"]*"' "$page" | head -n 1 | sed -E 's/.*action="([^"]*)".*/\1/'; }

say "open $url"
for _ in $(seq 30); do
    loc=$(fetch GET "$url")
    if [[ -n $loc ]]; then
        url=$(absolute "$url" "$loc")
        say "redirect $url"
        if [[ -n ${BROWSER_PRINT_REDIRECT:-} && $url == "$BROWSER_PRINT_REDIRECT"* ]]; then
            echo "$url"
            exit 0
        fi
        continue
    fi
    # A page: which form is it?
    form_action=$(action || true)
    prompt=$(field prompt || true)
    if [[ $prompt == login ]]; then
        say "login as $login"
        loc=$(fetch POST "$form_action" --data-urlencode prompt=login --data-urlencode "login=$login" \
            --data-urlencode "password=any")
    elif [[ $prompt == consent ]]; then
        if [[ ${BROWSER_ABORT:-0} == 1 ]]; then
            say "abort"
            loc=$(fetch GET "${form_action%/}/abort")
        else
            say "consent"
            loc=$(fetch POST "$form_action" --data-urlencode prompt=consent)
        fi
    elif [[ -n $(field xsrf || true) && -n $(field user_code || true) ]]; then
        say "confirm user code $(field user_code)"
        loc=$(fetch POST "$form_action" --data-urlencode "xsrf=$(field xsrf)" \
            --data-urlencode "user_code=$(field user_code)" --data-urlencode confirm=yes)
    else
        # The last page: the client's "you can close this tab", or the device flow's success.
        say "done: $(sed -e 's/<[^>]*>//g' "$page" | tr -s ' \n' ' ' | head -c 200)"
        exit 0
    fi
    [[ -n $loc ]] || { say "a form led nowhere"; exit 1; }
    url=$(absolute "$url" "$loc")
    say "redirect $url"
    if [[ -n ${BROWSER_PRINT_REDIRECT:-} && $url == "$BROWSER_PRINT_REDIRECT"* ]]; then
        echo "$url"
        exit 0
    fi
done
say "too many steps"
exit 1
