#!/usr/bin/env python3
"""Real clients of `smtpsend serve` for tests/serve/run.sh, from Python's standard library.

    clients.py smtplib HOST PORT SUBJECT          one message with smtplib.SMTP.send_message
    clients.py logging HOST PORT SUBJECT          one record through logging.handlers.SMTPHandler
    clients.py many HOST PORT COUNT ACCEPTED      COUNT messages, one connection each, retried
                                                  until accepted; each Subject whose 250 was
                                                  seen is appended to ACCEPTED at once

Senders are app@example.org, recipients ops@example.net.
"""

import logging
import logging.handlers
import smtplib
import sys
import time
from email.message import EmailMessage

FROM = "app@example.org"
TO = "ops@example.net"


def message(subject):
    msg = EmailMessage()
    msg["From"] = FROM
    msg["To"] = TO
    msg["Subject"] = subject
    msg.set_content("Sent by Python's smtplib through smtpsend serve.\n.leading dot\n")
    return msg


def send_smtplib(host, port, subject):
    with smtplib.SMTP(host, int(port), timeout=30) as smtp:
        smtp.ehlo("python.client.test")
        smtp.send_message(message(subject))


def send_logging(host, port, subject):
    handler = logging.handlers.SMTPHandler(
        mailhost=(host, int(port)), fromaddr=FROM, toaddrs=[TO], subject=subject, timeout=30
    )
    log = logging.getLogger("serve-tier")
    log.addHandler(handler)
    log.error("disk almost full on %s", "db1")
    handler.close()


def send_many(host, port, count, accepted_path):
    """A message counts as accepted only when its 250 was read; on any failure (refused
    connection, reset, 4xx) it is sent again after a pause, as a real application retries."""
    with open(accepted_path, "a", buffering=1) as accepted:
        for n in range(int(count)):
            subject = f"kill-test {n:03d}"
            for _ in range(600):
                try:
                    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
                        smtp.send_message(message(subject))
                    accepted.write(subject + "\n")
                    break
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)
            else:
                sys.exit(f"{subject}: never accepted")


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    {"smtplib": send_smtplib, "logging": send_logging, "many": send_many}[mode](*args)


if __name__ == "__main__":
    main()
