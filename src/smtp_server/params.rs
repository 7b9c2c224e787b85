//! The arguments of MAIL and RCPT: the path (RFC 5321 section 4.1.2) and the parameters of the
//! extensions offered: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET, ENVID and
//! NOTIFY (RFC 3461, passed on to the upstream server), ORCPT and AUTH (taken and not kept).
//! Errors are the reply to give.

/// A reverse-path or forward-path without its angle brackets; empty is the null sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(pub String);

impl Path {
    /// What follows the last `@`; empty when there is none.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// What MAIL's parameters said that matters beyond the command.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MailParameters {
    pub size: Option<usize>,
    pub ret: Option<String>,
    pub envelope_id: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RcptParameters {
    pub notify: Option<String>,
}

const SYNTAX_MAIL: &str = "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]";
const SYNTAX_RCPT: &str = "501 5.5.4 Syntax: RCPT TO:<address> [parameters]";
/// RFC 5321 section 4.1.1.11 (and RFC 1869): a parameter we do not know.
const UNKNOWN: &str = "555 5.5.4 Unrecognized parameter";

/// `FROM:<path> parameters`, what follows MAIL.
pub fn mail(rest: &str) -> Result<(Path, MailParameters), &'static str> {
    let (path, parameters) = split(rest, "FROM:").ok_or(SYNTAX_MAIL)?;
    let mut kept = MailParameters::default();
    for (key, value) in parameters {
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(value)) => {
                kept.size = Some(value.parse().map_err(|_| SYNTAX_MAIL)?);
            }
            ("BODY", Some(value))
                if value.eq_ignore_ascii_case("7BIT") || value.eq_ignore_ascii_case("8BITMIME") => {
            }
            ("SMTPUTF8", None) => {}
            ("RET", Some(value))
                if value.eq_ignore_ascii_case("FULL") || value.eq_ignore_ascii_case("HDRS") =>
            {
                kept.ret = Some(value.to_ascii_uppercase());
            }
            ("ENVID", Some(value)) if is_xtext(value) && value.len() <= 100 => {
                kept.envelope_id = Some(value.to_string());
            }
            // RFC 4954 section 5: who submitted the message; a local client's word is not kept.
            ("AUTH", Some(_)) => {}
            _ => return Err(UNKNOWN),
        }
    }
    Ok((path, kept))
}

/// `TO:<path> parameters`, what follows RCPT. The null path is no recipient.
pub fn rcpt(rest: &str) -> Result<(Path, RcptParameters), &'static str> {
    let (path, parameters) = split(rest, "TO:").ok_or(SYNTAX_RCPT)?;
    if path.0.is_empty() {
        return Err(SYNTAX_RCPT);
    }
    let mut kept = RcptParameters::default();
    for (key, value) in parameters {
        match (key.to_ascii_uppercase().as_str(), value) {
            ("NOTIFY", Some(value)) if is_notify(value) => {
                kept.notify = Some(value.to_ascii_uppercase());
            }
            ("ORCPT", Some(value)) if value.contains(';') => {}
            _ => return Err(UNKNOWN),
        }
    }
    Ok((path, kept))
}

/// `KEY=VALUE`, or a `KEY` alone.
type Parameter<'r> = (&'r str, Option<&'r str>);

/// The path after `keyword` and the `KEY[=VALUE]` words after it. A space after the colon is
/// taken, as most servers take it; a source route (`<@a,@b:user@c>`) is dropped as RFC 5321
/// section 4.1.1.3 asks; a path with spaces or brackets inside is no path.
fn split<'r>(rest: &'r str, keyword: &str) -> Option<(Path, Vec<Parameter<'r>>)> {
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let (path, after) = match rest.strip_prefix('<') {
        Some(inside) => inside.split_once('>')?,
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    let path = match path.split_once(':') {
        Some((route, mailbox)) if route.starts_with('@') => mailbox,
        _ => path,
    };
    if path.contains(['<', '>', ' ']) || (!after.is_empty() && !after.starts_with(' ')) {
        return None;
    }
    let parameters = after
        .split_whitespace()
        .map(|word| match word.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (word, None),
        })
        .collect();
    Some((Path(path.to_string()), parameters))
}

/// RFC 3461 section 4: printable ASCII but `+` and `=`, which appear only as `+HH`.
fn is_xtext(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => {
                let hex = bytes.get(at + 1..at + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return false;
                }
                at += 3;
            }
            b'!'..=b'~' if bytes[at] != b'=' => at += 1,
            _ => return false,
        }
    }
    !value.is_empty()
}

/// RFC 3461 section 4.1: NEVER alone, or any of SUCCESS, FAILURE and DELAY.
fn is_notify(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    upper == "NEVER"
        || upper
            .split(',')
            .all(|word| matches!(word, "SUCCESS" | "FAILURE" | "DELAY"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_parameters_are_read_as_rfc_5321_writes_them() {
        let (path, kept) =
            mail("FROM:<a@x.org> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=hdrs ENVID=QQ+2B1").unwrap();
        assert_eq!(path, Path("a@x.org".into()));
        assert_eq!(
            kept,
            MailParameters {
                size: Some(1000),
                ret: Some("HDRS".into()),
                envelope_id: Some("QQ+2B1".into())
            }
        );
        assert_eq!(mail("from: <>").unwrap().0, Path(String::new()));
        assert_eq!(mail("FROM:a@x.org").unwrap().0, Path("a@x.org".into()));
        let (to, kept) =
            rcpt("TO:<@relay.example:b@y.org> NOTIFY=failure,delay ORCPT=rfc822;b@y.org").unwrap();
        assert_eq!((to.0.as_str(), to.domain()), ("b@y.org", "y.org"));
        assert_eq!(kept.notify.as_deref(), Some("FAILURE,DELAY"));
    }

    #[test]
    fn bad_arguments_get_the_reply_that_names_them() {
        for (bad, code) in [
            ("FROM:<a@x.org> XFORWARD=1", "555"),
            ("FROM:<a@x.org> SIZE=lots", "501"),
            ("FROM:<a@x.org> BODY=BINARYMIME", "555"),
            ("FROM:<a@x.org> ENVID=a=b", "555"),
            ("FROM:<a b@x.org>", "501"),
            ("FROM:<a@x.org>junk", "501"),
            ("TO:<b@y.org>", "501"),
            ("", "501"),
        ] {
            assert!(mail(bad).unwrap_err().starts_with(code), "{bad}");
        }
        for (bad, code) in [
            ("TO:<>", "501"),
            ("TO:<b@y.org> NOTIFY=NEVER,SUCCESS", "555"),
            ("TO:<b@y.org> NOTIFY", "555"),
            ("TO:<<b@y.org>>", "501"),
        ] {
            assert!(rcpt(bad).unwrap_err().starts_with(code), "{bad}");
        }
    }
}
