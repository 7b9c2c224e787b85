//! What `--dry-run` shows a person: the envelope (every RCPT TO, Bcc included, since Bcc is
//! in no header), the header fields decoded, the text, and one line per inline part and per
//! attachment instead of its base64. `--dry-run=raw`, and any standard output that is not a
//! terminal, get the exact bytes instead (`commands/send`). Everything shown passes `terminal::escape`: a body read
//! from a file may hold escape sequences.

use std::io::{self, Write};

use mail_parser::{Address, HeaderValue, MessageParser};

use crate::compose::{Composed, Contents};
use crate::terminal::{escape, size};

/// The readable form of a message that would be sent.
pub fn render(message: &Composed, contents: &Contents) -> String {
    let mut out = String::new();
    out.push_str(&format!("MAIL FROM:<{}>\n", escape(&message.envelope.from)));
    for recipient in &message.envelope.recipients {
        out.push_str(&format!("RCPT TO:<{}>\n", escape(recipient)));
    }
    out.push('\n');
    let header = header_of(message);
    if let Some(parsed) = MessageParser::default().parse_headers(&header) {
        for field in parsed.headers() {
            let value = match &field.value {
                HeaderValue::Address(address) => addresses(address),
                HeaderValue::Text(text) => text.to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                HeaderValue::DateTime(date) => date.to_rfc822(),
                HeaderValue::ContentType(content_type) => {
                    let mut text = content_type.ctype().to_string();
                    if let Some(subtype) = content_type.subtype() {
                        text = format!("{text}/{subtype}");
                    }
                    for attribute in content_type.attributes().unwrap_or_default() {
                        text.push_str(&format!("; {}={}", attribute.name, attribute.value));
                    }
                    text
                }
                _ => String::from_utf8_lossy(
                    header
                        .get(field.offset_start as usize..field.offset_end as usize)
                        .unwrap_or_default(),
                )
                .trim()
                .to_string(),
            };
            out.push_str(&format!(
                "{}: {}\n",
                escape(field.name.as_str()),
                escape(&unfolded(&value))
            ));
        }
    }
    if let Some(text) = &contents.text {
        out.push_str("\n--- text/plain\n");
        push_lines(&mut out, &text.lossy());
    }
    if let Some(html) = &contents.html {
        out.push_str(&format!(
            "\n--- text/html alternative, {}\n",
            size(html.lossy().len() as u64)
        ));
    }
    for part in &contents.inline {
        out.push_str(&format!(
            "\n--- inline {} as cid:{}, {}, {}\n",
            escape(&part.file.file_name),
            part.cid,
            escape(&part.file.content_type),
            size(part.file.size)
        ));
    }
    for attachment in &contents.attachments {
        out.push_str(&format!(
            "\n--- attachment {}, {}, {}\n",
            escape(&attachment.file_name),
            escape(&attachment.content_type),
            size(attachment.size)
        ));
    }
    out.push_str(&format!(
        "\n--- {} in all; nothing sent (--dry-run=raw shows the exact bytes)\n",
        size(message.content.len())
    ));
    out
}

/// A field's value on one line (RFC 5322 2.2.3): a long one such as DKIM-Signature is folded.
fn unfolded(value: &str) -> String {
    value
        .split("\r\n")
        .map(|line| line.trim_start_matches([' ', '\t']))
        .collect::<Vec<_>>()
        .join(" ")
}

fn push_lines(out: &mut String, text: &str) {
    for line in text.lines() {
        out.push_str(&escape(line));
        out.push('\n');
    }
}

fn addresses(address: &Address) -> String {
    address
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message's header fields and the blank line after them. The header is written before
/// any attachment, so no attachment file is read to get it.
fn header_of(message: &Composed) -> Vec<u8> {
    /// Takes bytes until the blank line that ends the header, then says it has enough.
    struct UntilBody(Vec<u8>);
    impl Write for UntilBody {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if self.0.ends_with(b"\r\n\r\n") {
                return Err(io::Error::other("the header is complete"));
            }
            for (at, &byte) in bytes.iter().enumerate() {
                self.0.push(byte);
                if self.0.ends_with(b"\r\n\r\n") {
                    return Ok(at + 1);
                }
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut header = UntilBody(Vec::new());
    // Stopping at the body is the error this writer ends with.
    let _ = message.content.write_to(&mut header);
    header.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::parse_mailbox;
    use crate::compose::{
        AttachmentSpec, BodySource, ExtraHeader, MessageSpec, build, read_contents,
    };

    #[test]
    fn the_envelope_the_decoded_header_the_text_and_a_line_per_attachment() {
        let dir = tempfile::tempdir().unwrap();
        let attachment = dir.path().join("report.pdf");
        std::fs::write(&attachment, vec![b'%'; 3000]).unwrap();
        let spec = MessageSpec {
            from: parse_mailbox("Zoë <zoe@example.org>", "from").unwrap(),
            envelope_from: "zoe@example.org".into(),
            to: vec![parse_mailbox("bob@example.org", "to").unwrap()],
            cc: vec![],
            bcc: vec![parse_mailbox("hidden@example.org", "bcc").unwrap()],
            reply_to: None,
            subject: Some("Grüße \u{1b}[31m".into()),
            headers: vec![ExtraHeader {
                name: "X-Ticket".into(),
                value: "42".into(),
            }],
            body: BodySource::Text("first line\nsecond line\n".into()),
            html: None,
            markdown: None,
            inline: vec![],
            attachments: vec![AttachmentSpec::parse(&attachment).unwrap()],
            max_size: None,
        };
        let contents = read_contents(&spec).unwrap();
        let message = build(&spec, &contents, "<id@example.org>").unwrap();
        let shown = render(&message, &contents);
        assert!(shown.starts_with("MAIL FROM:<zoe@example.org>\nRCPT TO:<bob@example.org>\nRCPT TO:<hidden@example.org>\n"), "{shown}");
        assert!(shown.contains("\nFrom: Zoë <zoe@example.org>\n"), "{shown}");
        assert!(shown.contains("\nSubject: Grüße \\u{1b}[31m\n"), "{shown}");
        assert!(shown.contains("\nX-Ticket: 42\n"), "{shown}");
        assert!(
            shown.contains("\n--- text/plain\nfirst line\nsecond line\n"),
            "{shown}"
        );
        assert!(
            shown.contains("\n--- attachment report.pdf, application/pdf, 2.9 KiB\n"),
            "{shown}"
        );
        assert!(!shown.contains("JSUl"), "no base64: {shown}");
        assert!(!shown.contains("Bcc:"), "{shown}");
    }
}
