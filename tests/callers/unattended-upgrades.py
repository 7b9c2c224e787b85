#!/usr/bin/python3
"""unattended-upgrades' own mail functions, called as the daemon calls them.

    unattended-upgrades.py sendmail|mailx BODYFILE

Loads /usr/bin/unattended-upgrade as a module (it is a Python script) and calls
_send_mail_using_sendmail (`/usr/sbin/sendmail -oi -t`) or its fallback _send_mail_using_mailx
(`/usr/bin/mail -r FROM -s SUBJECT TO`) with its defaults, From `root` and To `root`; exits with
the status the function returns (the program's).
"""
import importlib.machinery
import importlib.util
import sys

loader = importlib.machinery.SourceFileLoader("unattended_upgrade", "/usr/bin/unattended-upgrade")
spec = importlib.util.spec_from_loader("unattended_upgrade", loader)
uu = importlib.util.module_from_spec(spec)
loader.exec_module(uu)

how, body_file = sys.argv[1], sys.argv[2]
with open(body_file, encoding="utf-8") as f:
    body = f.read()
send = {"sendmail": uu._send_mail_using_sendmail, "mailx": uu._send_mail_using_mailx}[how]
subject = f"unattended-upgrades result for host.example.org: SUCCESS ({how})"
sys.exit(send("root", "root", subject, body))
