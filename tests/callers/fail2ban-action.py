#!/usr/bin/python3
"""One fail2ban ban action, read and run by fail2ban's own code.

    fail2ban-action.py ACTION

ACTION is an action file of /etc/fail2ban/action.d (sendmail, mail): fail2ban's ActionReader
reads it for the jail `sshd` as fail2ban-client would, its CommandAction gets the options
fail2ban-server would set and bans 192.0.2.7 after 5 failures, running the action's actionban
command line with its tags replaced. Exits 1 when fail2ban says the action failed.
"""
import sys

from fail2ban.client.actionreader import ActionReader
from fail2ban.server.action import CommandAction

name = sys.argv[1]
reader = ActionReader(name, "sshd", {}, share_config={}, basedir="/etc/fail2ban")
if not reader.read():
    sys.exit(f"fail2ban could not read action.d/{name}.conf")
reader.getOptions({})
stream = reader.convert()   # [['set', jail, 'addaction', name], ['multi-set', ..., options]]
options = next(cmd[4] for cmd in stream if cmd[0] == "multi-set")
action = CommandAction(None, name)
for key, value in options:
    setattr(action, key, value)
try:
    action.ban({"ip": "192.0.2.7", "failures": 5})
except RuntimeError as e:
    sys.exit(f"fail2ban: {e}")
print("banned")
