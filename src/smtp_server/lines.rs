//! Reading a client's lines and message data with bounds: a command line never costs more
//! memory than its limit, message data never more than the message's, and only CRLF.CRLF ends
//! the data (RFC 5321 section 4.1.1.4), so nothing a client sends can run as a command it did
//! not send as one.

use std::io::BufRead;

/// How a line read by `read_line_bounded` ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
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
pub fn read_line_bounded(
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

/// What the data of one message came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Data {
    Message(Vec<u8>),
    /// Over the limit: read to its end and dropped.
    TooBig,
    /// More than the memory `grow` would give: read to its end and dropped.
    NoRoom,
}

/// The message data up to CRLF.CRLF, dot-stuffing undone (RFC 5321 section 4.5.2). Only that
/// sequence ends it (sections 4.1.1.4 and 2.3.8): a dot after a bare LF or a bare CR is message
/// text, made a CRLF line like every other line ending later, or what follows it would run as
/// commands (SMTP smuggling). Lines are long as they come: the line breaks made CRLF decide
/// their length, and the message's own limit bounds the memory; `grow(n)` is asked before the
/// data grows by n octets, and a no drops it (the memory all sessions share).
pub fn read_data(
    input: &mut impl BufRead,
    limit: usize,
    grow: &mut dyn FnMut(usize) -> bool,
) -> std::io::Result<Data> {
    const LONE_DOT: &[u8] = b".\r\n";
    let mut data = Vec::new();
    let mut line = Vec::new();
    let mut too_big = false;
    let mut no_room = false;
    // The CRLF of the DATA command counts: a lone dot at once is an empty message.
    let mut after_crlf = true;
    loop {
        // One more than the room left, for a doubled dot; once too big, just enough to see
        // the end.
        let room = if too_big || no_room {
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
            return Ok(match (too_big, no_room) {
                (true, _) => Data::TooBig,
                (false, true) => Data::NoRoom,
                (false, false) => Data::Message(data),
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
        if no_room || !grow(unstuffed.len()) {
            no_room = true;
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

    fn data(body: &[u8], limit: usize) -> Data {
        read_data(&mut std::io::BufReader::new(body), limit, &mut |_| true).unwrap()
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
        let mut left = 4usize;
        let mut grow = |n: usize| {
            left = left.checked_sub(n).unwrap_or(usize::MAX);
            left != usize::MAX
        };
        let input = b"12\r\n34\r\n.\r\n";
        let read = read_data(&mut std::io::BufReader::new(&input[..]), 100, &mut grow);
        assert_eq!(read.unwrap(), Data::NoRoom);
    }

    #[test]
    fn an_endless_line_costs_time_not_memory() {
        let long = (&b"NOOP "[..])
            .chain(std::io::repeat(b'x').take(10_000_000))
            .chain(&b"\r\n"[..]);
        let mut line = Vec::new();
        let mut input = std::io::BufReader::new(long);
        assert_eq!(
            read_line_bounded(&mut input, 1000, &mut line).unwrap(),
            Line::TooLong { crlf: true }
        );
        assert!(line.capacity() <= 2000, "{}", line.capacity());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::sendmail::strategies::hostile;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn only_crlf_dot_crlf_ends_the_data_of_any_bytes(input in hostile(), limit in 0..64usize) {
                let mut cursor = std::io::Cursor::new(&input[..]);
                let read = read_data(&mut cursor, limit, &mut |_| true);
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
        }
    }
}
