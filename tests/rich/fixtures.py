#!/usr/bin/env python3
"""Files for tests/rich/run.sh, made with the standard library alone.

  fixtures.py DIR                 DIR/report.md, the CI report; DIR/charts/chart.png, a bar
                                  chart it embeds; DIR/logs.zip, a zipped build log
  fixtures.py --html EML DIR      DIR/page.html: the message's HTML part with each cid: image
                                  written beside it as a file and pointed at, for a browser
  fixtures.py --not-blank PNG     exit 1 unless the PNG has more than one colour in it
"""
import email
import email.policy
import os
import re
import struct
import sys
import zipfile
import zlib


def png(width, height, pixel):
    """An RGB PNG whose pixel (x, y) is pixel(x, y)."""
    rows = b"".join(
        b"\0" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def bar_chart(x, y):
    """Build minutes over seven nights: blue bars on white, a grey base line."""
    heights = [60, 90, 75, 120, 100, 140, 110]
    if y >= 150:
        return (120, 120, 120)
    bar, offset = divmod(x, 40)
    if bar < len(heights) and 8 <= offset < 32 and y >= 150 - heights[bar]:
        return (9, 105, 218)
    return (255, 255, 255)


REPORT = """# Nightly build 1234

| job | result | minutes |
|:----|:------:|--------:|
| lint | ok | 2 |
| test | ~~flaky~~ ok | 14 |

- [x] built
- [ ] deployed

![Build minutes](charts/chart.png)

Full log: https://ci.example.com/1234/console (and the zip attached).
"""


def make(directory):
    os.makedirs(os.path.join(directory, "charts"), exist_ok=True)
    with open(os.path.join(directory, "charts", "chart.png"), "wb") as f:
        f.write(png(280, 160, bar_chart))
    with open(os.path.join(directory, "report.md"), "w") as f:
        f.write(REPORT)
    with zipfile.ZipFile(os.path.join(directory, "logs.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("build.log", "".join("step %d ok\n" % i for i in range(500)))


def html_page(eml, directory):
    with open(eml, "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in message.walk():
        cid = part["Content-ID"]
        if not cid:
            continue
        cid = cid.strip("<>")
        name = re.sub(r"[^A-Za-z0-9._-]", "_", cid)
        with open(os.path.join(directory, name), "wb") as f:
            f.write(part.get_content())
        html = html.replace('src="cid:%s"' % cid, 'src="%s"' % name)
    if "cid:" in html:
        sys.exit("an unresolved cid: is left in the HTML")
    with open(os.path.join(directory, "page.html"), "w") as f:
        f.write(html)


def not_blank(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"\x89PNG"):
        sys.exit("%s is no PNG" % path)
    idat, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    # Filtered scanlines of one colour hold few distinct octets; a page with a chart and text
    # holds many.
    if len(set(zlib.decompress(idat))) < 16:
        sys.exit("%s looks blank" % path)


if sys.argv[1] == "--html":
    html_page(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "--not-blank":
    not_blank(sys.argv[2])
else:
    make(sys.argv[1])
