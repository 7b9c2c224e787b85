//! Everything smtpsend writes for a person or a pipe, at the lowest level: the one writer of
//! `smtpsend:` lines on standard error, standard output that a closed pipe cannot abort, the
//! escaping of untrusted text (server replies, stored entries, message headers) before it
//! reaches a terminal, and the upload progress bar.
//!
//! Server text is untrusted: control and bidirectional-override characters are escaped before
//! anything reaches a terminal, so a hostile server cannot move the cursor or reorder text.
//! Everything a command prints goes through `Stdout`.

use std::io::{self, Write};
use std::sync::OnceLock;

use serde::Serialize;

use crate::error::{Error, Kind, io_reason};

/// Why standard output stopped taking what we print, once it has.
static STDOUT_FAILURE: OnceLock<io::Error> = OnceLock::new();

/// Standard output for what a command prints. When it fails, output stops and the command
/// finishes all the same (a flush still settles every entry): a reader that went away
/// (`| head -1`) is no error at all, as for ripgrep, and any other failure is reported by
/// `stdout_status` once the command is done.
pub struct Stdout;

impl Stdout {
    /// A failure is kept, and from then on everything is taken as written.
    fn settle<T>(result: io::Result<T>, written: T) -> io::Result<T> {
        match result {
            Err(err) if err.kind() != io::ErrorKind::Interrupted => {
                let _ = STDOUT_FAILURE.set(err);
                Ok(written)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if STDOUT_FAILURE.get().is_some() {
            return Ok(buf.len());
        }
        Stdout::settle(io::stdout().write(buf), buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if STDOUT_FAILURE.get().is_some() {
            return Ok(());
        }
        Stdout::settle(io::stdout().flush(), ())
    }
}

/// `println!` through `Stdout`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        // Cannot fail: `Stdout` keeps its failure for `stdout_status`.
        let _ = writeln!($crate::terminal::Stdout, $($arg)*);
    }};
}
pub(crate) use outln;

/// After a command: what it printed is flushed, and a failure other than a closed pipe is an
/// error (74), since the output the user asked for is incomplete.
pub fn stdout_status() -> Result<(), Error> {
    let _ = Stdout.flush();
    match STDOUT_FAILURE.get() {
        Some(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(Error::new(
            Kind::IoError,
            format!("cannot write to standard output: {}", io_reason(err)),
        )),
        _ => Ok(()),
    }
}

/// Messages at least this large show a progress bar while they upload (on a terminal).
pub const PROGRESS_FROM_BYTES: u64 = 4 * 1024 * 1024;

/// Counts the bytes of an upload on a progress bar on standard error; the caller decides that
/// stderr is a terminal and the output mode allows it.
pub struct UploadProgress<W: Write> {
    inner: W,
    bar: indicatif::ProgressBar,
}

impl<W: Write> UploadProgress<W> {
    pub fn new(inner: W, total: u64) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bytes:>10}/{total_bytes} {wide_bar} {bytes_per_sec:>12} {eta:>4}",
        ) {
            bar.set_style(style);
        }
        UploadProgress { inner, bar }
    }
}

impl<W: Write> Write for UploadProgress<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bar.inc(written as u64);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for UploadProgress<W> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// What a terminal must not get raw from untrusted text: controls (C0, DEL, and C1 such as NEL
/// and the one-byte CSI), which move the cursor or start escape sequences; format characters
/// (bidirectional overrides, isolates and marks, zero-width and other invisible ones), which
/// reorder or hide text; and the line and paragraph separators.
fn unsafe_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// Untrusted text for a terminal: what `unsafe_on_terminal` names becomes `\u{...}`; a tab stays.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\t' && unsafe_on_terminal(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// JSON text for a terminal: what `escape` would escape becomes a JSON escape (`\u202e`), so
/// it is still JSON, of the same value. Its line breaks are layout (JSON strings escape theirs).
pub fn escape_json(json: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c != '\n' && unsafe_on_terminal(c) {
            let mut units = [0; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A size as people read it: bytes, KiB or MiB.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// The error, once, with the program name; the hint on a line of its own.
pub fn print_error(error: &Error) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "smtpsend: {}", escape(&error.message));
    if let Some(hint) = &error.hint {
        let _ = writeln!(stderr, "smtpsend: hint: {}", escape(hint));
    }
}

pub fn print_warning(text: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "smtpsend: warning: {}",
        escape(text)
    );
}

/// One JSON object on one line of standard output.
pub fn print_json_value(value: &impl Serialize) {
    if let Ok(json) = serde_json::to_string(value) {
        outln!("{}", escape_json(&json));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(12 * 1_048_576 + 400_000), "12.4 MiB");
    }
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(escape("ok\x1b[2Jgone"), "ok\\u{1b}[2Jgone");
        assert_eq!(escape("a\u{202E}b"), "a\\u{202e}b");
        assert_eq!(escape("Grüße\tok"), "Grüße\tok");
    }

    #[test]
    fn c1_controls_and_invisible_formatting_are_escaped() {
        assert_eq!(escape("a\u{85}b\u{9B}2J"), "a\\u{85}b\\u{9b}2J");
        assert_eq!(
            escape("\u{2066}\u{200F}\u{AD}\u{200B}\u{FEFF}\u{2028}\u{E0041}"),
            "\\u{2066}\\u{200f}\\u{ad}\\u{200b}\\u{feff}\\u{2028}\\u{e0041}"
        );
        assert_eq!(escape("Zoë → 😀"), "Zoë → 😀");
    }

    #[test]
    fn escaped_json_is_the_same_json() {
        let value = serde_json::json!({"reply": "4\u{202E}51\u{85}\u{9B}\u{E0041}\n", "n": [1]});
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let escaped = escape_json(&pretty);
        assert!(
            escaped.chars().all(|c| c == '\n' || !unsafe_on_terminal(c)),
            "{escaped}"
        );
        assert!(escaped.contains("\\u202e") && escaped.contains("\\udb40\\udc41"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&escaped).unwrap(),
            value
        );
    }
}
