#!/usr/bin/env bash
# Runs one program of tests/callers/run.sh inside a private mount namespace (run.sh starts it
# with `unshare --mount --propagation private`), after putting smtpsend where the callers look
# for it. Nothing done here is seen outside the namespace: the machine's own /usr/sbin/sendmail,
# /usr/bin/mail and spool directories stay as they are.
#
#   inside.sh [--sendmail=FILE] [--mail=FILE] [--tmpfs=DIR]... [--bind=SRC:DST]... -- PROGRAM ARGS...
#
#   --sendmail=FILE  FILE is bind-mounted over /usr/sbin/sendmail
#   --mail=FILE      FILE is bind-mounted over what /usr/bin/mail resolves to (an alternatives
#                    symlink, /etc/alternatives/mail -> /usr/bin/bsd-mailx on Debian: a bind
#                    mount onto a symlink would follow it anyway, so say where it lands)
#   --tmpfs=DIR      an empty tmpfs over DIR (a daemon's spool or configuration directory)
#   --bind=SRC:DST   SRC bind-mounted over DST (a file or directory of the test's)
set -euo pipefail
while (($# > 0)) && [[ $1 != -- ]]; do
    case $1 in
    --sendmail=*) mount --bind "${1#*=}" /usr/sbin/sendmail ;;
    --mail=*) mount --bind "${1#*=}" "$(readlink -f /usr/bin/mail)" ;;
    --tmpfs=*) mount -t tmpfs -o mode=755 tmpfs "${1#*=}" ;;
    --bind=*) spec=${1#*=}; mount --bind "${spec%%:*}" "${spec#*:}" ;;
    *) echo "inside.sh: unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
shift
exec "$@"
