//! Thunderbird's autoconfiguration documents (config-v1.1.xml, the ISPDB format), fetched over
//! HTTPS only, from `https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDR`, then
//! `https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml`. Of a document only the
//! `<outgoingServer type="smtp">` entries are read, in the document's order; one without TLS is
//! refused and said so. Parsing is a pure function, tested on ISPDB-style documents.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use crate::server::{Endpoint, Security};

/// No autoconfiguration document is anywhere near this; a bound keeps a hostile server from
/// feeding us forever.
const MAX_DOCUMENT: u64 = 256 * 1024;

/// One usable SMTP server from a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub endpoint: Endpoint,
    /// The user name, placeholders filled in; None when the document gives none we can fill.
    pub user: Option<String>,
    /// The `<authentication>` values, as written (`password-cleartext`, `OAuth2`, ...).
    pub authentication: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub display_name: Option<String>,
    pub servers: Vec<Outgoing>,
    /// Entries left out, and why (no TLS, a bad host name): each one a warning.
    pub refused: Vec<String>,
}

/// The two places a domain publishes its document, in the order they are tried.
pub fn urls(address: &str, domain: &str) -> [String; 2] {
    [
        format!(
            "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={}",
            percent_encode(address)
        ),
        format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
    ]
}

/// Everything but RFC 3986's unreserved characters, percent-encoded (for a query value).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Fetches one document. Only https:// (the URLs are made here), no redirect followed, bounded
/// in time and size; an error is the reason, for the list of what was tried.
pub fn fetch(
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<String, String> {
    debug_assert!(url.starts_with("https://"));
    let agent = crate::trust::https_agent(tls, timeout);
    let response = match agent.get(url).call() {
        Ok(response) => response,
        Err(ureq::Error::Status(code, _)) => return Err(format!("HTTP {code}")),
        Err(ureq::Error::Transport(transport)) => {
            return Err(match transport.message() {
                Some(message) => format!("{}: {message}", transport.kind()),
                None => transport.kind().to_string(),
            });
        }
    };
    if response.status() != 200 {
        // A redirect is not followed: the document must come from the host asked.
        return Err(format!("HTTP {} (not followed)", response.status()));
    }
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut body)
        .map_err(|err| format!("reading the document: {err}"))?;
    if body.len() as u64 > MAX_DOCUMENT {
        return Err(format!("a document over {} KB", MAX_DOCUMENT / 1024));
    }
    String::from_utf8(body).map_err(|_| "a document that is not UTF-8".into())
}

/// The SMTP servers of a document for `address` (`local@domain`).
pub fn parse(xml: &str, address: &str) -> Result<Document, String> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let tree = roxmltree::Document::parse_with_options(xml, options)
        .map_err(|err| format!("not an autoconfiguration document: {err}"))?;
    let root = tree.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(format!(
            "not an autoconfiguration document: <{}> where <clientConfig> was expected",
            root.tag_name().name()
        ));
    }
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let fill = |text: &str| {
        text.replace("%EMAILADDRESS%", address)
            .replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain)
    };
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(|t| t.trim().to_string())
    };
    let mut document = Document::default();
    for provider in root.children().filter(|n| n.has_tag_name("emailProvider")) {
        if document.display_name.is_none() {
            document.display_name = child_text(provider, "displayName");
        }
        for server in provider
            .children()
            .filter(|n| n.has_tag_name("outgoingServer") && n.attribute("type") == Some("smtp"))
        {
            let host = fill(&child_text(server, "hostname").unwrap_or_default());
            let socket = child_text(server, "socketType").unwrap_or_default();
            let security = match socket.to_ascii_uppercase().as_str() {
                "SSL" => Security::Implicit,
                "STARTTLS" => Security::StartTls,
                "PLAIN" => {
                    document.refused.push(format!(
                        "{host}: refused, the document offers it without TLS (socketType plain)"
                    ));
                    continue;
                }
                other => {
                    document
                        .refused
                        .push(format!("{host}: refused, an unknown socketType {other:?}"));
                    continue;
                }
            };
            let port = match child_text(server, "port").map(|p| p.parse::<u16>()) {
                None => None,
                Some(Ok(port)) if port != 0 => Some(port),
                Some(_) => {
                    document
                        .refused
                        .push(format!("{host}: refused, a bad port"));
                    continue;
                }
            };
            let endpoint = match Endpoint::new(&host, port, security, "autoconfig hostname") {
                Ok(endpoint) => endpoint,
                Err(err) => {
                    document.refused.push(err.message);
                    continue;
                }
            };
            let user = child_text(server, "username")
                .map(|u| fill(&u))
                .filter(|u| !u.is_empty() && !u.contains('%'));
            let authentication = server
                .children()
                .filter(|c| c.has_tag_name("authentication"))
                .filter_map(|c| c.text().map(|t| t.trim().to_string()))
                .collect();
            document.servers.push(Outgoing {
                endpoint,
                user,
                authentication,
            });
        }
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As the ISPDB publishes them: incoming servers first, several outgoing ones.
    const ISPDB: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.net">
    <domain>example.net</domain>
    <domain>example.org</domain>
    <displayName>Example Mail</displayName>
    <displayShortName>Example</displayShortName>
    <incomingServer type="imap">
      <hostname>imap.example.net</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.net</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <authentication>OAuth2</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.net</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>
    </outgoingServer>
    <documentation url="https://example.net/help/mail">
      <descr lang="en">Settings</descr>
    </documentation>
  </emailProvider>
  <oAuth2>
    <issuer>login.example.net</issuer>
    <scope>mail</scope>
  </oAuth2>
</clientConfig>"#;

    #[test]
    fn outgoing_servers_in_document_order_with_their_users() {
        let document = parse(ISPDB, "jo@example.net").unwrap();
        assert_eq!(document.display_name.as_deref(), Some("Example Mail"));
        assert!(document.refused.is_empty());
        let urls: Vec<_> = document.servers.iter().map(|s| s.endpoint.url()).collect();
        assert_eq!(
            urls,
            [
                "smtps://smtp.example.net:465",
                "smtp://smtp.example.net:587"
            ]
        );
        assert_eq!(document.servers[0].user.as_deref(), Some("jo@example.net"));
        assert_eq!(document.servers[1].user.as_deref(), Some("jo"));
        assert_eq!(
            document.servers[0].authentication,
            ["password-cleartext", "OAuth2"]
        );
    }

    #[test]
    fn plaintext_is_refused_with_a_warning() {
        let xml = r#"<clientConfig version="1.1"><emailProvider id="x.example">
            <outgoingServer type="smtp">
              <hostname>mail.x.example</hostname><port>25</port>
              <socketType>plain</socketType><username>%EMAILADDRESS%</username>
            </outgoingServer>
            <outgoingServer type="smtp">
              <hostname>mail.x.example</hostname><port>2525</port>
              <socketType>TLS-ish</socketType>
            </outgoingServer>
          </emailProvider></clientConfig>"#;
        let document = parse(xml, "a@x.example").unwrap();
        assert!(document.servers.is_empty());
        assert_eq!(document.refused.len(), 2);
        assert!(
            document.refused[0].contains("without TLS"),
            "{:?}",
            document.refused
        );
    }

    #[test]
    fn placeholders_in_host_and_unknown_ones_in_user() {
        let xml = r#"<clientConfig><emailProvider id="d.example">
            <outgoingServer type="smtp">
              <hostname>smtp.%EMAILDOMAIN%</hostname><socketType>STARTTLS</socketType>
              <username>%REALNAME%</username>
            </outgoingServer></emailProvider></clientConfig>"#;
        let document = parse(xml, "me@d.example").unwrap();
        assert_eq!(
            document.servers[0].endpoint.url(),
            "smtp://smtp.d.example:587"
        );
        assert_eq!(document.servers[0].user, None);
    }

    #[test]
    fn a_server_in_another_domain_is_kept_for_the_caller_to_flag() {
        let xml = ISPDB.replace("smtp.example.net", "smtp.hoster.example");
        let document = parse(&xml, "jo@example.org").unwrap();
        assert_eq!(document.servers[0].endpoint.host, "smtp.hoster.example");
        assert!(!super::super::within("smtp.hoster.example", "example.org"));
    }

    #[test]
    fn not_a_document_and_no_entity_tricks() {
        assert!(parse("<html><body>hi</body></html>", "a@b.example").is_err());
        assert!(parse("not xml", "a@b.example").is_err());
        let dtd = r#"<!DOCTYPE clientConfig [<!ENTITY h "evil.example">]>
            <clientConfig><emailProvider id="x"><outgoingServer type="smtp">
            <hostname>&h;</hostname><socketType>SSL</socketType>
            </outgoingServer></emailProvider></clientConfig>"#;
        assert!(parse(dtd, "a@b.example").is_err());
    }

    #[test]
    fn the_addresses_are_https_and_encode_the_address() {
        let [first, second] = urls("jo+x@example.net", "example.net");
        assert_eq!(
            first,
            "https://autoconfig.example.net/mail/config-v1.1.xml?emailaddress=jo%2Bx%40example.net"
        );
        assert_eq!(
            second,
            "https://example.net/.well-known/autoconfig/mail/config-v1.1.xml"
        );
    }
}
