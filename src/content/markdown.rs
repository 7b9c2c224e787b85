//! Markdown to the HTML alternative of a message: CommonMark with tables, strikethrough, task
//! lists and bare-URL autolinks (as GitHub writes them), in a page styled for mail clients.
//!
//! Mail clients drop or rewrite `<style>` sheets (Outlook's Word engine, Gmail in some views),
//! so every element carries its style inline; the page is one centred column of system fonts.
//! Raw HTML in the source is text unless allowed: a report fed from a log must not inject
//! markup. Pure: an image's destination is handed to the caller, which may point it at a part
//! of the message (`cid:`, RFC 2392); nothing here reads a file.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The most Markdown rendered: the HTML is a small multiple of it, and a report is far less.
pub const MAX_SOURCE: usize = 16 * 1024 * 1024;

/// How the Markdown is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Pass raw HTML blocks and inline tags through instead of showing them as text.
    pub allow_html: bool,
}

/// The HTML page of `source`. `image` is asked about each image's destination and may give
/// another (a `cid:` URL for a file sent along); `None` keeps it.
pub fn to_html(
    source: &str,
    options: MarkdownOptions,
    image: &mut dyn FnMut(&str) -> Option<String>,
) -> String {
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    );
    let mut events = Vec::new();
    // Inside a link or a code block, a URL in the text is no new link.
    let mut in_link_or_code = 0usize;
    for event in parser {
        match event {
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = image(&dest_url).map(CowStr::from).unwrap_or(dest_url);
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(tag @ (Tag::Link { .. } | Tag::CodeBlock(_))) => {
                in_link_or_code += 1;
                events.push(Event::Start(tag));
            }
            Event::End(end @ (TagEnd::Link | TagEnd::CodeBlock)) => {
                in_link_or_code = in_link_or_code.saturating_sub(1);
                events.push(Event::End(end));
            }
            Event::Html(html) | Event::InlineHtml(html) if !options.allow_html => {
                events.push(Event::Text(html));
            }
            Event::Text(text) if in_link_or_code == 0 => autolinked(text, &mut events),
            other => events.push(other),
        }
    }
    let mut body = String::with_capacity(source.len() * 2);
    pulldown_cmark::html::push_html(&mut body, events.into_iter());
    // A task list's items show their checkbox, not a bullet as well.
    let body = styled(&body).replace("<li><input ", "<li style=\"list-style: none;\"><input ");
    format!("{PAGE_START}{body}{PAGE_END}")
}

const PAGE_START: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n</head>\n\
<body style=\"margin: 0; padding: 0; background: #ffffff;\">\n\
<div style=\"max-width: 680px; margin: 0 auto; padding: 16px; \
font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 15px; \
line-height: 1.5; color: #1f2328;\">\n";
const PAGE_END: &str = "</div>\n</body>\n</html>\n";

const MONOSPACE: &str =
    "font-family: SFMono-Regular, Consolas, 'Liberation Mono', Menlo, monospace; font-size: 13px;";

/// The inline style of each element the renderer writes.
fn style_of(tag: &str) -> Option<String> {
    let style = match tag {
        "h1" => {
            "font-size: 24px; margin: 24px 0 12px; padding-bottom: 6px; border-bottom: 1px solid #d8dee4;"
        }
        "h2" => {
            "font-size: 20px; margin: 24px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #d8dee4;"
        }
        "h3" => "font-size: 17px; margin: 20px 0 10px;",
        "h4" | "h5" | "h6" => "font-size: 15px; margin: 16px 0 8px;",
        "p" | "ul" | "ol" => "margin: 0 0 12px;",
        "blockquote" => {
            "margin: 0 0 12px; padding: 0 12px; color: #59636e; border-left: 4px solid #d1d9e0;"
        }
        "a" => "color: #0969da; text-decoration: underline;",
        "table" => "border-collapse: collapse; margin: 0 0 12px;",
        "th" => {
            "border: 1px solid #d1d9e0; padding: 6px 12px; background: #f6f8fa; font-weight: 600;"
        }
        "td" => "border: 1px solid #d1d9e0; padding: 6px 12px;",
        "img" => "max-width: 100%; height: auto; border: 0;",
        "hr" => "border: 0; border-top: 1px solid #d1d9e0; margin: 16px 0;",
        "del" => "color: #59636e;",
        "pre" => {
            return Some(format!(
                "background: #f6f8fa; padding: 12px; border-radius: 6px; overflow: auto; margin: 0 0 12px; {MONOSPACE}"
            ));
        }
        "code" => {
            return Some(format!(
                "background: #eff1f3; padding: 1px 4px; border-radius: 4px; {MONOSPACE}"
            ));
        }
        _ => return None,
    };
    Some(style.to_string())
}

/// The rendered HTML with a style on each element [`style_of`] knows, joined to a style the
/// renderer wrote itself (a table column's alignment). Text is escaped by then (`<` is
/// `&lt;`), so every `<` starts a tag.
fn styled(html: &str) -> String {
    let mut out = String::with_capacity(html.len() * 2);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let name_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        out.push('<');
        out.push_str(name);
        rest = &rest[name_len..];
        let Some(style) = style_of(name) else {
            continue;
        };
        // A block's <code> has its <pre>'s background already.
        if name == "code" && in_pre(&out) {
            continue;
        }
        if let Some(after) = rest.strip_prefix(" style=\"") {
            out.push_str(&format!(" style=\"{style} "));
            rest = after;
        } else if rest.starts_with(['>', ' ', '/']) {
            out.push_str(&format!(" style=\"{style}\""));
        }
    }
    out.push_str(rest);
    out
}

/// Whether the final `<code` of `out` comes right after a `<pre ...>`.
fn in_pre(out: &str) -> bool {
    let before = &out[..out.len() - "<code".len()];
    before.ends_with('>')
        && before
            .rfind('<')
            .is_some_and(|at| before[at..].starts_with("<pre "))
}

/// `text` with each bare `http://` or `https://` URL made a link, as GitHub's autolink
/// extension does; a trailing full stop, comma or closing bracket stays outside the link.
fn autolinked<'a>(text: CowStr<'a>, events: &mut Vec<Event<'a>>) {
    let mut rest: &str = &text;
    let mut found = false;
    while let Some(start) = find_url(rest) {
        found = true;
        let (before, from_url) = rest.split_at(start);
        let end = from_url
            .find(|c: char| c.is_whitespace() || c == '<')
            .unwrap_or(from_url.len());
        let url = from_url[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
        if !before.is_empty() {
            events.push(Event::Text(before.to_string().into()));
        }
        let dest_url: CowStr = url.to_string().into();
        events.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url,
            title: "".into(),
            id: "".into(),
        }));
        events.push(Event::Text(url.to_string().into()));
        events.push(Event::End(TagEnd::Link));
        rest = &from_url[url.len()..];
    }
    if !found {
        events.push(Event::Text(text));
    } else if !rest.is_empty() {
        events.push(Event::Text(rest.to_string().into()));
    }
}

/// Where the next URL starts: a scheme at the start of a word, with something after it.
fn find_url(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find("http").map(|at| at + from) {
        let word_start = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c));
        let tail = &text[at..];
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|scheme| tail.starts_with(scheme));
        if let Some(scheme) = scheme
            && word_start
            && tail[scheme.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric())
        {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(source: &str) -> String {
        to_html(source, MarkdownOptions::default(), &mut |_| None)
    }

    #[test]
    fn markdown_headings_tables_strikethrough_and_task_lists() {
        let page = html(
            "# Nightly build\n\n| job | result |\n|:---|---:|\n| lint | ok |\n\n~~flaky~~\n\n- [x] built\n- [ ] deployed\n",
        );
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains("<h1 style=\"font-size: 24px;"), "{page}");
        assert!(page.contains(">Nightly build</h1>"), "{page}");
        assert!(page.contains("<table style=\""), "{page}");
        // The alignment the renderer writes is kept, joined to ours.
        assert!(
            page.contains("<th style=\"border: 1px solid #d1d9e0; padding: 6px 12px; background: #f6f8fa; font-weight: 600; text-align: left\">job</th>"),
            "{page}"
        );
        assert!(page.contains("text-align: right\">ok</td>"), "{page}");
        assert!(
            page.contains("<del style=\"color: #59636e;\">flaky</del>"),
            "{page}"
        );
        assert!(page.contains("checked=\"\""), "{page}");
        assert!(
            page.contains("<li style=\"list-style: none;\"><input "),
            "{page}"
        );
        assert!(page.contains("type=\"checkbox\""), "{page}");
        assert!(!page.contains("<style"), "styles are inline: {page}");
    }

    #[test]
    fn markdown_raw_html_is_escaped_unless_allowed() {
        let source = "<script>alert(1)</script>\n\nhello <b onclick=x>bold</b>\n";
        let page = html(source);
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(page.contains("&lt;b onclick=x&gt;bold&lt;/b&gt;"), "{page}");
        let allowed = to_html(source, MarkdownOptions { allow_html: true }, &mut |_| None);
        assert!(allowed.contains("<b onclick=x>bold</b>"), "{allowed}");
    }

    #[test]
    fn markdown_bare_urls_become_links_but_not_in_code_or_links() {
        let page = html(
            "See https://ci.example.com/job/42. Or (http://x.org)\n\n`https://code.example`\n\n[label](https://a.example) httpd\n\n    https://block.example\n",
        );
        assert!(
            page.contains("<a style=\"color: #0969da; text-decoration: underline;\" href=\"https://ci.example.com/job/42\">https://ci.example.com/job/42</a>."),
            "{page}"
        );
        assert!(
            page.contains("href=\"http://x.org\">http://x.org</a>)"),
            "{page}"
        );
        assert!(!page.contains("href=\"https://code.example\""), "{page}");
        assert!(!page.contains("href=\"https://block.example\""), "{page}");
        assert_eq!(
            page.matches("href=\"https://a.example\"").count(),
            1,
            "{page}"
        );
        assert!(page.contains("</a> httpd"), "{page}");
    }

    #[test]
    fn markdown_code_blocks_are_styled_once_by_their_pre() {
        let page = html("```\nlet x = 1;\n```\n\nand `inline`\n");
        assert!(page.contains("<pre style=\"background: #f6f8fa;"), "{page}");
        assert!(page.contains("><code>let x = 1;"), "{page}");
        assert!(
            page.contains("<code style=\"background: #eff1f3;"),
            "{page}"
        );
    }

    #[test]
    fn markdown_images_may_be_pointed_elsewhere() {
        let mut seen = Vec::new();
        let page = to_html(
            "![chart](chart.png) ![logo](https://example.org/logo.png)",
            MarkdownOptions::default(),
            &mut |url| {
                seen.push(url.to_string());
                (url == "chart.png").then(|| "cid:chart".to_string())
            },
        );
        assert_eq!(seen, ["chart.png", "https://example.org/logo.png"]);
        assert!(page.contains("src=\"cid:chart\""), "{page}");
        assert!(
            page.contains("src=\"https://example.org/logo.png\""),
            "{page}"
        );
        assert!(page.contains("<img style=\"max-width: 100%;"), "{page}");
    }

    #[test]
    fn markdown_hostile_input_does_not_panic() {
        for source in [
            "<".repeat(10_000),
            "[".repeat(10_000),
            "> ".repeat(5_000),
            "http://".repeat(1_000),
            "*a **b ".repeat(3_000),
            "| a |\n|---|\n".repeat(2_000),
        ] {
            let _ = html(&source);
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any text renders, its images asked about, and the page stays a page.
            #[test]
            fn markdown_any_text_renders_without_panicking(
                text in "([#*_`>|~\\[\\]()!<a-z: \n-]|https?://|- \\[x\\] ){0,200}"
            ) {
                let page = to_html(&text, MarkdownOptions::default(), &mut |_| Some("cid:x".into()));
                prop_assert!(page.starts_with(PAGE_START) && page.ends_with(PAGE_END));
                prop_assert!(!page.contains("<script"));
            }
        }
    }
}
