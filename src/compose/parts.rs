//! The MIME tree of a message's body (RFC 2046): the text, its HTML alternative, the
//! attachments, each part with the header fields mail clients read. Pure: no file is read here;
//! an attachment is a placeholder its base64 replaces when the message is written.

use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;

use super::{Attachment, AttachmentData, BodyText, Contents, InlinePart, new_message_id};
use crate::content::base64_lines;
use crate::content::crlf_line_endings;

fn content_type(value: &str) -> ContentType<'static> {
    let mut parts = value.split(';').map(str::trim);
    let mut content_type = ContentType::new(parts.next().unwrap_or_default().to_string());
    for parameter in parts {
        if let Some((key, val)) = parameter.split_once('=') {
            content_type = content_type.attribute(key.to_string(), val.to_string());
        }
    }
    content_type
}

/// The body: the text, its HTML alternative (with the parts it shows in place) and the
/// attachments, in the usual nesting: multipart/mixed around multipart/alternative around
/// multipart/related. `placeholders` stand for the parts read from files, in order.
pub(super) fn body_part(contents: &Contents, placeholders: &[String]) -> MimePart<'static> {
    let mut placeholders = placeholders.iter();
    let text = contents
        .text
        .as_ref()
        .map(|text| text_part("text/plain", text));
    let html = contents.html.as_ref().map(|html| {
        related(
            text_part("text/html", html),
            &contents.inline,
            &mut placeholders,
        )
    });
    let readable = match (text, html) {
        (Some(text), Some(html)) => Some(MimePart::new("multipart/alternative", vec![text, html])),
        (text, html) => text.or(html),
    };
    with_attachments(readable, &contents.attachments, &mut placeholders)
}

/// The HTML alone, or in multipart/related with the parts it shows in place (RFC 2387): the
/// HTML first, which makes it the root, and named by `type` (RFC 2387 3.1). Inside the
/// alternative, so clients show the images in the page and list none of them as attachments.
fn related(
    html: MimePart<'static>,
    inline: &[InlinePart],
    placeholders: &mut Placeholders,
) -> MimePart<'static> {
    if inline.is_empty() {
        return html;
    }
    let parts = std::iter::once(html)
        .chain(inline.iter().map(|part| inline_part(part, placeholders)))
        .collect::<Vec<_>>();
    MimePart::new(
        ContentType::new("multipart/related").attribute("type", "text/html"),
        parts,
    )
}

/// A part the HTML shows by `cid:` (RFC 2392): `Content-ID`, and `Content-Disposition: inline`
/// (RFC 2183 2.1) with its file name for a client that saves it. Base64, as an attachment.
fn inline_part(part: &InlinePart, placeholders: &mut Placeholders) -> MimePart<'static> {
    MimePart::new(
        content_type(&part.file.content_type),
        base64_body(&part.file, placeholders),
    )
    .transfer_encoding("base64")
    .header(
        "Content-Disposition",
        ContentType::new("inline").attribute("filename", part.file.file_name.clone()),
    )
    .cid(part.cid.to_string())
}

/// The placeholders of the parts read from files, taken in the order the parts are written.
pub(super) type Placeholders<'a> = std::slice::Iter<'a, String>;

/// The base64 body of a part: its placeholder for a file, its lines for bytes in memory.
fn base64_body(file: &Attachment, placeholders: &mut Placeholders) -> Vec<u8> {
    match &file.data {
        AttachmentData::File(_) => {
            let placeholder = placeholders.next().expect("a placeholder per file");
            format!("{placeholder}\r\n").into_bytes()
        }
        AttachmentData::InMemory(bytes) => {
            let mut lines = String::with_capacity(bytes.len() / 3 * 4 + bytes.len() / 28 + 4);
            base64_lines(bytes, &mut lines);
            lines.into_bytes()
        }
    }
}

/// The readable part alone, or in multipart/mixed with the attachments after it.
pub(super) fn with_attachments(
    readable: Option<MimePart<'static>>,
    attachments: &[Attachment],
    placeholders: &mut Placeholders,
) -> MimePart<'static> {
    if attachments.is_empty() {
        return readable.unwrap_or_else(|| MimePart::new(utf8_type("text/plain"), ""));
    }
    let parts = readable
        .into_iter()
        .chain(
            attachments
                .iter()
                .map(|attachment| attachment_part(attachment, placeholders)),
        )
        .collect::<Vec<_>>();
    MimePart::new("multipart/mixed", parts)
}

/// A text part. One in no known charset carries its own Content-Transfer-Encoding, so
/// mail-builder writes its octets as they are (with CRLF line endings).
fn text_part(essence: &'static str, body: &BodyText) -> MimePart<'static> {
    match body {
        BodyText::Utf8(text) => MimePart::new(utf8_type(essence), canonical_text(text)),
        BodyText::Unknown8bit(bytes) => MimePart::new(
            ContentType::new(essence).attribute("charset", "unknown-8bit"),
            crlf_line_endings(bytes),
        )
        .transfer_encoding("8bit"),
    }
}

/// The text with CRLF line endings. Only CR and LF bytes change, so the text stays UTF-8.
pub(super) fn canonical_text(text: &str) -> String {
    String::from_utf8_lossy(&crlf_line_endings(text.as_bytes())).into_owned()
}

pub(super) fn utf8_type(essence: &'static str) -> ContentType<'static> {
    ContentType::new(essence).attribute("charset", "utf-8")
}

/// Attachments are base64-encoded here rather than by mail-builder, which would pick 7bit for a
/// short text file and so hand the receiver CRLF where the file had LF: a file must arrive byte
/// for byte. A part that carries its own Content-Transfer-Encoding is written as given.
///
/// mail-builder gives a non-ASCII file name as RFC 2231 `filename*=` on Content-Disposition,
/// which older clients (Outlook before 2016, some webmail) do not read; they read Content-Type's
/// `name=` with RFC 2047 encoded words instead, so that is written too, as Thunderbird does.
fn attachment_part(attachment: &Attachment, placeholders: &mut Placeholders) -> MimePart<'static> {
    // As bytes: mail-builder would give a text body a charset, meaningless on application/pdf.
    let mut part = MimePart::new(
        content_type(&attachment.content_type),
        base64_body(attachment, placeholders),
    )
    .transfer_encoding("base64")
    .attachment(attachment.file_name.clone());
    if !attachment.file_name.is_ascii() {
        let value = format!(
            "{}; name=\"{}\"",
            attachment.content_type,
            encoded_words(&attachment.file_name)
        );
        // Written as given and folded between the words: mail-builder would write RFC 2231
        // continuations for a long value, which those clients do not read either.
        if let Some((_, header)) = part
            .headers
            .iter_mut()
            .find(|(name, _)| name == "Content-Type")
        {
            *header = Raw::new(value).into();
        }
    }
    part
}

/// `text` as RFC 2047 "B" encoded words of UTF-8, each at most 75 characters (RFC 2047 2),
/// split between characters, separated by spaces, which a decoder drops (RFC 2047 6.2).
fn encoded_words(text: &str) -> String {
    use base64::Engine as _;
    // 42 bytes are 56 characters of base64; with `=?utf-8?b?` and `?=`, 68: a word and
    // ` name="` fit a line of 78.
    const BYTES_PER_WORD: usize = 42;
    let mut words = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + BYTES_PER_WORD).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(&text[start..end]);
        words.push(format!("=?utf-8?b?{encoded}?="));
        start = end;
    }
    words.join(" ")
}

/// A token no input can contain (random, and kept out of everything the user wrote), standing
/// where an attachment's base64 goes until the message is written.
pub(super) fn placeholder(index: usize) -> String {
    let token = new_message_id("placeholder");
    format!(
        "SMTPSEND-ATTACHMENT-{index}-{}",
        token.trim_matches(['<', '>']).replace('@', "-")
    )
}
