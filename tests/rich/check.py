#!/usr/bin/env python3
"""Checks of tests/rich/run.sh on a message as a real reader sees it.

  check.py tree MESSAGE            print the MIME tree as Python's email package parses it,
                                   type[child,child], and what it calls attachments
  check.py related MESSAGE CID...  the HTML part's cid: references resolve to parts of its
                                   multipart/related, none of them an attachment
  check.py dkim MESSAGE SELECTOR DOMAIN TXT
                                   verify the DKIM signature with dkimpy, TXT being the DNS
                                   record SELECTOR._domainkey.DOMAIN publishes

Exit 0 when the check holds; otherwise a one-line reason on stderr and exit 1.
"""
import email
import email.policy
import re
import sys


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def tree(part):
    if part.is_multipart():
        return "%s[%s]" % (
            part.get_content_type(),
            ",".join(tree(p) for p in part.iter_parts()),
        )
    return part.get_content_type()


def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)


def main():
    what, path = sys.argv[1], sys.argv[2]
    message = parse(path)
    if what == "tree":
        names = [a.get_filename() for a in message.iter_attachments()]
        print(tree(message))
        print("attachments: " + ",".join(n or "?" for n in names))
    elif what == "related":
        html = message.get_body(preferencelist=("html",))
        if html is None:
            fail("no HTML body")
        related = [
            p for p in message.walk() if p.get_content_type() == "multipart/related"
        ]
        if len(related) != 1:
            fail("%d multipart/related parts" % len(related))
        ids = {
            p["Content-ID"].strip("<>"): p
            for p in related[0].iter_parts()
            if p["Content-ID"]
        }
        referenced = set(re.findall(r'src="cid:([^"]+)"', html.get_content()))
        for cid in sys.argv[3:]:
            if cid not in referenced:
                fail("the HTML does not show cid:%s" % cid)
            if cid not in ids:
                fail("no part of the related has Content-ID <%s>" % cid)
            if ids[cid].is_attachment():
                fail("<%s> is an attachment" % cid)
        if referenced - set(ids):
            fail("unresolved cid: %s" % sorted(referenced - set(ids)))
        listed = [a.get("Content-ID") for a in message.iter_attachments()]
        if any(listed):
            fail("an inline part is listed as an attachment: %s" % listed)
    elif what == "dkim":
        import dkim

        selector, domain, txt = sys.argv[3], sys.argv[4], sys.argv[5]
        name = ("%s._domainkey.%s." % (selector, domain)).encode()

        def dnsfunc(asked, timeout=5):
            return txt.encode() if asked == name else None

        with open(path, "rb") as f:
            data = f.read()
        if not dkim.verify(data, dnsfunc=dnsfunc):
            fail("dkimpy: the DKIM signature does not verify")
    else:
        fail("unknown check " + what)


main()
