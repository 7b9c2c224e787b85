//! Server replies (RFC 5321 section 4.2) and the EHLO extensions they list: parsed, checked
//! against lettre's reply grammar, with the enhanced status code (RFC 3463) and the queue id
//! an acceptance names kept apart.

use std::str::FromStr;

use serde::Serialize;

/// A server reply: `250 2.0.0 Ok: queued as 4XyZ`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code (RFC 3463), when the server gives one.
    pub enhanced: Option<String>,
    /// The text, enhanced code removed, lines joined by newlines.
    pub text: String,
    /// The server's identifier for an accepted message, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
}

impl Reply {
    /// A positive completion, 2yz: the only success where a command expects a final reply
    /// (RFC 5321 sections 4.2.1 and 4.3.2). A 3yz only asks for more and confirms nothing.
    pub(super) fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// A transient negative completion, 4yz: the same command may succeed later.
    pub(super) fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// A permanent negative completion, 5yz.
    pub(super) fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// The reply on one line, as users know it from server logs.
    pub fn one_line(&self) -> String {
        let text = self.text.replace('\n', " / ");
        match &self.enhanced {
            Some(enhanced) => format!("{} {enhanced} {text}", self.code),
            None => format!("{} {text}", self.code),
        }
    }
}

/// The extensions an EHLO reply lists (RFC 5321 section 4.1.1.1), keyword and parameters.
#[derive(Debug, Default)]
pub(super) struct Extensions(Vec<(String, String)>);

impl Extensions {
    pub(super) fn parse(reply: &Reply) -> Self {
        Extensions(
            reply
                .text
                .lines()
                .skip(1)
                .map(|line| {
                    let (keyword, params) = line.split_once([' ', '=']).unwrap_or((line, ""));
                    (keyword.to_ascii_uppercase(), params.trim().to_string())
                })
                .collect(),
        )
    }

    /// Each extension as the server wrote it: `SIZE 10240000`, `AUTH PLAIN LOGIN`.
    pub(super) fn keywords(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(keyword, params)| {
                if params.is_empty() {
                    keyword.clone()
                } else {
                    format!("{keyword} {params}")
                }
            })
            .collect()
    }

    pub(super) fn has(&self, keyword: &str) -> bool {
        self.0.iter().any(|(k, _)| k == keyword)
    }

    pub(super) fn params(&self, keyword: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == keyword)
            .map(|(_, p)| p.as_str())
    }

    pub(super) fn auth_mechanisms(&self) -> Vec<String> {
        self.params("AUTH")
            .map(|p| p.split_whitespace().map(str::to_ascii_uppercase).collect())
            .unwrap_or_default()
    }

    /// SIZE with a positive number is a limit; `SIZE` or `SIZE 0` only says the keyword is known.
    pub(super) fn size_limit(&self) -> Option<u64> {
        self.params("SIZE")?.parse().ok().filter(|n| *n > 0)
    }
}

pub(super) fn first_code(line: &str) -> String {
    line.chars().take(3).collect()
}

/// Builds a `Reply` from raw lines, checked by lettre's reply grammar.
pub(super) fn parse_reply(lines: &[String]) -> Option<Reply> {
    let mut raw = String::new();
    for line in lines {
        raw.push_str(line);
        raw.push_str("\r\n");
    }
    let parsed = lettre::transport::smtp::response::Response::from_str(&raw).ok();
    let code: u16 = lines.first()?.get(..3)?.parse().ok()?;
    // lettre knows the standard reply codes only; an unusual but well-formed code is still a reply.
    if parsed.is_none() && !(200..600).contains(&code) {
        return None;
    }
    let texts: Vec<&str> = lines.iter().map(|l| l.get(4..).unwrap_or("")).collect();
    let enhanced = texts
        .first()
        .and_then(|t| t.split_whitespace().next())
        .filter(|word| is_enhanced_status(word, code))
        .map(str::to_string);
    let text = texts
        .iter()
        .map(|t| match &enhanced {
            Some(e) => t.strip_prefix(e.as_str()).unwrap_or(t).trim_start(),
            None => t,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let queue_id = queue_id(&text);
    Some(Reply {
        code,
        enhanced,
        text,
        queue_id,
    })
}

/// `class.subject.detail` whose class matches the reply code's first digit (RFC 3463).
pub(super) fn is_enhanced_status(word: &str, code: u16) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0] == (code / 100).to_string()
}

/// The queue id in an acceptance: Postfix's `queued as ID`, Exim's `id=ID`.
pub(super) fn queue_id(text: &str) -> Option<String> {
    let after = text
        .split_once("queued as ")
        .or_else(|| text.split_once("id="))
        .map(|(_, rest)| rest)?;
    let id: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        .collect();
    let id = id.trim_end_matches('.');
    (!id.is_empty()).then(|| id.to_string())
}

/// A reply from its lines as a server would send them, for tests here and in `auth` and `mod`.
#[cfg(test)]
pub(super) fn reply_from(lines: &[&str]) -> Option<Reply> {
    parse_reply(
        &lines
            .iter()
            .map(|line| line.to_string())
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_keep_enhanced_codes_and_queue_ids() {
        let reply = reply_from(&["250 2.0.0 Ok: queued as 4XyZ12"]).unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(reply.enhanced.as_deref(), Some("2.0.0"));
        assert_eq!(reply.text, "Ok: queued as 4XyZ12");
        assert_eq!(reply.queue_id.as_deref(), Some("4XyZ12"));
        assert_eq!(reply.one_line(), "250 2.0.0 Ok: queued as 4XyZ12");

        let exim = reply_from(&["250 OK id=1tAbCd-0001xy-Ab"]).unwrap();
        assert_eq!(exim.enhanced, None);
        assert_eq!(exim.queue_id.as_deref(), Some("1tAbCd-0001xy-Ab"));

        let refused = reply_from(&["550 5.1.1 <x@y>: Recipient address rejected"]).unwrap();
        assert!(!refused.is_positive() && !refused.is_transient() && refused.is_permanent());
        let intermediate = reply_from(&["354 End data with <CR><LF>.<CR><LF>"]).unwrap();
        assert!(!intermediate.is_positive() && !intermediate.is_permanent());
        assert_eq!(refused.queue_id, None);
    }
    #[test]
    fn multi_line_replies_list_extensions() {
        let reply = reply_from(&[
            "250-mail.example.com",
            "250-PIPELINING",
            "250-SIZE 10240000",
            "250-AUTH PLAIN LOGIN",
            "250-AUTH=PLAIN LOGIN",
            "250 STARTTLS",
        ])
        .unwrap();
        let ext = Extensions::parse(&reply);
        assert!(ext.has("STARTTLS") && ext.has("PIPELINING"));
        assert_eq!(ext.size_limit(), Some(10_240_000));
        assert_eq!(ext.auth_mechanisms(), ["PLAIN", "LOGIN"]);
    }
    #[test]
    fn enhanced_codes_must_match_the_reply_class() {
        assert!(is_enhanced_status("2.1.0", 250));
        assert!(!is_enhanced_status("5.1.0", 250));
        assert!(!is_enhanced_status("2.1", 250));
    }
}
