//! Reading what a `MessageSpec` names: the bodies (a file, standard input, the terminal) and
//! the attachments, whose type is told by their name, then their first bytes. Every file is
//! opened here, before anything connects anywhere; an attachment's bytes are read only when
//! the message is written (`content`).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use super::attach::{AttachmentSource, AttachmentSpec, MAX_STDIN, expand};
use super::inline::{InlineSet, local_image};
use super::{Attachment, AttachmentData, BodySource, BodyText, Contents, InlinePart, MessageSpec};
use crate::content::markdown::{self, MarkdownOptions};
use crate::error::{Error, Kind};
use crate::terminal::print_warning;

/// Reads bodies and attachments. Every file is read before anything connects anywhere, so a
/// missing attachment fails the command with nothing sent.
pub fn read_contents(spec: &MessageSpec) -> Result<Contents, Error> {
    let text = match spec.markdown {
        Some(_) => read_body(&spec.body, "Markdown body", markdown::MAX_SOURCE as u64)?,
        None => read_body(&spec.body, "body", u64::MAX)?,
    };
    let mut inline = InlineSet::default();
    for given in &spec.inline {
        inline
            .add(&given.path, given.cid.as_ref())
            .map_err(|reason| {
                Error::usage(format!("--inline {}: {reason}", given.path.display()))
            })?;
    }
    let html = match (&spec.html, spec.markdown, &text) {
        (Some(source), _, _) => read_body(source, "--html", u64::MAX)?,
        (None, Some(options), Some(text)) => Some(BodyText::Utf8(rendered(
            &spec.body,
            text,
            options,
            &mut inline,
        )?)),
        (None, _, _) => None,
    };
    let inline = inline
        .parts
        .into_iter()
        .map(|(path, cid)| {
            Ok(InlinePart {
                cid,
                file: read_attachment(&path, "inline part")?,
            })
        })
        .collect::<Result<_, Error>>()?;
    let mut attachments = Vec::new();
    for given in &spec.attachments {
        attachments.extend(read_attachments(given)?);
    }
    Ok(Contents {
        text,
        html,
        inline,
        attachments,
    })
}

/// The HTML page of a Markdown body. Its images that are local files (relative to the
/// Markdown file's directory, else the working directory) join `inline` and are shown by
/// `cid:`.
fn rendered(
    source: &BodySource,
    text: &BodyText,
    options: MarkdownOptions,
    inline: &mut InlineSet,
) -> Result<String, Error> {
    let (named, base) = match source {
        BodySource::File(path) => (
            format!("the Markdown file {}", path.display()),
            path.parent().unwrap_or(Path::new("")).to_path_buf(),
        ),
        _ => ("the Markdown body".to_string(), PathBuf::new()),
    };
    let BodyText::Utf8(text) = text else {
        return Err(Error::bad_message(format!("{named} is not UTF-8")));
    };
    let mut failed = None;
    let html = markdown::to_html(text, options, &mut |destination| {
        let path = local_image(destination, &base)?;
        match inline.add(&path, None) {
            Ok(cid) => Some(format!("cid:{cid}")),
            Err(reason) => {
                failed.get_or_insert(Error::usage(format!("{named}: {reason}")));
                None
            }
        }
    });
    match failed {
        Some(error) => Err(error),
        None => Ok(html),
    }
}

/// A body, read whole; one longer than `limit` (the Markdown to render) is refused once that
/// much is read.
fn read_body(source: &BodySource, what: &str, limit: u64) -> Result<Option<BodyText>, Error> {
    let mut bytes = Vec::new();
    match source {
        BodySource::None => return Ok(None),
        BodySource::Text(text) => return Ok(Some(BodyText::Utf8(text.clone()))),
        BodySource::File(path) => std::fs::File::open(path)
            .and_then(|file| file.take(limit.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|err| Error::unreadable(what, path, &err))?,
        BodySource::Stdin | BodySource::Terminal => {
            if *source == BodySource::Terminal && std::io::stderr().is_terminal() {
                eprintln!("Type the message; end it with Ctrl-D on a line of its own.");
            }
            std::io::stdin()
                .take(limit.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|err| {
                    Error::new(
                        Kind::NoInput,
                        format!("cannot read {what} from standard input: {err}"),
                    )
                })?
        }
    };
    if bytes.len() as u64 > limit {
        let named = match source {
            BodySource::File(path) => format!("{what} {}", path.display()),
            _ => what.to_string(),
        };
        return Err(Error::bad_message(format!(
            "the {named} is larger than {} MiB, the most rendered",
            limit >> 20
        )));
    }
    // A NUL may appear in neither 7bit nor 8bit data (RFC 2045 2.7, 2.8), and mail-builder
    // would label such a text part 7bit: a text body with one is no text.
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(Error::bad_message(format!(
            "{what} contains a NUL byte at offset {offset}; send binary data with -a"
        )));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(BodyText::Utf8(text))),
        Err(err) => {
            if std::io::stderr().is_terminal() {
                print_warning(&format!(
                    "the {what} is not UTF-8 (invalid byte at offset {}); it is sent as it is, as charset unknown-8bit",
                    err.utf8_error().valid_up_to()
                ));
            }
            Ok(Some(BodyText::Unknown8bit(err.into_bytes())))
        }
    }
}

/// The attachments one `-a` names: a file, standard input, or every file a pattern matches,
/// with the name and type it gives them.
fn read_attachments(given: &AttachmentSpec) -> Result<Vec<Attachment>, Error> {
    let path = match &given.source {
        AttachmentSource::Stdin => return Ok(vec![read_stdin_attachment(given)?]),
        AttachmentSource::Path(path) => path,
    };
    let files = expand(path)
        .map_err(|reason| Error::new(Kind::NoInput, format!("-a {}: {reason}", path.display())))?;
    if files.len() > 1 && given.name.is_some() {
        return Err(Error::usage(format!(
            "-a {}: name= gives {} files one name",
            path.display(),
            files.len()
        )));
    }
    files
        .iter()
        .map(|file| {
            let mut attachment = read_attachment(file, "attachment")?;
            if let Some(name) = &given.name {
                attachment.file_name = name.clone();
            }
            if let Some(content_type) = &given.content_type {
                attachment.content_type = content_type.as_str().to_string();
            }
            Ok(attachment)
        })
        .collect()
}

/// `-a -;name=NAME`: standard input, read whole into memory, so no more than
/// [`MAX_STDIN`].
fn read_stdin_attachment(given: &AttachmentSpec) -> Result<Attachment, Error> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| {
            Error::new(
                Kind::NoInput,
                format!("cannot read -a - from standard input: {err}"),
            )
        })?;
    if bytes.len() as u64 > MAX_STDIN {
        return Err(Error::bad_message(format!(
            "-a -: standard input holds more than {} MiB; attach a file instead",
            MAX_STDIN >> 20
        )));
    }
    let file_name = given.name.clone().unwrap_or_default();
    let content_type = match &given.content_type {
        Some(content_type) => content_type.as_str().to_string(),
        None => content_type_for(
            Path::new(&file_name),
            &bytes[..bytes.len().min(SNIFF_BYTES)],
        ),
    };
    Ok(Attachment {
        file_name,
        content_type,
        size: bytes.len() as u64,
        data: AttachmentData::InMemory(bytes),
    })
}

/// A file sent along (`what`: an attachment, an inline part), opened and its type told.
pub(super) fn read_attachment(path: &Path, what: &str) -> Result<Attachment, Error> {
    let unreadable = |err: std::io::Error| Error::unreadable(what, path, &err);
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    if metadata.is_dir() {
        return Err(Error::new(
            Kind::NoInput,
            format!("cannot read {what} {}: it is a directory", path.display()),
        ));
    }
    // Enough of the file to tell text from binary.
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(unreadable)?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| Error::usage(format!("{what} {} has no file name", path.display())))?;
    Ok(Attachment {
        file_name,
        content_type: content_type_for(path, &head),
        data: AttachmentData::File(path.to_path_buf()),
        size: metadata.len(),
    })
}

/// How much of an attachment is read to guess its type.
const SNIFF_BYTES: usize = 8192;

/// Types told by a file's first bytes, for a file whose name has no known extension. A
/// document that is a ZIP inside (docx, xlsx, odt, jar) stays application/zip here.
const MAGIC: &[(&[u8], &str)] = &[
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
];

/// The content type from the extension, else from the content: a type its first bytes tell
/// ([`MAGIC`]), UTF-8 text, or octets.
fn content_type_for(path: &Path, head: &[u8]) -> String {
    // UTF-8 up to the end of what was read, where a character may be cut short.
    let is_utf8_text = || {
        !head.contains(&0)
            && match std::str::from_utf8(head) {
                Ok(_) => true,
                Err(err) => err.error_len().is_none(),
            }
    };
    match mime_guess::from_path(path).first() {
        Some(guess) if guess.type_() == mime_guess::mime::TEXT && is_utf8_text() => {
            format!("{}; charset=utf-8", guess.essence_str())
        }
        Some(guess) => guess.essence_str().to_string(),
        None => match MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
            Some((_, essence)) => (*essence).to_string(),
            None if is_utf8_text() => "text/plain; charset=utf-8".to_string(),
            None => "application/octet-stream".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_extension_then_content() {
        assert_eq!(
            content_type_for(Path::new("a.pdf"), b"%PDF"),
            "application/pdf"
        );
        assert_eq!(
            content_type_for(Path::new("a.txt"), b"hello"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type_for(Path::new("README"), b"hello"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type_for(Path::new("blob"), &[0, 159, 146, 150]),
            "application/octet-stream"
        );
    }

    /// Issue "a newcomer's first hour": a file without an extension gets its type from its
    /// first bytes; the extension still wins when there is one.
    #[test]
    fn a_file_without_an_extension_is_typed_by_its_content() {
        for (head, expected) in [
            (&b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"[..], "application/pdf"),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
            (b"\xff\xd8\xff\xe0\0\x10JFIF\0", "image/jpeg"),
            (b"GIF89a\x01\0\x01\0", "image/gif"),
            (b"GIF87a\x01\0\x01\0", "image/gif"),
            (
                b"PK\x03\x04\x14\0\x06\0[Content_Types].xml",
                "application/zip",
            ),
            (b"\x1f\x8b\x08\0\0\0\0\0", "application/gzip"),
            ("Grüße\nline two\n".as_bytes(), "text/plain; charset=utf-8"),
            (b"\x00\x01\x02\x03", "application/octet-stream"),
        ] {
            assert_eq!(
                content_type_for(Path::new("scan"), head),
                expected,
                "{head:?}"
            );
        }
        assert_eq!(
            content_type_for(Path::new("report.docx"), b"PK\x03\x04"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(
            content_type_for(Path::new("notes.txt"), b"%PDF-1.7"),
            "text/plain; charset=utf-8"
        );
    }
}
