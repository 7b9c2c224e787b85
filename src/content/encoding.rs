//! The transfer encodings a downgrade writes: quoted-printable and base64 bodies (RFC 2045
//! sections 6.7 and 6.8), an encoded body made to travel without changing what it decodes to,
//! and 8-bit header fields in encoded words (RFC 2047): unstructured text whole, the display
//! names of address fields, text in no known charset. Pure functions over bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use mail_builder::headers::Header;
use mail_builder::headers::address::Address as MimeAddress;
use mail_builder::headers::text::Text;

use super::base64_lines;
use crate::error::{Error, Kind};

/// The longest encoded line RFC 2045 allows, without its CRLF.
const ENCODED_LINE: usize = 76;

/// Whether a space or tab at `at` would end a line: RFC 2045 rule 3 wants it encoded there.
fn ends_line(input: &[u8], at: usize) -> bool {
    at + 1 == input.len() || input[at + 1..].starts_with(b"\r\n")
}

/// `input` in quoted-printable: each CRLF stays a line break, every other octet that is not
/// printable ASCII (a bare CR or LF too) becomes `=XX`, and lines are broken softly before 76
/// characters, so decoding gives `input` back exactly.
pub fn quoted_printable(input: &[u8], out: &mut Vec<u8>) {
    let mut column = 0;
    let mut at = 0;
    while at < input.len() {
        let byte = input[at];
        if input[at..].starts_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
            column = 0;
            at += 2;
            continue;
        }
        let literal = match byte {
            b' ' | b'\t' => !ends_line(input, at),
            b'=' => false,
            33..=126 => true,
            _ => false,
        };
        let width = if literal { 1 } else { 3 };
        // A soft break costs a `=` at the end of its line; the last token of a line needs none.
        let room = if ends_line(input, at) {
            ENCODED_LINE
        } else {
            ENCODED_LINE - 1
        };
        if column + width > room {
            out.extend_from_slice(b"=\r\n");
            column = 0;
        }
        if literal {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("={byte:02X}").as_bytes());
        }
        column += width;
        at += 1;
    }
}

/// `input` in base64 lines of 76 characters, the last without its CRLF.
pub fn base64(input: &[u8], out: &mut Vec<u8>) {
    let mut text = String::with_capacity(input.len() / 57 * 78 + 80);
    base64_lines(input, &mut text);
    out.extend_from_slice(text.trim_end_matches("\r\n").as_bytes());
}

/// A body already labelled quoted-printable that cannot travel as it is (8-bit octets, NUL,
/// over-long lines, stray CR or LF): those octets escaped and long lines broken softly, which
/// a decoder reads as the same text. An `=XX` already there is never split.
pub fn requote(input: &[u8], out: &mut Vec<u8>) {
    let mut column = 0;
    let mut at = 0;
    while at < input.len() {
        if input[at..].starts_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
            column = 0;
            at += 2;
            continue;
        }
        let byte = input[at];
        let token: Vec<u8> = match byte {
            b'=' if input.len() - at >= 3 => input[at..at + 3].to_vec(),
            b' ' | b'\t' | 33..=126 => vec![byte],
            _ => format!("={byte:02X}").into_bytes(),
        };
        if column + token.len() > ENCODED_LINE - 1 {
            out.extend_from_slice(b"=\r\n");
            column = 0;
        }
        column += token.len();
        at += if token.len() == 3 && byte == b'=' {
            3
        } else {
            1
        };
        out.extend_from_slice(&token);
    }
}

/// A body already labelled base64 that cannot travel as it is: what is not of the base64
/// alphabet dropped, as every decoder ignores it (RFC 2045 section 6.8), and the rest in lines
/// of 76 characters.
pub fn rewrap_base64(input: &[u8], out: &mut Vec<u8>) {
    let alphabet: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .collect();
    for (index, line) in alphabet.chunks(ENCODED_LINE).enumerate() {
        if index > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line);
    }
}

/// Octets of header text in encoded words of the charset `unknown-8bit` (RFC 1428), for text
/// that is not UTF-8: each word on a line of its own, every line under 78 characters. `column`
/// is where the value starts, after `Name: `.
pub fn unknown_8bit_words(text: &[u8], column: usize, out: &mut Vec<u8>) {
    const PREFIX: &str = "=?unknown-8bit?B?";
    // 30 octets make 40 characters of base64: a word of 59.
    const WORD_INPUT: usize = 30;
    let word_length = PREFIX.len() + WORD_INPUT.div_ceil(3) * 4 + 2;
    for (index, chunk) in text.chunks(WORD_INPUT).enumerate() {
        if index > 0 || column + word_length > 78 {
            out.extend_from_slice(b"\r\n ");
        }
        out.extend_from_slice(PREFIX.as_bytes());
        out.extend_from_slice(BASE64.encode(chunk).as_bytes());
        out.extend_from_slice(b"?=");
    }
    out.extend_from_slice(b"\r\n");
}

/// Fields whose value is a list of addresses: their display names are encoded.
const ADDRESS_FIELDS: [&str; 11] = [
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-bcc",
];

/// Structured fields with no place for encoded words.
const STRUCTURED_FIELDS: [&str; 14] = [
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "received",
    "return-path",
    "mime-version",
    "content-type",
    "content-disposition",
    "content-transfer-encoding",
    "content-id",
    "resent-date",
    "resent-message-id",
    "dkim-signature",
];

/// An 8-bit field (`field` is the whole of it, name to CRLF) written in 7-bit.
pub fn encoded_field(name: &str, field: &[u8]) -> Result<Vec<u8>, Error> {
    let lower = name.to_ascii_lowercase();
    let raw_value = &field[name.len() + 1..];
    // Unfolded: the CRLF before each continuation line goes, its white space stays.
    let mut value = Vec::with_capacity(raw_value.len());
    let mut at = 0;
    while at < raw_value.len() {
        if raw_value[at..].starts_with(b"\r\n") {
            at += 2;
            continue;
        }
        value.push(raw_value[at]);
        at += 1;
    }
    let value = value.trim_ascii();
    let mut out = format!("{name}: ").into_bytes();
    let column = out.len();
    if ADDRESS_FIELDS.contains(&lower.as_str()) {
        address_list(name, value)?.write_header(&mut out, column);
    } else if STRUCTURED_FIELDS.contains(&lower.as_str()) {
        return Err(Error::bad_message(format!(
            "the {name} header field has 8-bit text, which needs SMTPUTF8, and the server does not offer it"
        )));
    } else {
        match std::str::from_utf8(value) {
            Ok(text) => Text::new(text).write_header(&mut out, column),
            Err(_) => unknown_8bit_words(value, column, &mut out),
        }
    }
    Ok(out)
}

/// The addresses of an address field, to write again with encoded display names.
fn address_list(name: &str, value: &[u8]) -> Result<MimeAddress<'static>, Error> {
    let raw = [name.as_bytes(), b": ", value, b"\r\n\r\n"].concat();
    let parsed = mail_parser::MessageParser::default().parse_headers(&raw);
    let unparsable = || {
        Error::bad_message(format!(
            "the {name} header field has 8-bit text that is not a list of addresses; it needs SMTPUTF8, and the server does not offer it"
        ))
    };
    let Some(mail_parser::HeaderValue::Address(list)) =
        parsed.as_ref().and_then(|p| p.header(name))
    else {
        return Err(unparsable());
    };
    let mailbox = |addr: &mail_parser::Addr| -> Result<MimeAddress<'static>, Error> {
        let address = addr.address().ok_or_else(unparsable)?;
        if !address.is_ascii() {
            return Err(Error::new(
                Kind::Unavailable,
                format!(
                    "the address <{address}> in the {name} field needs SMTPUTF8, which the server does not offer"
                ),
            ));
        }
        Ok(MimeAddress::new_address(
            addr.name().map(str::to_string),
            address.to_string(),
        ))
    };
    let items = match list {
        mail_parser::Address::List(addrs) => addrs.iter().map(mailbox).collect::<Result<_, _>>()?,
        mail_parser::Address::Group(groups) => groups
            .iter()
            .map(|group| {
                let members = group
                    .addresses
                    .iter()
                    .map(mailbox)
                    .collect::<Result<_, _>>()?;
                Ok(MimeAddress::new_group(
                    group.name.as_ref().map(|n| n.to_string()),
                    members,
                ))
            })
            .collect::<Result<_, Error>>()?,
    };
    Ok(MimeAddress::new_list(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
        bytes.split(|&b| b == b'\n').collect()
    }

    /// What mail-parser decodes `encoded` to, as the body of an application/octet-stream part.
    fn decoded(encoding: &str, encoded: &[u8]) -> Vec<u8> {
        let header = format!(
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
        );
        let message = [header.as_bytes(), encoded].concat();
        let parsed = mail_parser::MessageParser::default()
            .parse(&message)
            .unwrap();
        parsed.parts[0].contents().to_vec()
    }

    #[test]
    fn quoted_printable_decodes_back_exactly_in_short_lines() {
        let long = "é".repeat(700);
        let inputs: [&[u8]; 6] = [
            b"plain text\r\n",
            b"trailing space \r\ntab\t\r\nend ",
            b"a=b\rc\nd\0e\xff",
            long.as_bytes(),
            &[b'x'; 2000],
            b"",
        ];
        for input in inputs {
            let mut out = Vec::new();
            quoted_printable(input, &mut out);
            assert!(out.is_ascii(), "{out:?}");
            assert!(lines_of(&out).iter().all(|l| l.len() <= 77), "{out:?}");
            assert!(
                !out.windows(3).any(|w| w == b" \r\n" || w == b"\t\r\n"),
                "no trailing white space: {out:?}"
            );
            assert_eq!(decoded("quoted-printable", &out), input);
        }
    }

    #[test]
    fn a_quoted_printable_body_is_made_to_travel_with_its_meaning() {
        let input = b"caf=C3=A9 \xc3\xa9 x\0y=\r\nsoft break kept";
        let mut out = Vec::new();
        requote(input, &mut out);
        assert!(out.is_ascii());
        // A lenient decoder passes 8-bit octets and NUL as they are: the same text.
        assert_eq!(
            decoded("quoted-printable", &out),
            decoded("quoted-printable", input)
        );
        let long = [b'a'; 3000];
        let mut out = Vec::new();
        requote(&long, &mut out);
        assert!(lines_of(&out).iter().all(|l| l.len() <= 77));
        assert_eq!(decoded("quoted-printable", &out), long);
    }

    #[test]
    fn base64_bodies_keep_their_content() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut out = Vec::new();
        base64(&bytes, &mut out);
        assert!(!out.ends_with(b"\r\n"));
        assert_eq!(decoded("base64", &out), bytes);
        let mut broken = out.clone();
        broken.insert(10, 0xff);
        broken.insert(20, 0);
        let mut rewrapped = Vec::new();
        rewrap_base64(&broken, &mut rewrapped);
        assert!(rewrapped.is_ascii());
        assert!(lines_of(&rewrapped).iter().all(|l| l.len() <= 77));
        assert_eq!(decoded("base64", &rewrapped), bytes);
    }

    #[test]
    fn unknown_8bit_words_fold_under_78() {
        let mut out = b"Subject: ".to_vec();
        unknown_8bit_words(&[0xe9; 100], 9, &mut out);
        assert!(out.is_ascii());
        assert!(lines_of(&out).iter().all(|l| l.len() <= 79));
        assert_eq!(out.windows(3).filter(|w| w == b"?B?").count(), 4);
    }
}
