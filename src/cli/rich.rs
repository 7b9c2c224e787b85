//! The flags of a rich message: Markdown rendered into an HTML alternative, the parts it
//! shows in place, templates, the size allowed, DKIM signing. Clap types only,
//! under the house rules of `cli`.

use std::path::PathBuf;

use clap::{Args, ValueHint};

use crate::compose::InlineSpec;
use crate::content::template::Variable;
use crate::dkim::Selector;

/// How the body becomes a styled page, flattened into the send arguments.
#[derive(Debug, Args)]
pub struct RichArgs {
    /// The body from a Markdown file, sent as its text and rendered as an HTML alternative; `-`
    /// is standard input.
    ///
    /// CommonMark with tables, strikethrough, task lists and bare URLs as links, rendered into
    /// a page styled for mail clients (inline CSS); the Markdown itself is the text/plain part.
    /// Raw HTML in it is shown as text unless --markdown-allow-html.
    #[arg(
        long,
        value_name = "PATH",
        value_hint = ValueHint::FilePath,
        conflicts_with_all = ["body", "body_file", "html", "markdown_body"],
        help_heading = "Message"
    )]
    pub markdown: Option<PathBuf>,

    /// The body (-m, --body-file or standard input) is Markdown: render it as --markdown does.
    #[arg(long, conflicts_with = "html", help_heading = "Message")]
    pub markdown_body: bool,

    /// Let raw HTML in the Markdown through as HTML instead of showing it as text.
    #[arg(long, help_heading = "Message")]
    pub markdown_allow_html: bool,

    /// A file the HTML shows in place as `cid:CID` (an image in the page); repeatable.
    ///
    /// CID is the file's name without `=CID`. The HTML and its inline parts travel together in
    /// multipart/related, so mail clients show them in the page and not as attachments. A
    /// Markdown image whose destination is a local file (`![chart](chart.png)`, relative to
    /// the Markdown file, or to the working directory for -m, a template or standard input)
    /// becomes an inline part without this.
    #[arg(
        long,
        value_name = "PATH[=CID]",
        value_hint = ValueHint::FilePath,
        help_heading = "Message"
    )]
    pub inline: Vec<InlineSpec>,

    /// A message template: header fields (Subject: and others, as -H takes them), a blank
    /// line, the body; `{{ NAME }}` in it is filled from --var, `{{ env.NAME }}` from the
    /// environment.
    ///
    /// A name with no value is an error (64), never an empty string; `\{{` is a literal `{{`.
    /// -s and -H add to what the template says, -s replacing its Subject. With
    /// --markdown-body the body is Markdown.
    #[arg(
        long,
        value_name = "FILE",
        value_hint = ValueHint::FilePath,
        conflicts_with_all = ["body", "body_file", "markdown"],
        help_heading = "Message"
    )]
    pub template: Option<PathBuf>,

    /// A value for the template's `{{ NAME }}`; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", help_heading = "Message")]
    pub vars: Vec<Variable>,

    /// Refuse a message larger than SIZE, before connecting: bytes, or with K, M or G (KiB,
    /// MiB, GiB), e.g. 25M.
    ///
    /// The size is of the whole message as sent, attachments in base64 (a third larger than
    /// the files). For a CI job, a clear failure beats a server's refusal after the upload.
    #[arg(
        long,
        value_name = "SIZE",
        env = "SMTPSEND_MAX_SIZE",
        value_parser = parse_size,
        help_heading = "Message"
    )]
    pub max_size: Option<u64>,

    /// Sign the message with DKIM using this private key (PEM: RSA or Ed25519) [env:
    /// SMTPSEND_DKIM_KEY].
    ///
    /// For a relay that does not sign: RSA-SHA256 or Ed25519-SHA256 (RFC 8463), relaxed
    /// canonicalization, the message made 7-bit first so no relay changes what was signed. Also
    /// the account's dkim_key; needs a selector (--dkim-selector or dkim_selector). The key is
    /// read only to sign, and never shown.
    #[arg(long, value_name = "PEM", value_hint = ValueHint::FilePath, help_heading = "Signing")]
    pub dkim_key: Option<PathBuf>,

    /// The DKIM selector: the key is published at SELECTOR._domainkey.DOMAIN [env:
    /// SMTPSEND_DKIM_SELECTOR].
    #[arg(long, value_name = "SELECTOR", help_heading = "Signing")]
    pub dkim_selector: Option<Selector>,

    /// The signing domain (d=) [default: the From address's domain] [env: SMTPSEND_DKIM_DOMAIN].
    #[arg(long, value_name = "DOMAIN", value_hint = ValueHint::Hostname, help_heading = "Signing")]
    pub dkim_domain: Option<String>,
}

/// `123`, `64K`, `25M`, `1G` (powers of 1024; `KiB`, `MB` and the like read the same).
fn parse_size(value: &str) -> Result<u64, String> {
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &value[digits.len()..];
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{value:?} is not a size such as 25M"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{value:?}: the unit is K, M or G")),
    };
    number
        .checked_mul(1 << shift)
        .filter(|&size| size > 0)
        .ok_or_else(|| format!("{value:?} is not a size such as 25M"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_sizes_read_as_people_write_them() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64K"), Ok(65_536));
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        for bad in ["", "M", "0", "12X", "-1", "99999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
