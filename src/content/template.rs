//! Message templates: `{{ name }}` filled from `--var NAME=VALUE`, `{{ env.NAME }}` from the
//! environment. Enough for a CI report (a build number in the subject, a link in the body);
//! no loops, no conditions, no filters. A name with no value is an error, never an empty
//! string: a report that says "Build  failed" helps nobody. `\{{` is a literal `{{`.
//!
//! A template file is header fields (`Subject:` and any others, as `-H` takes them), a blank
//! line, then the body; a file whose first line is no header field is all body. Pure: the
//! caller reads the file and says where the environment is.

use std::fmt;
use std::str::FromStr;

/// The largest template read, and the largest text one expands to: values repeated many
/// times must not grow memory without bound.
pub const MAX_SIZE: usize = 4 * 1024 * 1024;

/// `--var NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub value: String,
}

impl FromStr for Variable {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let (name, value) = value
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=VALUE, got {value:?}"))?;
        if !valid_name(name) || name.starts_with("env.") {
            return Err(format!(
                "{name:?} is no variable name (letters, digits, _ and -, not env.)"
            ));
        }
        Ok(Variable {
            name: name.to_string(),
            value: value.to_string(),
        })
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// Why a template could not be filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{ name }}` with no `--var name=...`.
    Unknown {
        name: String,
        line: usize,
    },
    /// `{{ env.NAME }}` with NAME unset.
    UnsetVariable {
        name: String,
        line: usize,
    },
    /// `{{` without `}}`, or no name between them.
    Malformed {
        line: usize,
    },
    TooLarge,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unknown { name, line } => {
                write!(f, "line {line}: unknown variable {{{{ {name} }}}}")
            }
            TemplateError::UnsetVariable { name, line } => write!(
                f,
                "line {line}: {{{{ env.{name} }}}}: the environment variable {name} is not set"
            ),
            TemplateError::Malformed { line } => write!(
                f,
                "line {line}: expected {{{{ NAME }}}} or {{{{ env.NAME }}}} (\\{{{{ for a literal {{{{)"
            ),
            TemplateError::TooLarge => {
                write!(f, "it expands to more than {} MiB", MAX_SIZE >> 20)
            }
        }
    }
}

/// Where the values come from.
pub struct Values<'a> {
    pub vars: &'a [Variable],
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// `text` with every placeholder replaced. `first_line` is the line `text` starts on in its
/// file, for the errors.
pub fn fill(text: &str, values: &Values, first_line: usize) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let line_of = |rest: &str| first_line + text[..text.len() - rest.len()].matches('\n').count();
    while let Some(at) = rest.find("{{") {
        if rest[..at].ends_with('\\') {
            out.push_str(&rest[..at - 1]);
            out.push_str("{{");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let line = line_of(&rest[at..]);
        let inner_end = rest[at + 2..]
            .find("}}")
            .ok_or(TemplateError::Malformed { line })?;
        let name = rest[at + 2..at + 2 + inner_end].trim();
        if !valid_name(name) {
            return Err(TemplateError::Malformed { line });
        }
        let value = match name.strip_prefix("env.") {
            Some(variable) => (values.env)(variable).ok_or(TemplateError::UnsetVariable {
                name: variable.to_string(),
                line,
            })?,
            None => values
                .vars
                .iter()
                .rev()
                .find(|v| v.name == name)
                .map(|v| v.value.clone())
                .ok_or(TemplateError::Unknown {
                    name: name.to_string(),
                    line,
                })?,
        };
        if out.len() + value.len() > MAX_SIZE {
            return Err(TemplateError::TooLarge);
        }
        out.push_str(&value);
        rest = &rest[at + 2 + inner_end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A template file split into its header fields (`Name: value`, each with its line number)
/// and its body, with the body's first line number.
pub fn split(text: &str) -> (Vec<(usize, &str)>, &str, usize) {
    let is_field = |line: &str| {
        line.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    let mut fields = Vec::new();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.is_empty() && !fields.is_empty() {
            return (fields, &text[offset + line.len()..], index + 2);
        }
        if !is_field(bare) {
            break;
        }
        fields.push((index + 1, bare));
        offset += line.len();
    }
    if fields.is_empty() {
        return (fields, text, 1);
    }
    // Header fields to the end, with no blank line: a template with no body.
    let next_line = fields.len() + 1;
    (fields, &text[offset..], next_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(vars: &'a [Variable], env: &'a dyn Fn(&str) -> Option<String>) -> Values<'a> {
        Values { vars, env }
    }

    #[test]
    fn template_fills_variables_and_the_environment() {
        let vars = ["build=42".parse().unwrap(), "status=green".parse().unwrap()];
        let env = |name: &str| (name == "BUILD_URL").then(|| "https://ci/42".to_string());
        let filled = fill(
            "Build {{build}} is {{ status }}: {{ env.BUILD_URL }} \\{{ literal }}",
            &values(&vars, &env),
            1,
        )
        .unwrap();
        assert_eq!(filled, "Build 42 is green: https://ci/42 {{ literal }}");
    }

    #[test]
    fn template_unknown_names_are_errors_with_their_line() {
        let env = |_: &str| None;
        let err = fill("a\nb {{ nope }}", &values(&[], &env), 3).unwrap_err();
        assert_eq!(
            err,
            TemplateError::Unknown {
                name: "nope".into(),
                line: 4
            }
        );
        assert_eq!(err.to_string(), "line 4: unknown variable {{ nope }}");
        let err = fill("{{ env.BUILD_ID }}", &values(&[], &env), 1).unwrap_err();
        assert!(err.to_string().contains("BUILD_ID is not set"), "{err}");
        for malformed in ["{{ a", "{{ }}", "{{ a b }}", "{{ $x }}"] {
            assert!(
                matches!(
                    fill(malformed, &values(&[], &env), 1),
                    Err(TemplateError::Malformed { .. })
                ),
                "{malformed}"
            );
        }
    }

    #[test]
    fn template_expansion_is_bounded() {
        let vars = [Variable {
            name: "big".into(),
            value: "x".repeat(1 << 20),
        }];
        let env = |_: &str| None;
        let text = "{{ big }}".repeat(10);
        assert_eq!(
            fill(&text, &values(&vars, &env), 1),
            Err(TemplateError::TooLarge)
        );
    }

    #[test]
    fn template_variables_parse() {
        let var: Variable = "name=a=b".parse().unwrap();
        assert_eq!((var.name.as_str(), var.value.as_str()), ("name", "a=b"));
        for bad in ["novalue", "=x", "1x=y", "env.X=y", "a b=c"] {
            assert!(bad.parse::<Variable>().is_err(), "{bad}");
        }
    }

    #[test]
    fn template_files_split_into_header_fields_and_body() {
        let (fields, body, line) = split("Subject: Build {{ n }}\nX-Build: 1\n\n# Body\n");
        assert_eq!(fields, [(1, "Subject: Build {{ n }}"), (2, "X-Build: 1")]);
        assert_eq!((body, line), ("# Body\n", 4));
        let (fields, body, line) = split("# Just a body\n\nNote: text\n");
        assert!(fields.is_empty());
        assert_eq!((body, line), ("# Just a body\n\nNote: text\n", 1));
        let (fields, body, _) = split("Subject: only\n");
        assert_eq!((fields.len(), body), (1, ""));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any template splits and fills or gives an error; it never panics, and what it
            /// fills in is only what was given.
            #[test]
            fn template_any_text_fills_or_fails_cleanly(
                text in "([{}\\a-z :.\n]|\\{\\{|\\}\\}|env\\.){0,120}"
            ) {
                let vars = ["a=1".parse().unwrap()];
                let env = |name: &str| (name == "b").then(|| "2".to_string());
                let (_, body, line) = split(&text);
                if let Ok(filled) = fill(body, &values(&vars, &env), line) {
                    prop_assert!(filled.len() <= body.len() + 2 * body.matches("{{").count() + 2);
                }
            }
        }
    }
}
