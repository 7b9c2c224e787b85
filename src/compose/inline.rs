//! Parts the HTML shows in place rather than as attachments: an image named with `--inline
//! PATH[=CID]`, or a Markdown image whose destination is a local file. The HTML refers to each
//! by `cid:ID` (RFC 2392), the part carries `Content-ID: <ID>`, and the HTML and its parts go
//! together in multipart/related (RFC 2387; the tree is `parts`'). Nothing is read here.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The longest Content-ID taken: a header line must stay short, and names are short.
const MAX_LEN: usize = 200;

/// A Content-ID (RFC 2392): what `cid:` URLs in the HTML name, without angle brackets. Only
/// atext (RFC 5322 3.2.3), `.` and `@`, so it needs no quoting in the header or in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentId(String);

impl ContentId {
    /// A Content-ID made from a file name: each character a Content-ID cannot hold becomes `_`.
    pub fn from_file_name(name: &str) -> Self {
        let id: String = name
            .chars()
            .map(|c| if allowed(c) { c } else { '_' })
            .take(MAX_LEN)
            .collect();
        ContentId(if id.is_empty() { "part".into() } else { id })
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.@".contains(c)
}

impl FromStr for ContentId {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let value = value
            .strip_prefix('<')
            .and_then(|v| v.strip_suffix('>'))
            .unwrap_or(value);
        if value.is_empty() || value.len() > MAX_LEN {
            return Err(format!(
                "a Content-ID has 1 to {MAX_LEN} characters, not {}",
                value.len()
            ));
        }
        match value.chars().find(|&c| !allowed(c)) {
            Some(bad) => Err(format!(
                "{bad:?} cannot be in a Content-ID (letters, digits, . @ and !#$%&'*+-/=?^_`{{|}}~)"
            )),
            None => Ok(ContentId(value.to_string())),
        }
    }
}

impl fmt::Display for ContentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `--inline PATH[=CID]`: a file and the Content-ID the HTML refers to it by (its file name
/// without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSpec {
    pub path: PathBuf,
    pub cid: Option<ContentId>,
}

impl FromStr for InlineSpec {
    type Err = String;

    /// A path may hold `=` itself: only what follows the last one, when it is a Content-ID, is
    /// taken as one.
    fn from_str(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("expected PATH or PATH=CID".into());
        }
        if let Some((path, cid)) = value.rsplit_once('=')
            && !path.is_empty()
            && !cid.contains('/')
            && let Ok(cid) = cid.parse()
        {
            return Ok(InlineSpec {
                path: path.into(),
                cid: Some(cid),
            });
        }
        Ok(InlineSpec {
            path: value.into(),
            cid: None,
        })
    }
}

/// The Content-IDs of a message's inline parts, kept unique: an image named twice (by
/// `--inline` and in the Markdown, or twice in the Markdown) is one part.
#[derive(Debug, Default)]
pub struct InlineSet {
    pub parts: Vec<(PathBuf, ContentId)>,
}

impl InlineSet {
    /// Adds a file under `cid`, or under a name made from its file name; gives its Content-ID.
    /// A Content-ID given twice for two files is refused.
    pub fn add(&mut self, path: &Path, cid: Option<&ContentId>) -> Result<ContentId, String> {
        if let Some((_, existing)) = self.parts.iter().find(|(p, _)| p == path)
            && cid.is_none_or(|cid| cid == existing)
        {
            return Ok(existing.clone());
        }
        let taken = |id: &ContentId| self.parts.iter().any(|(_, c)| c == id);
        let cid = match cid {
            Some(cid) if taken(cid) => {
                return Err(format!("the Content-ID {cid} is given to two files"));
            }
            Some(cid) => cid.clone(),
            None => {
                let base = ContentId::from_file_name(
                    &path
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
                let mut cid = base.clone();
                let mut n = 1;
                while taken(&cid) {
                    n += 1;
                    cid = ContentId(format!("{n}.{base}"));
                }
                cid
            }
        };
        self.parts.push((path.to_path_buf(), cid.clone()));
        Ok(cid)
    }
}

/// The local file a Markdown image's destination names, relative to `base`; None for a URL
/// (`https:`, `cid:`, `data:`, any scheme) or a fragment. `%XX` escapes are decoded, since a
/// destination with a space in it is written `my%20chart.png`.
pub fn local_image(destination: &str, base: &Path) -> Option<PathBuf> {
    let scheme_end = destination.find(':');
    let has_scheme = scheme_end.is_some_and(|end| {
        end > 1
            && destination[..end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme || destination.is_empty() || destination.starts_with(['#', '?']) {
        return None;
    }
    let path = PathBuf::from(percent_decoded(destination));
    Some(if path.is_absolute() {
        path
    } else {
        base.join(path)
    })
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_spec_takes_a_content_id_after_the_last_equals_sign() {
        let spec: InlineSpec = "chart.png=chart".parse().unwrap();
        assert_eq!(spec.path, PathBuf::from("chart.png"));
        assert_eq!(spec.cid.unwrap().to_string(), "chart");
        let spec: InlineSpec = "a=b/c.png".parse().unwrap();
        assert_eq!((spec.path, spec.cid), (PathBuf::from("a=b/c.png"), None));
        let spec: InlineSpec = "x.png=<logo@example.org>".parse().unwrap();
        assert_eq!(spec.cid.unwrap().to_string(), "logo@example.org");
        let spec: InlineSpec = "odd=name with space".parse().unwrap();
        assert_eq!(spec.path, PathBuf::from("odd=name with space"));
        assert!("".parse::<InlineSpec>().is_err());
    }

    #[test]
    fn inline_content_ids_refuse_what_needs_quoting() {
        assert!("chart".parse::<ContentId>().is_ok());
        for bad in ["", "a b", "a\"b", "a<b", "a\r\nb", "ü"] {
            assert!(bad.parse::<ContentId>().is_err(), "{bad:?}");
        }
        assert!("x".repeat(201).parse::<ContentId>().is_err());
        assert_eq!(
            ContentId::from_file_name("my chart (1).png").to_string(),
            "my_chart__1_.png"
        );
    }

    #[test]
    fn inline_set_keeps_one_part_per_file_and_unique_ids() {
        let mut set = InlineSet::default();
        let a = set.add(Path::new("/r/chart.png"), None).unwrap();
        assert_eq!(a.to_string(), "chart.png");
        assert_eq!(set.add(Path::new("/r/chart.png"), None).unwrap(), a);
        let b = set.add(Path::new("/s/chart.png"), None).unwrap();
        assert_eq!(b.to_string(), "2.chart.png");
        let given: ContentId = "chart.png".parse().unwrap();
        assert!(set.add(Path::new("/t/x.png"), Some(&given)).is_err());
        assert_eq!(set.parts.len(), 2);
    }

    #[test]
    fn inline_local_images_are_paths_and_urls_are_not() {
        let base = Path::new("/reports");
        assert_eq!(
            local_image("chart.png", base),
            Some(PathBuf::from("/reports/chart.png"))
        );
        assert_eq!(
            local_image("img/my%20chart.png", base),
            Some(PathBuf::from("/reports/img/my chart.png"))
        );
        assert_eq!(
            local_image("/abs/c.png", base),
            Some(PathBuf::from("/abs/c.png"))
        );
        for url in [
            "https://example.org/c.png",
            "cid:chart",
            "data:image/png;base64,AAAA",
            "#top",
            "",
        ] {
            assert_eq!(local_image(url, base), None, "{url}");
        }
    }
}
