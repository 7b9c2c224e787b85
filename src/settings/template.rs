//! `--template FILE`: the file read (like the account file, before anything connects) and
//! filled, its header fields checked as `-H`'s are, into the subject, header fields and body
//! of the message.

use std::path::Path;

use super::Environment;
use super::message::{parse_header, reject_line_breaks};
use crate::compose::ExtraHeader;
use crate::content::template::{self, TemplateError, Values, Variable};
use crate::error::Error;

/// What a template gives the message.
#[derive(Debug)]
pub struct Filled {
    pub subject: Option<String>,
    pub headers: Vec<ExtraHeader>,
    pub body: String,
}

pub fn fill(path: &Path, vars: &[Variable], env: &Environment) -> Result<Filled, Error> {
    let named = |reason: String| format!("--template {}: {reason}", path.display());
    let bytes = read_bounded(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::bad_message(named("the template is not UTF-8".into())))?;
    let values = Values { vars, env: env.var };
    let filled = |text: &str, line: usize| {
        template::fill(text, &values, line).map_err(|err| match &err {
            TemplateError::Unknown { name, .. } => {
                Error::usage(named(err.to_string())).with_hint(format!("give --var {name}=VALUE"))
            }
            TemplateError::UnsetVariable { .. } => Error::usage(named(err.to_string())),
            TemplateError::Malformed { .. } | TemplateError::TooLarge => {
                Error::bad_message(named(err.to_string()))
            }
        })
    };
    let (fields, body, body_line) = template::split(&text);
    let mut subject = None;
    let mut headers = Vec::new();
    for (line, field) in fields {
        let field = filled(field, line)?;
        // A value from the environment must not end the field and start another.
        reject_line_breaks(&field, &named(format!("line {line}")))?;
        match field.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("Subject") => {
                subject = Some(value.trim().to_string());
            }
            _ => headers.push(parse_header(&field).map_err(|err| Error {
                message: named(format!("line {line}: {}", err.message)),
                ..err
            })?),
        }
    }
    Ok(Filled {
        subject,
        headers,
        body: filled(body, body_line)?,
    })
}

/// The file, refused beyond `template::MAX_SIZE` without reading more.
fn read_bounded(path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let unreadable = |err: std::io::Error| Error::unreadable("the template", path, &err);
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(template::MAX_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > template::MAX_SIZE {
        return Err(Error::bad_message(format!(
            "--template {}: larger than {} MiB",
            path.display(),
            template::MAX_SIZE >> 20
        )));
    }
    Ok(bytes)
}
