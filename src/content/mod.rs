//! The bytes of a message as they go on the wire: in memory, or partly read from files while
//! they are sent, so an attachment of any size costs a fixed amount of memory. The length is
//! known before the first byte goes out, for SIZE (RFC 1870) and BDAT (RFC 3030).
//!
//! Files are read when the message is written, not before: an attachment base64-encoded on the
//! fly, or a queued message copied from the outbox. A file that changed size since the message
//! was composed is an error, never a message shorter or longer than declared.
//!
//! `downgrade` turns a message into one the server can take as it is (8-bit or binary parts
//! encoded, 8-bit header text in encoded words) when the server lacks 8BITMIME or SMTPUTF8.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

mod downgrade;
mod encoding;
pub mod markdown;
pub mod template;

pub use downgrade::{Channel, downgrade};

/// The longest line SMTP carries, without its CRLF (RFC 5321 section 4.5.3.1.6).
pub const MAX_LINE: usize = 998;
/// Input bytes per base64 line: 57 make 76 characters, the most RFC 2045 allows.
const LINE_INPUT: usize = 57;
/// Base64 is read and written this many lines at a time.
const LINES_PER_CHUNK: usize = 1024;

/// CRLF for every line break, as the wire wants (RFC 5322 section 2.3): CRLF, a bare LF and a
/// bare CR each count as one.
pub fn crlf_line_endings(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 2);
    let mut bytes = input.iter().peekable();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'\r' => {
                if bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
                out.extend_from_slice(b"\r\n");
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            other => out.push(other),
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Piece {
    Bytes(Vec<u8>),
    /// A file, base64-encoded in lines of 76 characters, each ending in CRLF.
    Base64Of {
        path: PathBuf,
        size: u64,
    },
    /// A whole message already in wire form (a queued one), copied as it is; what it holds was
    /// learnt when it was stored, so sending it reads it once.
    File {
        path: PathBuf,
        size: u64,
        ascii: Ascii,
    },
}

#[derive(Debug, Clone)]
pub struct Content {
    pieces: Vec<Piece>,
}

impl Content {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Content {
            pieces: vec![Piece::Bytes(bytes)],
        }
    }

    /// A whole message stored in a file, and what `ascii` said of it before it was stored.
    pub fn from_file(path: PathBuf, size: u64, ascii: Ascii) -> Self {
        Content {
            pieces: vec![Piece::File { path, size, ascii }],
        }
    }

    /// `bytes` with each `placeholder` (and the CRLF after it) replaced by its file in base64.
    pub fn with_base64_files(bytes: Vec<u8>, files: &[(String, PathBuf, u64)]) -> Self {
        let mut pieces = Vec::new();
        let mut rest = bytes.as_slice();
        for (placeholder, path, size) in files {
            let marker = format!("{placeholder}\r\n");
            let Some(at) = rest
                .windows(marker.len())
                .position(|w| w == marker.as_bytes())
            else {
                continue;
            };
            pieces.push(Piece::Bytes(rest[..at].to_vec()));
            pieces.push(Piece::Base64Of {
                path: path.clone(),
                size: *size,
            });
            rest = &rest[at + marker.len()..];
        }
        pieces.push(Piece::Bytes(rest.to_vec()));
        Content { pieces }
    }

    pub fn len(&self) -> u64 {
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Bytes(bytes) => bytes.len() as u64,
                Piece::Base64Of { size, .. } => base64_len(*size),
                Piece::File { size, .. } => *size,
            })
            .sum()
    }

    /// Whether the header and the whole message are 7-bit. Base64 is; a stored message says.
    pub fn ascii(&self) -> Ascii {
        let mut scan = AsciiScan::default();
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(bytes) => scan.feed(bytes),
                Piece::Base64Of { .. } => scan.feed(b"A"),
                Piece::File { ascii, .. } => scan.stored(*ascii),
            }
        }
        Ascii {
            header: scan.header_ascii,
            message: scan.all_ascii,
            lines: scan.lines && scan.line_length <= MAX_LINE,
        }
    }

    /// Writes the whole message.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Bytes(bytes) => out.write_all(bytes)?,
                Piece::Base64Of { path, size } => write_base64(path, *size, out)?,
                Piece::File { path, size, .. } => copy_exactly(path, *size, out)?,
            }
        }
        Ok(())
    }

    /// The whole message in memory, files read: only for a message that must be converted.
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0));
        self.write_to(&mut out)?;
        Ok(out)
    }

    /// The message in memory: for tests and small messages only.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        self.read_all().expect("readable files")
    }
}

/// What `Content::ascii` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ascii {
    /// The header fields (up to the first empty line).
    pub header: bool,
    pub message: bool,
    /// No NUL and no line over 998 octets (RFC 5321 section 4.5.3.1.6): nothing a server without
    /// BINARYMIME refuses, whatever else it offers. Entries stored before this was recorded
    /// hold none: sendmail mode refused both then, and composition never makes them.
    #[serde(default = "stored_before_lines")]
    pub lines: bool,
}

impl Ascii {
    /// Whether the message travels as it is to any server: 7-bit, short lines, no NUL.
    pub fn plain(self) -> bool {
        self.message && self.lines
    }
}

fn stored_before_lines() -> bool {
    true
}

#[derive(Debug)]
struct AsciiScan {
    header_ascii: bool,
    all_ascii: bool,
    lines: bool,
    in_header: bool,
    /// Octets since the last LF.
    line_length: usize,
    /// The last bytes seen, to find CRLF CRLF across chunk boundaries.
    tail: [u8; 3],
}

impl Default for AsciiScan {
    fn default() -> Self {
        AsciiScan {
            header_ascii: true,
            all_ascii: true,
            lines: true,
            in_header: true,
            line_length: 0,
            tail: [0; 3],
        }
    }
}

impl AsciiScan {
    /// A whole stored message, header and all.
    fn stored(&mut self, ascii: Ascii) {
        self.all_ascii &= ascii.message;
        self.lines &= ascii.lines;
        if self.in_header {
            self.header_ascii &= ascii.header;
            self.in_header = false;
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if !byte.is_ascii() {
                self.all_ascii = false;
                if self.in_header {
                    self.header_ascii = false;
                }
            }
            if byte == b'\n' {
                if self.in_header && self.tail == [b'\r', b'\n', b'\r'] {
                    self.in_header = false;
                }
                let cr = usize::from(self.tail[2] == b'\r');
                self.lines &= self.line_length - cr <= MAX_LINE;
                self.line_length = 0;
            } else {
                self.line_length += 1;
                // The CR of a CRLF may still come.
                self.lines &= byte != 0 && self.line_length <= MAX_LINE + 1;
            }
            self.tail = [self.tail[1], self.tail[2], byte];
        }
    }
}

/// The length of `size` bytes in base64 lines of 76 characters plus CRLF.
fn base64_len(size: u64) -> u64 {
    let full_lines = size / LINE_INPUT as u64;
    let rest = size % LINE_INPUT as u64;
    let last_line = if rest == 0 {
        0
    } else {
        rest.div_ceil(3) * 4 + 2
    };
    full_lines * 78 + last_line
}

fn changed(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{} changed while the message was being sent",
            path.display()
        ),
    )
}

/// `bytes` in base64 lines of 76 characters, each ended by CRLF (RFC 2045 section 6.8).
pub fn base64_lines(bytes: &[u8], out: &mut String) {
    for line in bytes.chunks(LINE_INPUT) {
        BASE64.encode_string(line, out);
        out.push_str("\r\n");
    }
}

fn write_base64(path: &Path, size: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut chunk = vec![0u8; LINE_INPUT * LINES_PER_CHUNK];
    let mut encoded = String::with_capacity(LINES_PER_CHUNK * 78);
    let mut remaining = size;
    while remaining > 0 {
        let want = chunk
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        file.read_exact(&mut chunk[..want])
            .map_err(|_| changed(path))?;
        encoded.clear();
        base64_lines(&chunk[..want], &mut encoded);
        out.write_all(encoded.as_bytes())?;
        remaining -= want as u64;
    }
    if file.read(&mut [0u8; 1])? != 0 {
        return Err(changed(path));
    }
    Ok(())
}

fn copy_exactly(path: &Path, size: u64, out: &mut dyn Write) -> io::Result<()> {
    // A stored message, never read through a symbolic link put in its place (see `outbox`).
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let copied = io::copy(&mut file.take(size + 1), out)?;
    if copied != size {
        return Err(changed(path));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> (PathBuf, u64) {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        (path, bytes.len() as u64)
    }

    #[test]
    fn base64_pieces_have_the_length_they_declare() {
        let dir = tempfile::tempdir().unwrap();
        for size in [
            0usize,
            1,
            2,
            3,
            56,
            57,
            58,
            114,
            1000,
            57 * 1024,
            57 * 1024 + 1,
            200_000,
        ] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let (path, size) = file_with(&dir, "f", &bytes);
            let content = Content::with_base64_files(
                b"head\r\nPLACE\r\ntail".to_vec(),
                &[("PLACE".into(), path, size)],
            );
            let written = content.to_vec();
            assert_eq!(written.len() as u64, content.len(), "size {size}");
            let middle = &written[6..written.len() - 4];
            assert!(
                middle.split(|&b| b == b'\n').all(|l| l.len() <= 77),
                "size {size}"
            );
            let decoded = BASE64
                .decode(
                    middle
                        .iter()
                        .copied()
                        .filter(|b| !b"\r\n".contains(b))
                        .collect::<Vec<_>>(),
                )
                .unwrap();
            assert_eq!(decoded, bytes, "size {size}");
        }
    }

    #[test]
    fn a_file_that_changes_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (path, size) = file_with(&dir, "f", b"0123456789");
        let content =
            Content::with_base64_files(b"X\r\n".to_vec(), &[("X".into(), path.clone(), size)]);
        std::fs::write(&path, b"01234").unwrap();
        let err = content.write_to(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        std::fs::write(&path, b"0123456789ab").unwrap();
        assert!(content.write_to(&mut Vec::new()).is_err());
        let ascii = Ascii {
            header: true,
            message: true,
            lines: true,
        };
        let stored = Content::from_file(path.clone(), 10, ascii);
        assert!(stored.write_to(&mut Vec::new()).is_err());
    }

    #[test]
    fn ascii_is_told_for_the_header_and_the_whole() {
        let check = |bytes: &[u8]| Content::from_bytes(bytes.to_vec()).ascii();
        assert_eq!(
            check(b"A: b\r\n\r\nbody"),
            Ascii {
                header: true,
                message: true,
                lines: true,
            }
        );
        assert_eq!(
            check("A: b\r\n\r\nbödy".as_bytes()),
            Ascii {
                header: true,
                message: false,
                lines: true,
            }
        );
        assert_eq!(
            check("A: ü\r\n\r\nbody".as_bytes()),
            Ascii {
                header: false,
                message: false,
                lines: true,
            }
        );
    }
}
