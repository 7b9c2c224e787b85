#!/bin/sh
# Delivery recorder for the private Postfix instance of tests/postfix/run.sh.
# Postfix's pipe(8) runs it as an unprivileged user, once per recipient:
#     recorder.sh OUTDIR SENDER QUEUE_ID RECIPIENT   (the message on stdin)
# It writes OUTDIR/QUEUE_ID.PID.eml (the raw message exactly as Postfix delivers it)
# and OUTDIR/QUEUE_ID.PID.env (the envelope), each under a temporary name first and
# renamed into place, the .env last, so a reader never sees a half-written delivery.
set -eu
out=$1 sender=$2 queue_id=$3 recipient=$4
name="$queue_id.$$"
umask 022
cat >"$out/.$name.eml.tmp" || exit 75
printf 'queue_id %s\nsender %s\nrecipient %s\n' "$queue_id" "$sender" "$recipient" \
    >"$out/.$name.env.tmp" || exit 75
mv "$out/.$name.eml.tmp" "$out/$name.eml" || exit 75
mv "$out/.$name.env.tmp" "$out/$name.env" || exit 75
