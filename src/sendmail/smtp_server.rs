//! `sendmail -bs`: the server side of a minimal SMTP session (RFC 5321) on standard input and
//! output. What becomes of each accepted message is the caller's: it passes a `Relay`, whose
//! answer becomes the reply to the message's data.

use std::io::{BufRead, Write};

use crate::compose::{Dsn, Envelope};
use crate::error::{Error, Kind};
use crate::terminal;

/// Relays one message received in the `-bs` dialogue; returns the server's final reply.
pub type Relay<'a> = dyn Fn(&[u8], &Envelope) -> Result<String, Error> + 'a;

/// The longest command line `-bs` takes, with its line break. RFC 5321 section 4.5.3.1.4 allows
/// 512 octets and lets extensions raise it: the 8BITMIME and SMTPUTF8 we offer lengthen MAIL
/// and RCPT (a parameter each, and UTF-8 paths), so some room beyond 512.
const COMMAND_LINE_LIMIT: usize = 1000;

/// The largest message `-bs` takes, announced with SIZE (RFC 1870); RFC 5321 section 4.5.3.1.7
/// asks for at least 64K. Without a bound a client could make us hold endless data.
const MESSAGE_LIMIT: usize = 64 * 1024 * 1024;

/// The server side of a minimal SMTP session (RFC 5321) on standard input and output, for
/// callers that speak SMTP to `sendmail -bs` (symfony/mailer among them). Each message is
/// relayed when its data ends, and the real server's verdict becomes our reply.
pub fn serve_smtp(
    input: &mut impl BufRead,
    output: &mut impl Write,
    relay: &Relay,
) -> Result<(), Error> {
    let io = |err: std::io::Error| Error::new(Kind::Temporary, format!("sendmail -bs: {err}"));
    let say = |output: &mut dyn Write, text: &str| -> Result<(), Error> {
        output
            .write_all(text.as_bytes())
            .and_then(|()| output.flush())
            .map_err(io)
    };
    say(output, "220 smtpsend ESMTP ready\r\n")?;
    let mut envelope: Option<Envelope> = None;
    let mut line = Vec::new();
    loop {
        match read_line_bounded(input, COMMAND_LINE_LIMIT, &mut line).map_err(io)? {
            Line::End => return Ok(()),
            // RFC 5321 section 4.5.3.1.9; the rest of the line was dropped, not run.
            Line::TooLong { .. } => {
                say(output, "500 5.5.2 Line too long\r\n")?;
                continue;
            }
            Line::Whole => {}
        }
        let Ok(command) = std::str::from_utf8(&line) else {
            say(output, "500 5.5.2 Command is not UTF-8\r\n")?;
            continue;
        };
        let command = command.trim_end_matches(['\r', '\n']);
        // A CR inside a command (`MAIL FROM:<a@x>\rRCPT TO:<b@y>`) would reach the real server
        // in our MAIL FROM, where it may end the line: a smuggled command.
        if command.contains(char::is_control) {
            say(output, "500 5.5.2 Control character in the command\r\n")?;
            continue;
        }
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let argument = |prefix: &str| -> Option<String> {
            let rest = command.get(prefix.len()..)?;
            command[..prefix.len()]
                .eq_ignore_ascii_case(prefix)
                .then(|| {
                    let rest = rest.trim();
                    let end = rest.find('>').map_or(rest.len(), |i| i + 1);
                    rest[..end]
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
        };
        match verb.as_str() {
            "EHLO" => say(
                output,
                &format!(
                    "250-smtpsend\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE {MESSAGE_LIMIT}\r\n\
                     250 PIPELINING\r\n"
                ),
            )?,
            "HELO" => say(output, "250 smtpsend\r\n")?,
            "MAIL" => match argument("MAIL FROM:") {
                Some(from) => {
                    envelope = Some(Envelope {
                        from,
                        recipients: Vec::new(),
                        dsn: Dsn::default(),
                    });
                    say(output, "250 2.1.0 Ok\r\n")?;
                }
                None => say(output, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n")?,
            },
            "RCPT" => match (argument("RCPT TO:"), envelope.as_mut()) {
                (Some(to), Some(envelope)) => {
                    envelope.recipients.push(to);
                    say(output, "250 2.1.5 Ok\r\n")?;
                }
                (None, _) => say(output, "501 5.5.4 Syntax: RCPT TO:<address>\r\n")?,
                (_, None) => say(output, "503 5.5.1 MAIL first\r\n")?,
            },
            "DATA" => {
                let Some(current) = envelope.take().filter(|e| !e.recipients.is_empty()) else {
                    say(output, "503 5.5.1 RCPT first\r\n")?;
                    continue;
                };
                say(output, "354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let reply = match read_data(input, MESSAGE_LIMIT).map_err(io)? {
                    // RFC 5321 section 4.5.3.1.9.
                    Data::TooBig => {
                        format!("552 5.3.4 Message too big: at most {MESSAGE_LIMIT} octets\r\n")
                    }
                    Data::Message(data) => match relay(&data, &current) {
                        Ok(reply) => {
                            format!("250 2.0.0 Ok: relayed ({})\r\n", terminal::escape(&reply))
                        }
                        Err(error) if error.kind == Kind::Temporary => {
                            format!("451 4.3.0 {}\r\n", terminal::escape(&error.message))
                        }
                        Err(error) => format!("554 5.3.0 {}\r\n", terminal::escape(&error.message)),
                    },
                };
                say(output, &reply)?;
            }
            "RSET" => {
                envelope = None;
                say(output, "250 2.0.0 Ok\r\n")?;
            }
            "NOOP" => say(output, "250 2.0.0 Ok\r\n")?,
            "VRFY" => say(output, "252 2.5.2 Cannot verify, send anyway\r\n")?,
            "QUIT" => {
                say(output, "221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => say(output, "502 5.5.2 Command not implemented\r\n")?,
        }
    }
}

/// How a line read by `read_line_bounded` ended.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// The input ended before the line began.
    End,
    /// The whole line is in the buffer, with its LF unless the input ended first.
    Whole,
    /// The line was longer than the limit: the buffer holds its start, the rest was read and
    /// dropped. `crlf` says whether it ended in CRLF.
    TooLong { crlf: bool },
}

/// Reads up to and including the next LF into `line`, keeping at most `limit` octets of it, so
/// an endless line costs time but not memory.
fn read_line_bounded(
    input: &mut impl BufRead,
    limit: usize,
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    line.clear();
    let mut dropped = false;
    let mut last = None;
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buffer.is_empty() {
            return Ok(match (dropped, line.is_empty()) {
                (true, _) => Line::TooLong { crlf: false },
                (false, true) => Line::End,
                (false, false) => Line::Whole,
            });
        }
        let (chunk, complete) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..=at], true),
            None => (buffer, false),
        };
        let kept = chunk.len().min(limit.saturating_sub(line.len()));
        line.extend_from_slice(&chunk[..kept]);
        dropped |= kept < chunk.len();
        let crlf = match chunk {
            [.., b'\r', b'\n'] => true,
            [b'\n'] => last == Some(b'\r'),
            _ => false,
        };
        last = chunk.last().copied();
        let used = chunk.len();
        input.consume(used);
        if complete {
            return Ok(if dropped {
                Line::TooLong { crlf }
            } else {
                Line::Whole
            });
        }
    }
}

/// What the data of one `-bs` message came to.
#[derive(Debug, PartialEq, Eq)]
enum Data {
    Message(Vec<u8>),
    /// Over the limit: read to its end and dropped.
    TooBig,
}

/// The message data up to CRLF.CRLF, dot-stuffing undone (RFC 5321 section 4.5.2). Only that
/// sequence ends it (sections 4.1.1.4 and 2.3.8): a dot after a bare LF or a bare CR is message
/// text, made a CRLF line like every other line ending later, or what follows it would run as
/// commands (SMTP smuggling). Lines are long as they come: the line breaks made CRLF decide
/// their length, and the message's own limit bounds the memory.
fn read_data(input: &mut impl BufRead, limit: usize) -> std::io::Result<Data> {
    const LONE_DOT: &[u8] = b".\r\n";
    let mut data = Vec::new();
    let mut line = Vec::new();
    let mut too_big = false;
    // The CRLF of the DATA command counts: a lone dot at once is an empty message.
    let mut after_crlf = true;
    loop {
        // One more than the room left, for a doubled dot; once too big, just enough to see
        // the end.
        let room = if too_big {
            LONE_DOT.len()
        } else {
            (limit - data.len() + 1).max(LONE_DOT.len())
        };
        let ends_in_crlf = match read_line_bounded(input, room, &mut line)? {
            Line::End => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "input ended inside DATA",
                ));
            }
            Line::TooLong { crlf } => {
                too_big = true;
                data = Vec::new();
                after_crlf = crlf;
                continue;
            }
            Line::Whole => line.ends_with(b"\r\n"),
        };
        if after_crlf && line == LONE_DOT {
            return Ok(if too_big {
                Data::TooBig
            } else {
                Data::Message(data)
            });
        }
        let unstuffed = match line.strip_prefix(b".") {
            Some(rest) if after_crlf && rest.starts_with(b".") => rest,
            _ => &line,
        };
        after_crlf = ends_in_crlf;
        if too_big || data.len() + unstuffed.len() > limit {
            too_big = true;
            data = Vec::new();
            continue;
        }
        data.extend_from_slice(unstuffed);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// What a `-bs` session on `input` said, and what it relayed.
    fn dialogue(input: impl Read) -> (String, Vec<(Vec<u8>, Envelope)>) {
        let mut output = Vec::new();
        let relayed = std::cell::RefCell::new(Vec::new());
        serve_smtp(
            &mut std::io::BufReader::new(input),
            &mut output,
            &|data: &[u8], envelope: &Envelope| {
                relayed.borrow_mut().push((data.to_vec(), envelope.clone()));
                Ok("250 2.0.0 Ok: queued as Q1".into())
            },
        )
        .unwrap();
        (String::from_utf8(output).unwrap(), relayed.into_inner())
    }

    /// The three-digit codes of the replies, the last line of each.
    fn codes(output: &str) -> Vec<&str> {
        output
            .lines()
            .filter(|l| l.as_bytes().get(3) == Some(&b' '))
            .map(|l| &l[..3])
            .collect()
    }

    #[test]
    fn the_smtp_dialogue_relays_each_message() {
        let input = b"EHLO client\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\nSubject: t\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let (output, relayed) = dialogue(&input[..]);
        assert!(output.starts_with("220 "), "{output}");
        assert!(output.contains("354 "));
        assert!(
            output.contains("250 2.0.0 Ok: relayed (250 2.0.0 Ok: queued as Q1)"),
            "{output}"
        );
        assert!(output.ends_with("221 2.0.0 Bye\r\n"));
        assert_eq!(relayed.len(), 1);
        assert_eq!(relayed[0].0, b"Subject: t\r\n\r\n.dot\r\n");
        assert_eq!(relayed[0].1.from, "a@x.org");
        assert_eq!(relayed[0].1.recipients, ["b@y.org"]);
    }

    #[test]
    fn a_failed_relay_becomes_the_matching_reply() {
        let input =
            b"HELO c\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n";
        let mut output = Vec::new();
        serve_smtp(&mut &input[..], &mut output, &|_: &[u8], _: &Envelope| {
            Err(Error::new(Kind::Temporary, "cannot connect"))
        })
        .unwrap();
        assert!(
            String::from_utf8(output)
                .unwrap()
                .contains("451 4.3.0 cannot connect")
        );
    }

    const ENVELOPE: &[u8] = b"MAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\nDATA\r\n";

    fn data(body: &[u8], limit: usize) -> Data {
        read_data(&mut std::io::BufReader::new(body), limit).unwrap()
    }

    #[test]
    fn only_crlf_dot_crlf_ends_the_data() {
        for (input, kept) in [
            (&b"a\n.\nb\r\n.\r\n"[..], &b"a\n.\nb\r\n"[..]),
            (b"a\n.\r\nb\r\n.\r\n", b"a\n.\r\nb\r\n"),
            (b"a\r.\r\nb\r\n.\r\n", b"a\r.\r\nb\r\n"),
            (b"a\r\n.\nb\r\n.\r\n", b"a\r\n.\nb\r\n"),
            // A doubled dot is undone only where a line starts.
            (b"..a\r\nb\n..c\r\n.\r\n", b".a\r\nb\n..c\r\n"),
            (b".\r\n", b""),
        ] {
            assert_eq!(data(input, 1000), Data::Message(kept.to_vec()), "{input:?}");
        }
        let smuggled = [
            ENVELOPE,
            b"Subject: s\r\n\r\nx\n.\nMAIL FROM:<evil@x.org>\nRCPT TO:<victim@y.org>\nDATA\n\nSMUGGLED\n.\n\r\n.\r\nQUIT\r\n",
        ]
        .concat();
        let (output, relayed) = dialogue(&smuggled[..]);
        assert_eq!(codes(&output), ["220", "250", "250", "354", "250", "221"]);
        assert_eq!(relayed.len(), 1);
        assert_eq!(relayed[0].1.recipients, ["b@y.org"]);
        assert!(relayed[0].0.ends_with(b"DATA\n\nSMUGGLED\n.\n\r\n"));
    }

    #[test]
    fn data_over_the_limit_is_read_to_its_end_and_refused() {
        assert_eq!(
            data(b"12345\r\n.\r\n", 7),
            Data::Message(b"12345\r\n".to_vec())
        );
        assert_eq!(
            data(b"..345\r\n.\r\n", 7),
            Data::Message(b".345\r\n".to_vec())
        );
        assert_eq!(data(b"123456\r\n.\r\n", 7), Data::TooBig);
        assert_eq!(data(b"1\r\n2\r\n3\r\n4\r\n.\r\n", 7), Data::TooBig);
        // A dropped line's end still counts: here `\n.\r\n` is no end, the last line is.
        assert_eq!(data(b"123456789\n.\r\nx\r\n.\r\n", 7), Data::TooBig);
        let endless = std::io::repeat(b'x').take(MESSAGE_LIMIT as u64 + 10);
        let (output, relayed) = dialogue(
            ENVELOPE
                .chain(endless)
                .chain(&b"\r\n.\r\nNOOP\r\nQUIT\r\n"[..]),
        );
        assert!(relayed.is_empty());
        assert_eq!(
            codes(&output),
            ["220", "250", "250", "354", "552", "250", "221"]
        );
    }

    #[test]
    fn bad_command_lines_get_a_reply_and_run_nothing() {
        let long = || {
            (&b"NOOP "[..])
                .chain(std::io::repeat(b'x').take(10_000_000))
                .chain(&b"\r\n"[..])
        };
        let mut line = Vec::new();
        let mut input = std::io::BufReader::new(long());
        assert_eq!(
            read_line_bounded(&mut input, COMMAND_LINE_LIMIT, &mut line).unwrap(),
            Line::TooLong { crlf: true }
        );
        assert!(
            line.capacity() <= 2 * COMMAND_LINE_LIMIT,
            "{}",
            line.capacity()
        );
        let (output, _) = dialogue(long().chain(&b"QUIT\r\n"[..]));
        assert_eq!(codes(&output), ["220", "500", "221"], "{output}");
        for bad in [
            &b"MAIL FROM:<a@x.org>\rRCPT TO:<victim@y.org>\r\n"[..],
            b"MAIL FROM:<a@x.org\xff>\r\n",
        ] {
            let (output, relayed) = dialogue(bad.chain(&b"RCPT TO:<b@y.org>\r\nQUIT\r\n"[..]));
            assert_eq!(codes(&output), ["220", "500", "503", "221"], "{output}");
            assert!(relayed.is_empty());
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::sendmail::strategies::{hostile, no_bare_line_breaks};

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn only_crlf_dot_crlf_ends_the_data_of_any_bytes(input in hostile(), limit in 0..64usize) {
                let mut cursor = std::io::Cursor::new(&input[..]);
                let read = read_data(&mut cursor, limit);
                // The DATA command's CRLF comes first.
                let framed = [&b"\r\n"[..], &input].concat();
                let end = framed.windows(5).position(|w| w == b"\r\n.\r\n").map(|at| at + 3);
                match (read, end) {
                    (Ok(data), Some(end)) => {
                        prop_assert_eq!(usize::try_from(cursor.position()).unwrap(), end);
                        if let Data::Message(data) = data {
                            prop_assert!(data.len() <= limit);
                        }
                    }
                    (Err(err), None) => {
                        prop_assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
                    }
                    (read, end) => prop_assert!(false, "{read:?} but the end is at {end:?}"),
                }
            }

            #[test]
            fn the_dialogue_takes_any_bytes(input in hostile()) {
                let mut output = Vec::new();
                let relayed = std::cell::Cell::new(0);
                let result = serve_smtp(&mut &input[..], &mut output, &|data: &[u8], _: &Envelope| {
                    relayed.set(relayed.get() + data.len());
                    Ok("250 ok".into())
                });
                prop_assert!(relayed.get() <= input.len());
                prop_assert!(output.starts_with(b"220 ") && output.ends_with(b"\r\n"));
                prop_assert!(no_bare_line_breaks(&output), "{:?}", String::from_utf8_lossy(&output));
                if let Err(error) = result {
                    prop_assert_eq!(error.kind, Kind::Temporary);
                }
            }
        }
    }
}
