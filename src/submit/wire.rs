//! The message on its way to the server: line endings checked byte by byte so no input can end
//! the data early (SMTP smuggling), and dot-stuffing for DATA (RFC 5321 section 4.5.2).

use std::io::{self, BufWriter, Write};

use crate::content::Content;

/// Writes the message for DATA: a leading dot doubled on every line, then CRLF.CRLF.
pub(super) fn write_dot_stuffed(out: &mut impl Write, content: &Content) -> io::Result<()> {
    let mut wire = WireWriter::new(BufWriter::with_capacity(64 * 1024, out), true);
    content.write_to(&mut wire)?;
    let ended_line = wire.at_line_start;
    let mut out = wire.finish()?;
    if !ended_line {
        out.write_all(b"\r\n")?;
    }
    out.write_all(b".\r\n")?;
    out.flush()
}

/// The message on its way to the server, checked as it passes: every line must end in CRLF,
/// so no input can end the data early (SMTP smuggling: a bare LF or CR is refused, not sent);
/// for DATA, a dot at the start of a line is doubled (RFC 5321 section 4.5.2). Composition and
/// sendmail intake produce CRLF throughout; this is the guarantee that does not depend on it.
pub(super) struct WireWriter<W: Write> {
    out: W,
    dot_stuffing: bool,
    at_line_start: bool,
    after_cr: bool,
    position: u64,
}

impl<W: Write> WireWriter<W> {
    pub(super) fn new(out: W, dot_stuffing: bool) -> Self {
        WireWriter {
            out,
            dot_stuffing,
            at_line_start: true,
            after_cr: false,
            position: 0,
        }
    }

    pub(super) fn finish(self) -> io::Result<W> {
        if self.after_cr {
            return Err(bare_line_ending(self.position - 1));
        }
        Ok(self.out)
    }
}

pub(super) fn bare_line_ending(at: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("refusing to send a message with a bare CR or LF (byte {at})"),
    )
}

impl<W: Write> Write for WireWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (index, &byte) in buf.iter().enumerate() {
            if (byte == b'\n') != self.after_cr {
                let at = self.position - u64::from(self.after_cr);
                return Err(bare_line_ending(at));
            }
            if index == 0 && self.after_cr {
                // The CR held back from the previous write: it does end a line.
                self.out.write_all(b"\r")?;
            }
            if self.dot_stuffing && self.at_line_start && byte == b'.' {
                self.out.write_all(&buf[start..index])?;
                self.out.write_all(b".")?;
                start = index;
            }
            self.after_cr = byte == b'\r';
            self.at_line_start = byte == b'\n';
            self.position += 1;
        }
        // A CR at the end waits for the next write to show it is followed by LF: no bare CR
        // ever leaves, not even just before a failure.
        let end = buf.len() - usize::from(self.after_cr);
        self.out.write_all(&buf[start..end.max(start)])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing_keeps_leading_dots_and_ends_once() {
        let stuffed = |bytes: &[u8]| {
            let mut out = Vec::new();
            write_dot_stuffed(&mut out, &Content::from_bytes(bytes.to_vec())).unwrap();
            out
        };
        assert_eq!(
            stuffed(b"a\r\n.b\r\n.\r\n..c\r\n"),
            b"a\r\n..b\r\n..\r\n...c\r\n.\r\n"
        );
        assert_eq!(stuffed(b".first"), b"..first\r\n.\r\n");
        assert_eq!(stuffed(b"no newline"), b"no newline\r\n.\r\n");
    }
    #[test]
    fn bare_line_endings_can_never_reach_the_wire() {
        for smuggled in [&b"a\r\n\n.\n"[..], b"a\r\n.\r", b"a\r.\r\n", b"\n.\r\n"] {
            let mut out = Vec::new();
            let content = Content::from_bytes(smuggled.to_vec());
            let err = write_dot_stuffed(&mut out, &content).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{smuggled:?}");
            // What got out before the refusal has no bare CR or LF and no end of data.
            let bare_cr = out
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\r' && out.get(i + 1) != Some(&b'\n'));
            let bare_lf = out
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || out[i - 1] != b'\r'));
            assert!(!bare_cr && !bare_lf, "{out:?}");
            assert!(!out.ends_with(b"\r\n.\r\n"), "{out:?}");
        }
    }
}
