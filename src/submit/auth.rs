//! AUTH (RFC 4954): the mechanism chosen from what the server offers, the SASL exchange with
//! every client line redacted in the transcript, and refusals turned into hints. A password
//! never crosses an unencrypted connection except to a loopback address.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use super::delivery::{Result, Step, fault, refused};
use super::hints::provider_hint;
use super::reply::{Extensions, Reply};
use super::session::Session;
use super::transcript::Transcript;
use crate::credentials::{PasswordSource, Secret};
use crate::error::Kind;
use crate::server::{AuthChoice, Endpoint};

/// A login, password in hand.
#[derive(Debug)]
pub struct Login {
    pub user: String,
    pub mechanism: AuthChoice,
    pub password: Secret,
    /// Where the password came from, for the transcript and the hint when it is refused.
    pub source: PasswordSource,
    /// For an OAuth2 access token: a new one after the server refused this one.
    pub refresh: Option<Refresher>,
}

/// Gets a new access token for one the server refused.
pub struct Refresher(pub Box<RefreshFn>);

type RefreshFn = dyn Fn(&Secret) -> std::result::Result<Secret, crate::error::Error>;

impl std::fmt::Debug for Refresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refresher")
    }
}

pub(super) fn authenticate(
    session: &mut Session,
    login: &Login,
    extensions: &Extensions,
    endpoint: &Endpoint,
    transcript: &mut Transcript,
    challenge_error: &mut Option<String>,
) -> Result<&'static str> {
    if login.mechanism == AuthChoice::External {
        return external(session, &login.user, extensions, transcript);
    }
    if !may_send_password(session.stream.is_encrypted(), &endpoint.host) {
        return Err(fault(
            Step::Auth,
            Kind::Config,
            format!(
                "refusing to send the password for {} unencrypted to {}",
                login.user, endpoint.host
            ),
        )
        .hint("use smtp:// (STARTTLS) or smtps:// (implicit TLS)"));
    }
    let offered = extensions.auth_mechanisms();
    if offered.is_empty() {
        let mut fault = fault(
            Step::Auth,
            Kind::Unavailable,
            format!("{} offers no AUTH, but --user was given", endpoint.host),
        );
        if !session.stream.is_encrypted() {
            fault = fault.hint("servers usually offer AUTH only over TLS: use smtp:// or smtps://");
        }
        return Err(fault);
    }
    let offers = |name: &str| offered.iter().any(|m| m.eq_ignore_ascii_case(name));
    let choice = match login.mechanism {
        AuthChoice::Auto if offers("PLAIN") => AuthChoice::Plain,
        AuthChoice::Auto if offers("LOGIN") => AuthChoice::Login,
        AuthChoice::Auto => {
            return Err(fault(
                Step::Auth,
                Kind::Unavailable,
                format!(
                    "the server offers AUTH {}; smtpsend speaks PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER",
                    offered.join(" ")
                ),
            )
            .hint("choose one with --auth"));
        }
        explicit => explicit,
    };
    let (name, mechanism) = match choice {
        AuthChoice::Plain => ("PLAIN", Some(Mechanism::Plain)),
        AuthChoice::Login => ("LOGIN", Some(Mechanism::Login)),
        AuthChoice::Xoauth2 => ("XOAUTH2", Some(Mechanism::Xoauth2)),
        AuthChoice::OAuthBearer | AuthChoice::Auto => ("OAUTHBEARER", None),
        AuthChoice::External => unreachable!("EXTERNAL is answered before any password"),
    };
    if !offers(name) {
        return Err(fault(
            Step::Auth,
            Kind::Unavailable,
            format!(
                "the server does not offer AUTH {name} (it offers {})",
                offered.join(" ")
            ),
        ));
    }
    transcript.info(&format!(
        "authenticating as {} with {name}, password from {}",
        login.user, login.source
    ));
    let credentials = Credentials::new(login.user.clone(), login.password.expose().to_string());
    let sasl = |challenge: Option<&str>| match mechanism {
        Some(mechanism) => mechanism
            .response(&credentials, challenge)
            .map(|r| BASE64.encode(r))
            .map_err(|err| fault(Step::Auth, Kind::Protocol, format!("AUTH {name}: {err}"))),
        // RFC 7628 section 3.1: gs2 header, then host, port and the bearer token.
        None => Ok(BASE64.encode(format!(
            "n,a={},\x01host={}\x01port={}\x01auth=Bearer {}\x01\x01",
            login.user,
            endpoint.host,
            endpoint.port,
            login.password.expose()
        ))),
    };

    let first = if mechanism.is_none_or(|m| m.supports_initial_response()) {
        format!("AUTH {name} {}", sasl(None)?)
    } else {
        format!("AUTH {name}")
    };
    session.send_redacted(&first, &format!("AUTH {name} <redacted>"), transcript)?;
    let mut reply = session.reply(Step::Auth, transcript)?;
    // LOGIN takes two challenges; a failing XOAUTH2 or OAUTHBEARER sends one error challenge,
    // answered empty (XOAUTH2) or with a lone ^A (RFC 7628 section 3.2.3).
    for _ in 0..3 {
        if reply.code != 334 {
            break;
        }
        if matches!(choice, AuthChoice::Xoauth2 | AuthChoice::OAuthBearer) {
            // RFC 7628 section 3.2.2: the server says why in JSON ({"status":"401",...}).
            if let Some(said) = error_json(&reply.text) {
                transcript.info(&format!("the server refused the token: {said}"));
                *challenge_error = Some(said);
            }
        }
        let answer = match mechanism {
            Some(Mechanism::Login) => {
                let challenge = BASE64
                    .decode(reply.text.trim())
                    .ok()
                    .and_then(|c| String::from_utf8(c).ok())
                    .unwrap_or_default();
                sasl(Some(&challenge))?
            }
            Some(_) => String::new(),
            None => BASE64.encode("\x01"),
        };
        session.send_redacted(&answer, "<redacted>", transcript)?;
        reply = session.reply(Step::Auth, transcript)?;
    }
    if reply.code != 235 {
        let mut fault = refused(
            Step::Auth,
            reply,
            Kind::AuthRefused,
            &format!("authentication as {} refused", login.user),
        );
        if let Some(said) = challenge_error {
            fault
                .error
                .message
                .push_str(&format!(" (the server said {said})"));
        }
        let oauth2 = matches!(choice, AuthChoice::Xoauth2 | AuthChoice::OAuthBearer);
        if let Some(hint) = fault
            .reply
            .as_ref()
            .and_then(|reply| provider_hint(reply, oauth2))
        {
            fault.error.hint = Some(hint.into());
        } else if fault.error.kind == Kind::AuthRefused {
            fault.error.hint = Some(
                match login.source {
                    PasswordSource::Keyring => {
                        "the password stored in the keyring was refused: \
                                            store the right one with `smtpsend login`"
                    }
                    _ => "check the user name and password",
                }
                .into(),
            );
        }
        return Err(fault);
    }
    Ok(name)
}

/// SASL EXTERNAL (RFC 4422 appendix A): the TLS client certificate is the credential, and
/// the initial response the authorization identity, `=` for none (RFC 4954 section 4), which
/// lets the server derive it from the certificate.
pub(super) fn external(
    session: &mut Session,
    authzid: &str,
    extensions: &Extensions,
    transcript: &mut Transcript,
) -> Result<&'static str> {
    let offered = extensions.auth_mechanisms();
    if !offered.iter().any(|m| m == "EXTERNAL") {
        return Err(fault(
            Step::Auth,
            Kind::Unavailable,
            format!(
                "the server does not offer AUTH EXTERNAL (it offers {})",
                if offered.is_empty() {
                    "no AUTH".to_string()
                } else {
                    offered.join(" ")
                }
            ),
        ));
    }
    let response = match authzid {
        "" => "=".to_string(),
        user => BASE64.encode(user),
    };
    transcript.info("authenticating with EXTERNAL: the client certificate");
    session.send(&format!("AUTH EXTERNAL {response}"), transcript)?;
    let reply = session.reply(Step::Auth, transcript)?;
    if reply.code != 235 {
        let mut fault = refused(
            Step::Auth,
            reply,
            Kind::AuthRefused,
            "authentication with the client certificate (EXTERNAL) refused",
        );
        fault.error.hint = Some("the server does not accept this certificate as a login".into());
        return Err(fault);
    }
    Ok("EXTERNAL")
}

/// The JSON a server puts in the challenge of a refused XOAUTH2 or OAUTHBEARER, as text on one
/// line; None when the challenge is not that.
fn error_json(challenge: &str) -> Option<String> {
    let decoded = BASE64.decode(challenge.trim()).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    value.is_object().then(|| value.to_string())
}

/// Whether a refused AUTH means the token (not the account) was refused, so that a new token
/// on a new connection may well work: Microsoft's 535 5.7.3, a 454 4.7.0, or an error challenge.
pub(super) fn token_rejected(reply: Option<&Reply>, challenge_error: bool) -> bool {
    challenge_error
        || reply.is_some_and(|r| {
            let says = |code: &str| r.enhanced.as_deref() == Some(code) || r.text.contains(code);
            (r.code == 535 && says("5.7.3")) || (r.code == 454 && says("4.7.0"))
        })
}

/// A password goes over TLS, or in the clear only to this machine's own loopback interface.
pub(super) fn may_send_password(encrypted: bool, host: &str) -> bool {
    encrypted || crate::server::is_loopback(host)
}

#[cfg(test)]
mod tests {
    use super::super::reply::reply_from;
    use super::*;

    #[test]
    fn an_error_challenge_is_decoded_and_counts_as_a_refused_token() {
        let challenge = BASE64.encode(r#"{"status":"401","schemes":"bearer","scope":"mail"}"#);
        assert_eq!(
            error_json(&challenge).as_deref(),
            Some(r#"{"schemes":"bearer","scope":"mail","status":"401"}"#)
        );
        assert_eq!(error_json("VXNlcm5hbWU6"), None);
        let reply = |line: &str| reply_from(&[line]);
        assert!(token_rejected(None, true));
        assert!(token_rejected(
            reply("535 5.7.3 Authentication unsuccessful").as_ref(),
            false
        ));
        assert!(token_rejected(
            reply("454 4.7.0 Temporary authentication failure").as_ref(),
            false
        ));
        assert!(!token_rejected(
            reply("535 5.7.8 Error: authentication failed").as_ref(),
            false
        ));
    }

    #[test]
    fn passwords_travel_in_the_clear_only_to_loopback() {
        assert!(may_send_password(true, "mail.example.com"));
        assert!(!may_send_password(false, "mail.example.com"));
        assert!(!may_send_password(false, "192.0.2.1"));
        assert!(may_send_password(false, "localhost"));
        assert!(may_send_password(false, "127.0.0.1"));
        assert!(may_send_password(false, "::1"));
    }
}
