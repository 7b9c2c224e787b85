//! Where an address's mail is submitted, found without guessing: the built-in table of the big
//! providers (by the address's domain), then the domain's SRV records (RFC 6186, RFC 8314),
//! then its autoconfiguration document over HTTPS. Each step says what it tried, so a search
//! that finds nothing can say so. Only servers with TLS are ever offered; a server outside the
//! address's domain is marked `foreign`, for the caller to have confirmed. Nothing here
//! connects to a mail server (probing is `submit`'s) or prints.

pub mod autoconfig;
pub mod providers;
pub mod srv;

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::server::{Endpoint, Security};
use providers::Preset;

/// A server found for the address.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub endpoint: Endpoint,
    /// How it was found, for the user: "DNS SRV _submissions._tcp.example.com".
    pub source: String,
    /// The user name the source suggests.
    pub user: Option<String>,
    /// The built-in entry it came from.
    pub preset: Option<&'static Preset>,
    /// Outside the address's domain: shown with a warning and stored only when confirmed.
    pub foreign: bool,
}

/// What a search found, what it tried and what it refused.
#[derive(Debug, Default)]
pub struct Found {
    pub candidates: Vec<Candidate>,
    pub tried: Vec<String>,
    pub warnings: Vec<String>,
}

/// Whether `host` is `domain` or a name under it.
pub fn within(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

/// The candidate a built-in entry gives.
pub fn from_preset(
    preset: &'static Preset,
    region: Option<&str>,
    address: &str,
) -> Result<Candidate, Error> {
    let endpoint = preset.endpoint(region).map_err(Error::usage)?;
    Ok(Candidate {
        endpoint,
        source: format!("the built-in table ({})", preset.label),
        user: match preset.user {
            providers::User::Address => Some(address.to_string()),
            providers::User::Fixed(user) => Some(user.to_string()),
            providers::User::Given(_) => None,
        },
        preset: Some(preset),
        foreign: false,
    })
}

/// Searches in order, stopping at the first step that finds a server: the table, SRV, then
/// autoconfiguration. `domain` is the address's domain in ASCII.
pub fn search(
    address: &str,
    domain: &str,
    ca_file: Option<&PathBuf>,
    timeout: Duration,
) -> Result<Found, Error> {
    let mut found = Found::default();
    if let Some(preset) = providers::by_domain(domain) {
        found.candidates.push(from_preset(preset, None, address)?);
        return Ok(found);
    }
    found
        .tried
        .push(format!("the built-in table: no entry for {domain}"));
    for (service, security) in srv::SERVICES {
        let name = format!("{service}.{domain}");
        match srv::lookup(&name, timeout) {
            Ok(srv::Answer::Targets(records)) => {
                for record in &records {
                    let endpoint = match srv::endpoint(record, security) {
                        Ok(endpoint) => endpoint,
                        Err(reason) => {
                            found.warnings.push(format!("DNS SRV {name}: {reason}"));
                            continue;
                        }
                    };
                    found.candidates.push(Candidate {
                        foreign: !within(&endpoint.host, domain),
                        endpoint,
                        source: format!("DNS SRV {name}"),
                        user: Some(address.to_string()),
                        preset: None,
                    });
                }
                found
                    .tried
                    .push(format!("DNS SRV {name}: {} target(s)", records.len()));
            }
            Ok(srv::Answer::NotOffered) => found.tried.push(format!(
                "DNS SRV {name}: \".\", the domain offers no such service"
            )),
            Ok(srv::Answer::Nothing) => found.tried.push(format!("DNS SRV {name}: no records")),
            Err(reason) => found.tried.push(format!("DNS SRV {name}: {reason}")),
        }
    }
    if !found.candidates.is_empty() {
        return Ok(found);
    }
    let tls = crate::trust::tls_config(ca_file)?;
    for url in autoconfig::urls(address, domain) {
        let document = match autoconfig::fetch(&url, tls.clone(), timeout)
            .and_then(|xml| autoconfig::parse(&xml, address))
        {
            Ok(document) => document,
            Err(reason) => {
                found.tried.push(format!("{url}: {reason}"));
                continue;
            }
        };
        found
            .warnings
            .extend(document.refused.iter().map(|r| format!("{url}: {r}")));
        found.tried.push(format!(
            "{url}: {} SMTP server(s) with TLS",
            document.servers.len()
        ));
        for server in document.servers {
            found.candidates.push(Candidate {
                foreign: !within(&server.endpoint.host, domain),
                endpoint: server.endpoint,
                source: format!("the autoconfiguration document {url}"),
                user: server.user.or_else(|| Some(address.to_string())),
                preset: None,
            });
        }
        if !found.candidates.is_empty() {
            break;
        }
    }
    Ok(found)
}

/// "implicit TLS" or "STARTTLS", for the line that says what was found.
pub fn security_words(security: Security) -> &'static str {
    match security {
        Security::Implicit => "implicit TLS",
        Security::StartTls => "STARTTLS",
        Security::Plain => "no TLS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_domain_means_the_domain_or_below_it() {
        assert!(within("example.com", "example.com"));
        assert!(within("Mail.Example.com.", "example.com"));
        assert!(!within("example.com.evil.example", "example.com"));
        assert!(!within("notexample.com", "example.com"));
        assert!(!within("smtp.hoster.example", "example.com"));
    }

    #[test]
    fn a_table_domain_needs_no_lookup() {
        let found = search("me@gmail.com", "gmail.com", None, Duration::from_secs(1)).unwrap();
        assert!(found.tried.is_empty());
        let candidate = &found.candidates[0];
        assert_eq!(candidate.endpoint.url(), "smtps://smtp.gmail.com:465");
        assert_eq!(candidate.user.as_deref(), Some("me@gmail.com"));
        assert!(!candidate.foreign);
    }
}
