//! The built-in table of the big mail providers and the sending services: which submission
//! server an address's domain uses (or a `--provider` name chooses), with what TLS, which user
//! name and which kind of secret. Consulted before any DNS or HTTP, so for these domains nothing
//! is ever looked up. Every entry is implicit TLS on 465 or STARTTLS on 587 (a test checks).

use crate::credentials::oauth2::Provider;
use crate::server::{Endpoint, Security};

/// Where a preset's server is.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    /// The OAuth2 provider's own server (`credentials::oauth2::Provider::server`).
    OAuth2(Provider),
    Fixed(&'static str, u16, Security),
    /// A host with `{region}` in it, and the region used when none is given (None: required).
    Regional(&'static str, u16, Security, Option<&'static str>),
}

/// What the user logs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The built-in OAuth2 sign-in (`smtpsend login`).
    OAuth2(Provider),
    /// The account's password.
    Password,
    /// A password made for this one program in the provider's settings; the text says where.
    AppPassword(&'static str),
    /// An API key or SMTP credential made in the service's console.
    ApiKey(&'static str),
}

/// The user name to log in as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Address,
    Fixed(&'static str),
    /// Each account has its own SMTP user name; the text says where to find it.
    Given(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Preset {
    /// The `--provider` name.
    pub name: &'static str,
    pub label: &'static str,
    /// The address domains it serves; empty for a sending service, chosen by name only.
    pub domains: &'static [&'static str],
    pub server: Server,
    pub secret: Secret,
    pub user: User,
    /// Said when the preset is used.
    pub note: Option<&'static str>,
}

const MAIL_STARTTLS: Security = Security::StartTls;
const MAIL_IMPLICIT: Security = Security::Implicit;

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "microsoft",
        label: "Microsoft 365 / Outlook.com",
        domains: &["outlook.com", "hotmail.com", "live.com", "msn.com"],
        server: Server::OAuth2(Provider::Microsoft),
        secret: Secret::OAuth2(Provider::Microsoft),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "google",
        label: "Gmail / Google Workspace",
        domains: &["gmail.com", "googlemail.com"],
        server: Server::OAuth2(Provider::Google),
        secret: Secret::OAuth2(Provider::Google),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "icloud",
        label: "iCloud Mail",
        domains: &["icloud.com", "me.com", "mac.com"],
        server: Server::Fixed("smtp.mail.me.com", 587, MAIL_STARTTLS),
        secret: Secret::AppPassword(
            "an app-specific password from account.apple.com, Sign-In and Security",
        ),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "yahoo",
        label: "Yahoo Mail",
        domains: &[
            "yahoo.com",
            "ymail.com",
            "rocketmail.com",
            "yahoo.co.uk",
            "yahoo.fr",
            "yahoo.de",
        ],
        server: Server::Fixed("smtp.mail.yahoo.com", 465, MAIL_IMPLICIT),
        secret: Secret::AppPassword("an app password from Yahoo's Account Security page"),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "fastmail",
        label: "Fastmail",
        domains: &["fastmail.com", "fastmail.fm"],
        server: Server::Fixed("smtp.fastmail.com", 465, MAIL_IMPLICIT),
        secret: Secret::AppPassword("an app password from Fastmail's Settings, Privacy & Security"),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "gmx",
        label: "GMX",
        domains: &["gmx.net", "gmx.de", "gmx.at", "gmx.ch"],
        server: Server::Fixed("mail.gmx.net", 587, MAIL_STARTTLS),
        secret: Secret::Password,
        user: User::Address,
        note: Some("GMX must be told to allow SMTP: Settings, POP3/IMAP Access"),
    },
    Preset {
        name: "gmx.com",
        label: "GMX (international)",
        domains: &["gmx.com"],
        server: Server::Fixed("mail.gmx.com", 587, MAIL_STARTTLS),
        secret: Secret::Password,
        user: User::Address,
        note: Some("GMX must be told to allow SMTP: Settings, POP3/IMAP Access"),
    },
    Preset {
        name: "mailbox.org",
        label: "mailbox.org",
        domains: &["mailbox.org"],
        server: Server::Fixed("smtp.mailbox.org", 465, MAIL_IMPLICIT),
        secret: Secret::Password,
        user: User::Address,
        note: None,
    },
    Preset {
        name: "zoho",
        label: "Zoho Mail",
        domains: &["zoho.com", "zohomail.com"],
        server: Server::Fixed("smtp.zoho.com", 465, MAIL_IMPLICIT),
        secret: Secret::AppPassword("an application-specific password from Zoho's Security page"),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "zoho.eu",
        label: "Zoho Mail (EU)",
        domains: &["zoho.eu", "zohomail.eu"],
        server: Server::Fixed("smtp.zoho.eu", 465, MAIL_IMPLICIT),
        secret: Secret::AppPassword("an application-specific password from Zoho's Security page"),
        user: User::Address,
        note: None,
    },
    Preset {
        name: "proton",
        label: "Proton Mail, through Proton Bridge on this machine",
        domains: &["proton.me", "protonmail.com", "protonmail.ch", "pm.me"],
        server: Server::Fixed("127.0.0.1", 1025, MAIL_STARTTLS),
        secret: Secret::AppPassword("the password Proton Bridge shows for this address"),
        user: User::Address,
        note: Some(
            "Proton Bridge must be running here; its certificate is its own: export it from \
             Bridge (Settings, Export TLS certificates) and give it with --ca-file, or set \
             ca_file in the account",
        ),
    },
    Preset {
        name: "ses",
        label: "Amazon SES",
        domains: &[],
        server: Server::Regional(
            "email-smtp.{region}.amazonaws.com",
            465,
            MAIL_IMPLICIT,
            None,
        ),
        secret: Secret::ApiKey("the SMTP password of SES SMTP credentials (not an AWS secret key)"),
        user: User::Given(
            "the SMTP user name of SES SMTP credentials (SES console, SMTP settings)",
        ),
        note: None,
    },
    Preset {
        name: "sendgrid",
        label: "SendGrid",
        domains: &[],
        server: Server::Fixed("smtp.sendgrid.net", 465, MAIL_IMPLICIT),
        secret: Secret::ApiKey("an API key with Mail Send permission"),
        user: User::Fixed("apikey"),
        note: None,
    },
    Preset {
        name: "mailgun",
        label: "Mailgun",
        domains: &[],
        server: Server::Regional("smtp.{region}mailgun.org", 465, MAIL_IMPLICIT, Some("us")),
        secret: Secret::ApiKey("the SMTP password of the domain's SMTP credentials"),
        user: User::Given("the domain's SMTP login, e.g. postmaster@mg.example.com"),
        note: None,
    },
    Preset {
        name: "postmark",
        label: "Postmark",
        domains: &[],
        server: Server::Fixed("smtp.postmarkapp.com", 587, MAIL_STARTTLS),
        secret: Secret::ApiKey("the Server API token (also the user name)"),
        user: User::Given("the Server API token"),
        note: None,
    },
    Preset {
        name: "brevo",
        label: "Brevo",
        domains: &[],
        server: Server::Fixed("smtp-relay.brevo.com", 587, MAIL_STARTTLS),
        secret: Secret::ApiKey("an SMTP key (SMTP & API, SMTP keys)"),
        user: User::Given("the SMTP login shown beside the SMTP keys"),
        note: None,
    },
];

/// The preset serving this address domain.
pub fn by_domain(domain: &str) -> Option<&'static Preset> {
    PRESETS
        .iter()
        .find(|p| p.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
}

/// The preset `--provider NAME` names.
pub fn by_name(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Preset {
    /// The server, for `region` where the host depends on one.
    pub fn endpoint(&self, region: Option<&str>) -> Result<Endpoint, String> {
        let (host, port, security) = match self.server {
            Server::OAuth2(provider) => {
                let endpoint = provider.server().expect("a preset provider has a server");
                return Ok(endpoint);
            }
            Server::Fixed(host, port, security) => (host.to_string(), port, security),
            Server::Regional(template, port, security, default) => {
                let region = region.or(default).ok_or_else(|| {
                    format!("--provider {}: give the region with --region", self.name)
                })?;
                let valid = !region.is_empty()
                    && region.len() <= 32
                    && region
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !valid {
                    return Err(format!("--region: not a region name: {region:?}"));
                }
                (regional_host(self.name, template, region), port, security)
            }
        };
        Ok(Endpoint {
            host,
            port,
            security,
            protocol: crate::server::Protocol::Smtp,
            socket: None,
        })
    }
}

/// Mailgun's US servers have no region label (`smtp.mailgun.org`), its EU ones do.
fn regional_host(name: &str, template: &str, region: &str) -> String {
    let label = match (name, region) {
        ("mailgun", "us") => String::new(),
        ("mailgun", other) => format!("{other}."),
        (_, other) => other.to_string(),
    };
    template.replace("{region}", &label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::is_loopback;

    #[test]
    fn every_entry_is_tls_on_a_submission_port_to_a_named_host() {
        for preset in PRESETS {
            let endpoint = preset.endpoint(Some("eu-west-1")).unwrap();
            match (endpoint.security, endpoint.port) {
                (Security::Implicit, 465) | (Security::StartTls, 587) => {}
                // Proton Bridge listens where it listens, on this machine only.
                (Security::StartTls, 1025) if preset.name == "proton" => {}
                other => panic!("{}: {other:?}", preset.name),
            }
            assert_ne!(endpoint.security, Security::Plain, "{}", preset.name);
            let is_address = endpoint.host.parse::<std::net::IpAddr>().is_ok();
            assert!(
                !is_address || (preset.name == "proton" && is_loopback(&endpoint.host)),
                "{}: {}",
                preset.name,
                endpoint.host
            );
            assert!(
                endpoint.host.contains('.') && !endpoint.host.contains(['{', '}', ' ']),
                "{}: {}",
                preset.name,
                endpoint.host
            );
            crate::server::Endpoint::parse_url(&endpoint.url(), "preset").unwrap();
            // One preset per domain and per name.
            for domain in preset.domains {
                assert_eq!(by_domain(domain).unwrap().name, preset.name);
            }
            assert_eq!(by_name(preset.name).unwrap().name, preset.name);
            if let (Server::OAuth2(a), Secret::OAuth2(b)) = (preset.server, preset.secret) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn the_providers_are_where_they_say() {
        let at = |domain: &str| by_domain(domain).unwrap().endpoint(None).unwrap().url();
        assert_eq!(at("outlook.com"), "smtp://smtp.office365.com:587");
        assert_eq!(at("HOTMAIL.com"), "smtp://smtp.office365.com:587");
        assert_eq!(at("gmail.com"), "smtps://smtp.gmail.com:465");
        assert_eq!(at("me.com"), "smtp://smtp.mail.me.com:587");
        assert_eq!(at("gmx.de"), "smtp://mail.gmx.net:587");
        assert_eq!(at("gmx.com"), "smtp://mail.gmx.com:587");
        assert_eq!(at("zoho.eu"), "smtps://smtp.zoho.eu:465");
        assert_eq!(at("proton.me"), "smtp://127.0.0.1:1025");
        assert!(by_domain("example.com").is_none());
        assert_eq!(
            by_domain("gmail.com").unwrap().secret,
            Secret::OAuth2(Provider::Google)
        );
    }

    #[test]
    fn sending_services_by_name_and_region() {
        let ses = by_name("ses").unwrap();
        assert_eq!(
            ses.endpoint(Some("eu-west-1")).unwrap().url(),
            "smtps://email-smtp.eu-west-1.amazonaws.com:465"
        );
        assert!(ses.endpoint(None).unwrap_err().contains("--region"));
        assert!(ses.endpoint(Some("evil.com/")).is_err());
        assert!(ses.endpoint(Some("a.b")).is_err());
        let mailgun = by_name("mailgun").unwrap();
        assert_eq!(mailgun.endpoint(None).unwrap().host, "smtp.mailgun.org");
        assert_eq!(
            mailgun.endpoint(Some("eu")).unwrap().host,
            "smtp.eu.mailgun.org"
        );
        assert_eq!(by_name("sendgrid").unwrap().user, User::Fixed("apikey"));
        assert!(ses.domains.is_empty());
    }
}
