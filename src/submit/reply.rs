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

    /// What the LIMITS keyword says (RFC 9422); nothing when it is not offered.
    pub(super) fn limits(&self) -> Limits {
        self.params("LIMITS").map(Limits::parse).unwrap_or_default()
    }
}

/// The limits a server announces with the LIMITS keyword (RFC 9422 section 4): how many
/// transactions one session may hold, how many recipients, and of how many domains, one
/// transaction may have. `None` is no limit said.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// MAILMAX (section 4.1): transactions per session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_max: Option<usize>,
    /// RCPTMAX (section 4.2): recipients per transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcpt_max: Option<usize>,
    /// RCPTDOMAINMAX (section 4.3): distinct recipient domains per transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcpt_domain_max: Option<usize>,
}

impl Limits {
    /// The parameter of LIMITS, `RCPTMAX=100 MAILMAX=1000`, names case-insensitive (RFC 9422
    /// section 3). A limit that is unknown, has no value, or whose value is not a positive
    /// number is left out: a client cannot keep to a limit it cannot read, and obeying a
    /// garbled one (a 0) would stop it sending at all. Of a limit said twice, the first counts.
    pub fn parse(params: &str) -> Self {
        let mut limits = Limits::default();
        for field in params.split_ascii_whitespace() {
            let Some((name, value)) = field.split_once('=') else {
                continue;
            };
            let Some(value) = value.parse::<usize>().ok().filter(|n| *n > 0) else {
                continue;
            };
            let slot = match name.to_ascii_uppercase().as_str() {
                "MAILMAX" => &mut limits.mail_max,
                "RCPTMAX" => &mut limits.rcpt_max,
                "RCPTDOMAINMAX" => &mut limits.rcpt_domain_max,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        limits
    }

    /// The limits, from the extensions as `Delivery::extensions` lists them.
    pub fn of_keywords(keywords: &[String]) -> Self {
        keywords
            .iter()
            .find_map(|keyword| {
                let (name, params) = keyword.split_once(' ')?;
                name.eq_ignore_ascii_case("LIMITS").then_some(params)
            })
            .map(Limits::parse)
            .unwrap_or_default()
    }

    /// The limits in words, for `check`; None when there are none.
    pub fn describe(&self) -> Option<String> {
        let said: Vec<String> = [
            self.rcpt_max
                .map(|n| format!("{n} recipients per transaction")),
            self.rcpt_domain_max
                .map(|n| format!("{n} recipient domains per transaction")),
            self.mail_max
                .map(|n| format!("{n} transactions per session")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!said.is_empty()).then(|| format!("at most {}", said.join(", ")))
    }

    /// How many transactions `recipients` take under these limits, if the server puts none off.
    pub(super) fn transactions_for(&self, recipients: &[String]) -> usize {
        let mut rest = recipients;
        let mut transactions = 0;
        while !rest.is_empty() {
            rest = &rest[self.recipients_per_transaction(rest)..];
            transactions += 1;
        }
        transactions.max(1)
    }

    /// How many of `recipients`, from the first, one transaction may take: at most RCPTMAX, and
    /// no more than RCPTDOMAINMAX domains among them. Both limits are positive, so it is at
    /// least one whenever there is a recipient.
    pub(super) fn recipients_per_transaction(&self, recipients: &[String]) -> usize {
        let most = self.rcpt_max.unwrap_or(usize::MAX).min(recipients.len());
        let Some(domain_max) = self.rcpt_domain_max else {
            return most;
        };
        let mut domains: Vec<String> = Vec::new();
        let mut taken = 0;
        for address in &recipients[..most] {
            let domain = address
                .rsplit_once('@')
                .map_or("", |(_, domain)| domain)
                .to_ascii_lowercase();
            if !domains.contains(&domain) {
                if domains.len() == domain_max {
                    break;
                }
                domains.push(domain);
            }
            taken += 1;
        }
        taken
    }
}

/// Longest reply line accepted; RFC 5321 section 4.5.3.1.5 allows 512 octets, servers are
/// known to send more.
const MAX_LINE: usize = 4096;

/// Most lines in one reply.
const MAX_LINES: usize = 200;

/// Most bytes in one reply, its lines together: far more than any EHLO list, and what a
/// hostile server can make us hold.
const MAX_REPLY: usize = 64 * 1024;

/// Why what the server sent is not a reply.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Malformed {
    /// Not `code[ -]text`, with the offending line when one is to blame.
    Unintelligible(Option<String>),
    /// A line over `MAX_LINE`, or a reply over `MAX_LINES` or `MAX_REPLY`.
    TooLong,
}

/// Takes the next line out of what the server sent, its CRLF (or a bare LF) removed; None
/// while no line is complete. A line, its CRLF included, can never grow past `MAX_LINE`.
pub(super) fn take_line(buffer: &mut Vec<u8>) -> Result<Option<String>, Malformed> {
    match buffer.iter().position(|&b| b == b'\n') {
        Some(end) if end < MAX_LINE => {
            let mut line: Vec<u8> = buffer.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Ok(Some(String::from_utf8_lossy(&line).into_owned()))
        }
        Some(_) => Err(Malformed::TooLong),
        None if buffer.len() >= MAX_LINE => Err(Malformed::TooLong),
        None => Ok(None),
    }
}

/// The lines of one reply as they come in (RFC 5321 section 4.2.1: `code-text` lines, then
/// `code SP text`, all with the same code), bounded in number and in bytes.
#[derive(Debug, Default)]
pub(super) struct ReplyLines {
    lines: Vec<String>,
    bytes: usize,
}

impl ReplyLines {
    /// Adds a line; gives the reply once its last line is in.
    pub(super) fn push(&mut self, line: String) -> Result<Option<Reply>, Malformed> {
        let bytes = line.as_bytes();
        let last = match bytes.get(3) {
            _ if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) => None,
            None | Some(b' ') => Some(true),
            Some(b'-') => Some(false),
            Some(_) => None,
        };
        let same_code = |_: &bool| {
            self.lines
                .first()
                .is_none_or(|first| first.as_bytes()[..3] == bytes[..3])
        };
        let Some(last) = last.filter(same_code) else {
            return Err(Malformed::Unintelligible(Some(line)));
        };
        self.bytes += line.len();
        if self.bytes > MAX_REPLY || (!last && self.lines.len() + 1 >= MAX_LINES) {
            return Err(Malformed::TooLong);
        }
        self.lines.push(line);
        if !last {
            return Ok(None);
        }
        parse_reply(&self.lines)
            .map(Some)
            .ok_or(Malformed::Unintelligible(None))
    }
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
    use proptest::prelude::*;

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
    /// Feeds `bytes` to the reader in chunks of `chunk`, as a socket would, until it fails or
    /// runs dry; checks that nothing it holds ever passes the caps.
    fn read_all(bytes: &[u8], chunk: usize) -> Result<Vec<Reply>, Malformed> {
        let mut buffer = Vec::new();
        let mut lines = ReplyLines::default();
        let mut replies = Vec::new();
        for piece in bytes.chunks(chunk) {
            buffer.extend_from_slice(piece);
            while let Some(line) = take_line(&mut buffer)? {
                assert!(line.len() < MAX_LINE);
                if let Some(reply) = lines.push(line)? {
                    replies.push(reply);
                    lines = ReplyLines::default();
                }
                assert!(lines.lines.len() < MAX_LINES && lines.bytes <= MAX_REPLY);
            }
            assert!(buffer.len() < MAX_LINE + chunk);
        }
        Ok(replies)
    }

    #[test]
    fn replies_are_bounded_in_lines_and_bytes() {
        let endless = "250-x\r\n".repeat(MAX_LINES);
        assert_eq!(read_all(endless.as_bytes(), 4096), Err(Malformed::TooLong));
        let wide = format!("250-{}\r\n", "x".repeat(MAX_LINE - 10)).repeat(20);
        assert_eq!(read_all(wide.as_bytes(), 4096), Err(Malformed::TooLong));
        let unending_line = "2".repeat(MAX_LINE);
        assert_eq!(
            read_all(unending_line.as_bytes(), 4096),
            Err(Malformed::TooLong)
        );
        let fine = format!("{}250 last\r\n", "250-x\r\n".repeat(MAX_LINES - 2));
        assert_eq!(read_all(fine.as_bytes(), 7).unwrap().len(), 1);
        assert_eq!(
            read_all(b"250-a\r\n251 b\r\n", 4096),
            Err(Malformed::Unintelligible(Some("251 b".into())))
        );
    }

    /// Lines that look like replies often enough to reach every branch, joined by CRLF, LF
    /// or nothing.
    fn server_output() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            ("[0-9]{3}", "[ -]?", ".{0,40}")
                .prop_map(|(code, sep, text)| { format!("{code}{sep}{text}").into_bytes() }),
            Just(b"250-PIPELINING".to_vec()),
            Just(b"354 go".to_vec()),
        ];
        let ending = prop_oneof![Just(&b"\r\n"[..]), Just(&b"\n"[..]), Just(&b""[..])];
        proptest::collection::vec((line, ending), 0..300).prop_map(|lines| {
            lines
                .into_iter()
                .flat_map(|(line, ending)| [line, ending.to_vec()])
                .flatten()
                .collect()
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn any_server_output_is_read_without_a_panic_within_the_caps(
            bytes in server_output(),
            chunk in 1usize..5000,
        ) {
            let _ = read_all(&bytes, chunk);
        }
    }

    #[test]
    fn limits_are_read_and_malformed_ones_ignored() {
        let reply = reply_from(&[
            "250-mail.example.com",
            "250-LIMITS RCPTMAX=2 mailmax=3 RCPTDOMAINMAX=x FUTURE=1",
            "250 PIPELINING",
        ])
        .unwrap();
        let limits = Extensions::parse(&reply).limits();
        assert_eq!(
            limits,
            Limits {
                mail_max: Some(3),
                rcpt_max: Some(2),
                rcpt_domain_max: None,
            }
        );
        assert_eq!(
            limits.describe().as_deref(),
            Some("at most 2 recipients per transaction, 3 transactions per session")
        );
        for garbled in [
            "RCPTMAX=0",
            "RCPTMAX=-1",
            "RCPTMAX",
            "RCPTMAX=2x",
            "RCPTMAX= MAILMAX",
        ] {
            assert_eq!(Limits::parse(garbled), Limits::default(), "{garbled}");
        }
        assert_eq!(Limits::parse("RCPTMAX=5 RCPTMAX=1").rcpt_max, Some(5));
        assert_eq!(
            Limits::of_keywords(&["SIZE 10".into(), "LIMITS MAILMAX=7".into()]).mail_max,
            Some(7)
        );
        assert_eq!(Limits::default().describe(), None);
        assert_eq!(Extensions::default().limits(), Limits::default());
    }

    #[test]
    fn a_transaction_takes_as_many_recipients_as_the_limits_allow() {
        let recipients: Vec<String> = ["a@x", "b@x", "c@Y", "d@y", "e@z"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        let take = |limits: &str| Limits::parse(limits).recipients_per_transaction(&recipients);
        assert_eq!(take(""), 5);
        assert_eq!(take("RCPTMAX=2"), 2);
        assert_eq!(take("RCPTMAX=9"), 5);
        assert_eq!(take("RCPTDOMAINMAX=2"), 4);
        assert_eq!(take("RCPTDOMAINMAX=1 RCPTMAX=1"), 1);
        assert_eq!(take("RCPTDOMAINMAX=2 RCPTMAX=3"), 3);
        assert_eq!(Limits::default().recipients_per_transaction(&[]), 0);
        let transactions = |limits: &str| Limits::parse(limits).transactions_for(&recipients);
        assert_eq!(transactions(""), 1);
        assert_eq!(transactions("RCPTMAX=2"), 3);
        assert_eq!(transactions("RCPTDOMAINMAX=1"), 3);
        assert_eq!(Limits::default().transactions_for(&[]), 1);
    }

    #[test]
    fn enhanced_codes_must_match_the_reply_class() {
        assert!(is_enhanced_status("2.1.0", 250));
        assert!(!is_enhanced_status("5.1.0", 250));
        assert!(!is_enhanced_status("2.1", 250));
    }
}
