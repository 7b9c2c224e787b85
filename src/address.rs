//! Mail addresses as users type them: `addr@example.com`, `Name <addr@example.com>`,
//! `"Doe, Jane" <jane@example.com>`, and comma-separated lists of those.
//!
//! Parsing validates the address itself with lettre's rules (RFC 5321 local part and domain) and
//! turns an internationalised domain into its ASCII form, so only a non-ASCII local part needs
//! SMTPUTF8 (RFC 6531). It never accepts a control character, so no address can smuggle a header.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A mailbox: an address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    /// The address as it goes into the envelope: `local@domain`, domain in ASCII (A-labels).
    pub address: String,
}

impl Mailbox {
    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} <{}>", self.address),
            None => f.write_str(&self.address),
        }
    }
}

/// Parses one mailbox; `what` names the flag in error messages (e.g. "--from").
pub fn parse_mailbox(input: &str, what: &str) -> Result<Mailbox, Error> {
    let mut list = parse_list(input, what)?;
    match list.len() {
        1 => Ok(list.remove(0)),
        0 => Err(Error::bad_message(format!("{what}: no address given"))),
        _ => Err(Error::bad_message(format!(
            "{what}: expected one address, got {}: {input:?}",
            list.len()
        ))),
    }
}

/// Parses a comma-separated list of mailboxes. Commas inside quotes or angle brackets do not split.
pub fn parse_list(input: &str, what: &str) -> Result<Vec<Mailbox>, Error> {
    if let Some(bad) = input.chars().find(|c| c.is_control()) {
        return Err(Error::bad_message(format!(
            "{what}: control character {bad:?} in address {input:?}"
        )));
    }
    split_list(input)
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_one(item, what))
        .collect()
}

/// The items of a comma-separated list; commas inside quotes or angle brackets do not split.
pub fn split_list(input: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut start, mut in_quotes, mut in_angle, mut escaped) = (0, false, false, false);
    for (at, c) in input.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            ',' if !in_quotes && !in_angle => {
                items.push(&input[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&input[start..]);
    items
}

fn parse_one(item: &str, what: &str) -> Result<Mailbox, Error> {
    let (name, address) = match item.rfind('<') {
        Some(open) => {
            let rest = &item[open + 1..];
            let close = rest
                .find('>')
                .ok_or_else(|| Error::bad_message(format!("{what}: missing '>' in {item:?}")))?;
            if !rest[close + 1..].trim().is_empty() {
                return Err(Error::bad_message(format!(
                    "{what}: unexpected text after '>' in {item:?}"
                )));
            }
            (display_name(&item[..open]), rest[..close].trim())
        }
        None => (None, item),
    };
    Ok(Mailbox {
        name,
        address: validate_address(address)
            .map_err(|reason| Error::bad_message(format!("{what}: {reason}: {address:?}")))?,
    })
}

fn display_name(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let unquoted = match trimmed.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => trimmed.to_string(),
    };
    (!unquoted.is_empty()).then_some(unquoted)
}

/// Checks `local@domain` and returns it with the domain in ASCII form.
fn validate_address(address: &str) -> Result<String, &'static str> {
    let (local, domain) = address.rsplit_once('@').ok_or("not an address (no '@')")?;
    if local.is_empty() {
        return Err("empty local part");
    }
    let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| "invalid domain")?;
    let candidate = format!("{local}@{ascii_domain}");
    lettre::Address::from_str(&candidate).map_err(|_| "invalid address")?;
    Ok(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_string),
            address: address.to_string(),
        }
    }

    #[test]
    fn bare_and_named_addresses() {
        assert_eq!(
            parse_mailbox("bob@example.com", "-t").unwrap(),
            mailbox(None, "bob@example.com")
        );
        assert_eq!(
            parse_mailbox("Bob Smith <bob@example.com>", "-t").unwrap(),
            mailbox(Some("Bob Smith"), "bob@example.com")
        );
        assert_eq!(
            parse_mailbox("<bob@example.com>", "-t").unwrap(),
            mailbox(None, "bob@example.com")
        );
    }

    #[test]
    fn lists_split_on_commas_outside_quotes_and_brackets() {
        let list = parse_list(r#"a@x.org, "Doe, Jane" <jane@y.org>,B <b@z.org>"#, "-t").unwrap();
        assert_eq!(
            list,
            [
                mailbox(None, "a@x.org"),
                mailbox(Some("Doe, Jane"), "jane@y.org"),
                mailbox(Some("B"), "b@z.org"),
            ]
        );
    }

    #[test]
    fn utf8_names_are_kept() {
        let parsed = parse_mailbox("Ålice Ünïcode <alice@example.org>", "-f").unwrap();
        assert_eq!(parsed.name.as_deref(), Some("Ålice Ünïcode"));
        assert!(parsed.address.is_ascii());
    }

    #[test]
    fn internationalised_domains_become_ascii() {
        let parsed = parse_mailbox("user@bücher.example", "-t").unwrap();
        assert_eq!(parsed.address, "user@xn--bcher-kva.example");
        assert!(parsed.address.is_ascii());
    }

    #[test]
    fn non_ascii_local_parts_need_smtputf8() {
        let parsed = parse_mailbox("jörg@example.de", "-t").unwrap();
        assert!(!parsed.address.is_ascii());
        assert_eq!(parsed.domain(), "example.de");
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_flag_named() {
        for bad in [
            "bob",
            "@example.com",
            "bob@",
            "bob@exa mple.com",
            "Bob <bob@example.com",
            "Bob <bob@example.com> trailing",
        ] {
            let err = parse_mailbox(bad, "--to").unwrap_err();
            assert!(err.message.starts_with("--to: "), "{bad}: {}", err.message);
            assert_eq!(err.exit_code(), 65, "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in [
            "bob@example.com\r\nBcc: eve@x.org",
            "Bob\n <bob@example.com>",
        ] {
            let err = parse_list(bad, "--to").unwrap_err();
            assert!(err.message.contains("control character"), "{}", err.message);
        }
    }

    #[test]
    fn one_mailbox_means_one() {
        let err = parse_mailbox("a@x.org, b@y.org", "--from").unwrap_err();
        assert!(err.message.contains("expected one address"));
    }
}
