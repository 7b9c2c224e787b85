//! The flags of a rich message: Markdown rendered into an HTML alternative, the parts it
//! shows in place. Clap types only,
//! under the house rules of `cli`.

use std::path::PathBuf;

use clap::{Args, ValueHint};

use crate::compose::InlineSpec;

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
    /// the Markdown file) becomes an inline part without this.
    #[arg(
        long,
        value_name = "PATH[=CID]",
        value_hint = ValueHint::FilePath,
        help_heading = "Message"
    )]
    pub inline: Vec<InlineSpec>,
}
