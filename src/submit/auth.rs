//! AUTH (RFC 4954): the mechanism chosen from what the server offers, the SASL exchange with
//! every client line redacted in the transcript, and refusals turned into hints. SCRAM's
//! messages are `scram`'s; here they are carried and the server's proof demanded. A password
//! never crosses an unencrypted connection except to a loopback address.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};

use super::delivery::{Fault, Result, Step, fault, refused};
use super::hints::provider_hint;
use super::reply::{Extensions, Reply};
use super::scram::{self, Binding, Hash, Scram, ScramError, new_nonce};
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
    let binding = session.stream.channel_binding();
    let choice = match login.mechanism {
        AuthChoice::Auto => AUTO_ORDER
            .into_iter()
            .find(|&choice| offers(sasl_name(choice)) && (!is_plus(choice) || binding.is_some()))
            .ok_or_else(|| {
                fault(
                    Step::Auth,
                    Kind::Unavailable,
                    format!(
                        "the server offers AUTH {}; smtpsend speaks SCRAM-SHA-256(-PLUS), \
                         SCRAM-SHA-1(-PLUS), PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER",
                        offered.join(" ")
                    ),
                )
                .hint("choose one with --auth")
            })?,
        explicit => explicit,
    };
    let name = sasl_name(choice);
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
    if let Some(hash) = scram_hash(choice) {
        let binding = match binding {
            Some(binding) if is_plus(choice) => Binding::Bound(binding),
            None if is_plus(choice) => {
                return Err(fault(
                    Step::Auth,
                    Kind::Unavailable,
                    format!("AUTH {name} needs a TLS connection to bind to"),
                )
                .hint("use smtp:// (STARTTLS) or smtps:// (implicit TLS)"));
            }
            // RFC 5802 section 6: `y` tells a server that strips the -PLUS mechanisms from
            // its list that the client noticed; `n` when -PLUS was offered but not chosen.
            Some(_) if !offers(&format!("{name}-PLUS")) => Binding::NotOffered,
            _ => Binding::None,
        };
        let reply = scram_exchange(session, login, hash, binding, name, transcript)?;
        return match reply.code {
            235 => Ok(name),
            _ => Err(refusal(reply, login, choice, challenge_error)),
        };
    }
    let mechanism = match choice {
        AuthChoice::Plain => Some(Mechanism::Plain),
        AuthChoice::Login => Some(Mechanism::Login),
        AuthChoice::Xoauth2 => Some(Mechanism::Xoauth2),
        _ => None,
    };
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
        return Err(refusal(reply, login, choice, challenge_error));
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

/// What `auth = "auto"` tries, strongest first: SCRAM before a password sent whole, SHA-256
/// before SHA-1, bound to the channel before not.
const AUTO_ORDER: [AuthChoice; 6] = [
    AuthChoice::ScramSha256Plus,
    AuthChoice::ScramSha256,
    AuthChoice::ScramSha1Plus,
    AuthChoice::ScramSha1,
    AuthChoice::Plain,
    AuthChoice::Login,
];

/// The mechanism's name on the wire.
fn sasl_name(choice: AuthChoice) -> &'static str {
    match choice {
        AuthChoice::Plain => "PLAIN",
        AuthChoice::Login => "LOGIN",
        AuthChoice::Xoauth2 => "XOAUTH2",
        AuthChoice::OAuthBearer | AuthChoice::Auto => "OAUTHBEARER",
        AuthChoice::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
        AuthChoice::ScramSha256 => "SCRAM-SHA-256",
        AuthChoice::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
        AuthChoice::ScramSha1 => "SCRAM-SHA-1",
        AuthChoice::External => "EXTERNAL",
    }
}

fn scram_hash(choice: AuthChoice) -> Option<Hash> {
    match choice {
        AuthChoice::ScramSha256Plus | AuthChoice::ScramSha256 => Some(Hash::Sha256),
        AuthChoice::ScramSha1Plus | AuthChoice::ScramSha1 => Some(Hash::Sha1),
        _ => None,
    }
}

fn is_plus(choice: AuthChoice) -> bool {
    matches!(
        choice,
        AuthChoice::ScramSha256Plus | AuthChoice::ScramSha1Plus
    )
}

/// One SCRAM exchange (RFC 5802 section 5, carried as RFC 4954 section 4 says): the client's
/// first message with AUTH, its proof for the server's challenge, the server's signature
/// checked before the empty line that lets the server say 235. Gives the server's last reply;
/// a server that cannot prove it knows the password is refused, and nothing more is sent.
fn scram_exchange(
    session: &mut Session,
    login: &Login,
    hash: Hash,
    binding: Binding,
    name: &str,
    transcript: &mut Transcript,
) -> Result<Reply> {
    // RFC 5802 section 5.1: prepared by SASLprep, or the exchange is not started.
    let unprepared = |what: &str| {
        fault(
            Step::Auth,
            Kind::Config,
            format!(
                "{name} cannot use this {what}: SASLprep (RFC 4013) refuses a character in it; \
                 nothing was sent"
            ),
        )
        .hint("--auth plain or login sends it as it is")
    };
    let user = scram::prepare(&login.user).ok_or_else(|| unprepared("user name"))?;
    let password = scram::prepare(login.password.expose()).ok_or_else(|| unprepared("password"))?;
    let mut scram = Scram::new(hash, &user, &new_nonce(), binding);
    let first = format!("AUTH {name} {}", BASE64.encode(scram.client_first()));
    session.send_redacted(&first, &format!("AUTH {name} <redacted>"), transcript)?;
    let reply = session.reply(Step::Auth, transcript)?;
    if reply.code != 334 {
        return Ok(reply);
    }
    let proof = decode_challenge(&reply.text)
        .and_then(|server_first| scram.client_final(&server_first, password.as_bytes()))
        .map_err(|err| scram_stop(session, name, login, err))?;
    session.send_redacted(&BASE64.encode(proof), "<redacted>", transcript)?;
    let reply = session.reply(Step::Auth, transcript)?;
    match reply.code {
        334 => {
            decode_challenge(&reply.text)
                .and_then(|server_final| scram.verify_server_final(&server_final))
                .map_err(|err| scram_stop(session, name, login, err))?;
            transcript.info("the server's SCRAM signature is right");
            session.send("", transcript)?;
            session.reply(Step::Auth, transcript)
        }
        235 => Err(scram_stop(
            session,
            name,
            login,
            ScramError::Malformed(
                "was left out: the server accepted without proving it knows the password".into(),
            ),
        )),
        _ => Ok(reply),
    }
}

/// A SCRAM exchange that cannot go on: the session ends here, without another word.
fn scram_stop(session: &mut Session, name: &str, login: &Login, err: ScramError) -> Box<Fault> {
    session.broken = true;
    let kind = match err {
        ScramError::Malformed(_) => Kind::Protocol,
        _ => Kind::AuthRefused,
    };
    fault(
        Step::Auth,
        kind,
        format!("AUTH {name} as {} stopped: {err}", login.user),
    )
}

fn decode_challenge(text: &str) -> std::result::Result<String, ScramError> {
    BASE64
        .decode(text.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ScramError::Malformed("is not base64 of UTF-8 text".into()))
}

/// A refused AUTH, with the hint that fits what was refused.
fn refusal(
    reply: Reply,
    login: &Login,
    choice: AuthChoice,
    challenge_error: &Option<String>,
) -> Box<Fault> {
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
    fault
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
