//! Input for the property tests of the intake, the aliases and the `-bs` server.

use proptest::prelude::*;

/// Bytes made of what the parsers look for (line breaks, dots, field names, commands,
/// an over-long line) as often as of anything else.
pub fn hostile() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b".".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"@x.org, ".to_vec()),
        Just(b"From: ".to_vec()),
        Just(b"To: root".to_vec()),
        Just(b"Bcc: ".to_vec()),
        Just(b"Message-ID: ".to_vec()),
        Just(b"EHLO c\r\n".to_vec()),
        Just(b"MAIL FROM:<a@x.org>\r\n".to_vec()),
        Just(b"RCPT TO:<b@y.org>\r\n".to_vec()),
        Just(b"DATA\r\n".to_vec()),
        Just(vec![b'x'; 1100]),
        prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
}

pub fn no_bare_line_breaks(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().all(|(at, &b)| match b {
        b'\r' => bytes.get(at + 1) == Some(&b'\n'),
        b'\n' => at > 0 && bytes[at - 1] == b'\r',
        _ => true,
    })
}
