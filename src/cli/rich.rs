//! The flags of a rich message: Markdown rendered into an HTML alternative. Clap types only,
//! under the house rules of `cli`.

use std::path::PathBuf;

use clap::{Args, ValueHint};

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
}
