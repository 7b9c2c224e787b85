//! What `-a` names: a file, standard input (`-`), or a glob pattern that must match, each
//! with an optional file name and content type the message gives it (`PATH;name=N;type=T`).
//! Parsed here once; the files are found and opened by `read`.

use std::path::{Path, PathBuf};

/// The most read from standard input for `-a -`: it is held in memory until sent.
pub const MAX_STDIN: u64 = 64 * 1024 * 1024;

/// `-a PATH[;name=NAME][;type=TYPE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentSpec {
    pub source: AttachmentSource,
    /// The file name the message gives it (Content-Disposition's filename, RFC 2183 2.3).
    pub name: Option<String>,
    /// The content type instead of the one told by the name and content.
    pub content_type: Option<MediaType>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentSource {
    /// A path, or a glob pattern when no file has that name and it holds `*`, `?` or `[`.
    Path(PathBuf),
    Stdin,
}

/// A media type `type/subtype` (RFC 2045 5.1), both tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType(String);

impl MediaType {
    fn parse(value: &str) -> Result<Self, String> {
        let token = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
        };
        match value.split_once('/') {
            Some((kind, subtype)) if token(kind) && token(subtype) => {
                Ok(MediaType(value.to_ascii_lowercase()))
            }
            _ => Err(format!(
                "type={value:?} is not a media type such as text/csv"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AttachmentSpec {
    /// Parses `-a`'s value. Parameters are taken from the end while they are `;name=` or
    /// `;type=`, so a path with a `;` in it still attaches as it did; a path that is not UTF-8
    /// has none.
    pub fn parse(value: &Path) -> Result<Self, String> {
        let Some(mut rest) = value.to_str() else {
            return Ok(AttachmentSpec {
                source: AttachmentSource::Path(value.to_path_buf()),
                name: None,
                content_type: None,
            });
        };
        let (mut name, mut content_type) = (None, None);
        while let Some((head, parameter)) = rest.rsplit_once(';') {
            let parameter = parameter.trim();
            if let Some(value) = parameter.strip_prefix("name=") {
                if value.is_empty() || value.contains(['/', '\0', '\r', '\n']) {
                    return Err(format!(
                        "name={value:?}: a file name, without / or line breaks"
                    ));
                }
                name.get_or_insert_with(|| value.to_string());
            } else if let Some(value) = parameter.strip_prefix("type=") {
                if content_type.is_none() {
                    content_type = Some(MediaType::parse(value)?);
                }
            } else {
                break;
            }
            rest = head;
        }
        if rest.is_empty() {
            return Err("no file before the parameters".into());
        }
        let source = if rest == "-" {
            if name.is_none() {
                return Err("standard input has no file name: give one, -a '-;name=NAME'".into());
            }
            AttachmentSource::Stdin
        } else {
            AttachmentSource::Path(PathBuf::from(rest))
        };
        Ok(AttachmentSpec {
            source,
            name,
            content_type,
        })
    }
}

/// The files `path` names: itself when it exists or is no pattern, else every match of it as
/// a glob pattern, sorted; none is an error, so a CI job whose report is missing fails rather
/// than mailing without it.
pub fn expand(path: &Path) -> Result<Vec<PathBuf>, String> {
    let Some(pattern) = path.to_str() else {
        return Ok(vec![path.to_path_buf()]);
    };
    if path.exists() || !pattern.contains(['*', '?', '[']) {
        return Ok(vec![path.to_path_buf()]);
    }
    let matches = glob::glob(pattern).map_err(|err| format!("not a valid pattern: {err}"))?;
    let mut files = Vec::new();
    for entry in matches {
        match entry {
            Ok(file) if file.is_file() => files.push(file),
            Ok(_) => {}
            Err(err) => return Err(format!("cannot read {}", err.path().display())),
        }
    }
    if files.is_empty() {
        return Err("matches no file".into());
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<AttachmentSpec, String> {
        AttachmentSpec::parse(Path::new(value))
    }

    #[test]
    fn attach_parameters_come_from_the_end() {
        let spec = parse("out/log.txt;name=build log.txt;type=text/plain").unwrap();
        assert_eq!(spec.source, AttachmentSource::Path("out/log.txt".into()));
        assert_eq!(spec.name.as_deref(), Some("build log.txt"));
        assert_eq!(spec.content_type.unwrap().as_str(), "text/plain");
        let spec = parse("odd;name.txt").unwrap();
        assert_eq!(spec.source, AttachmentSource::Path("odd;name.txt".into()));
        assert_eq!(spec.name, None);
        let spec = parse("a;b.csv;type=Text/CSV").unwrap();
        assert_eq!(spec.source, AttachmentSource::Path("a;b.csv".into()));
        assert_eq!(spec.content_type.unwrap().as_str(), "text/csv");
    }

    #[test]
    fn attach_standard_input_needs_a_name() {
        let spec = parse("-;name=report.csv").unwrap();
        assert_eq!(spec.source, AttachmentSource::Stdin);
        assert!(parse("-").unwrap_err().contains("name="));
        assert!(parse("-;type=text/csv").is_err());
    }

    #[test]
    fn attach_bad_parameters_are_refused() {
        assert!(parse("a;type=csv").is_err());
        assert!(parse("a;name=../x").is_err());
        assert!(parse("a;name=").is_err());
        assert!(parse(";name=x").is_err());
    }

    #[test]
    fn attach_patterns_must_match() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.log", "a.log", "c.txt"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let found = expand(&dir.path().join("*.log")).unwrap();
        assert_eq!(found, [dir.path().join("a.log"), dir.path().join("b.log")]);
        assert_eq!(
            expand(&dir.path().join("*.pdf")).unwrap_err(),
            "matches no file"
        );
        // A file whose name looks like a pattern is that file.
        std::fs::write(dir.path().join("[x].txt"), "x").unwrap();
        assert_eq!(
            expand(&dir.path().join("[x].txt")).unwrap(),
            [dir.path().join("[x].txt")]
        );
        // No pattern: the path as it is, for the reader to say it is missing.
        assert_eq!(
            expand(&dir.path().join("missing")).unwrap(),
            [dir.path().join("missing")]
        );
    }
}
