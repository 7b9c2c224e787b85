//! Hints for refusals that name their own fix: the codes and words of the big providers
//! (Microsoft 365, Gmail) for retired passwords, disabled SMTP AUTH, app passwords and Send As;
//! the refusal to relay for a client that did not log in, and the one of a client without a
//! certificate.

use super::reply::Reply;

/// What a client that did not log in is told when the server offers AUTH, or refuses to relay.
pub const NO_LOGIN_HINT: &str = "no user is set, so smtpsend did not log in, and a submission \
     server will probably refuse to relay: give --user NAME, set SMTPSEND_USER, or set `user` \
     in the account";

/// Whether a refusal says the server takes mail from this client only after AUTH: 530 5.7.0
/// "Authentication required" (RFC 4954 section 6), 5.7.1 "Relay access denied" and its kin.
pub(super) fn wants_login(reply: &Reply) -> bool {
    let text = reply.text.to_ascii_lowercase();
    reply.is_permanent()
        && (reply.code == 530
            || matches!(reply.enhanced.as_deref(), Some("5.7.0" | "5.7.1"))
            || text.contains("relay")
            || text.contains("authentication required"))
}

/// Whether a refusal says the server takes only clients that show a TLS certificate, as
/// Postfix's 421 4.7.1 "No client certificate presented" (smtpd_tls_req_ccert) does: a 4xx,
/// but no later attempt without a certificate can succeed.
pub(super) fn wants_client_certificate(reply: &Reply) -> bool {
    !reply.is_positive()
        && reply
            .text
            .to_ascii_lowercase()
            .contains("client certificate")
}

/// The fix for a refusal whose code or words name one: the big providers' retired passwords,
/// disabled SMTP AUTH, app passwords, Send As; a refused token (`oauth2`). None otherwise.
pub(super) fn provider_hint(reply: &Reply, oauth2: bool) -> Option<&'static str> {
    let text = reply.text.as_str();
    let says = |code: &str| reply.enhanced.as_deref() == Some(code) || text.contains(code);
    let basic_auth_off = says("5.7.30") || text.contains("basic authentication is disabled");
    if text.contains("SmtpClientAuthentication") || (says("5.7.139") && !basic_auth_off) {
        Some(
            "SMTP AUTH is disabled for this mailbox or tenant (Microsoft 365): an admin must \
             turn on \"Authenticated SMTP\" for the mailbox (or SmtpClientAuthenticationDisabled \
             off for the tenant)",
        )
    } else if basic_auth_off {
        Some(
            "this server no longer accepts passwords (Microsoft 365): set \
             oauth2_provider = \"microsoft\" in the account and run `smtpsend login` (or use \
             --auth xoauth2 with a token from --password-command)",
        )
    } else if says("5.7.9") {
        Some(
            "this server wants an application-specific password or OAuth2 (Gmail): create an \
             app password, or set oauth2_provider = \"google\" and run `smtpsend login`",
        )
    } else if says("5.2.252") || text.contains("SendAsDenied") {
        Some(
            "the From address is not the signed-in mailbox (SendAsDenied): send from the \
             mailbox's own address, or have the admin grant Send As",
        )
    } else if oauth2 && says("5.7.3") {
        Some(
            "the token was refused: it is for another account than `user`, or the app lacks \
             consent for sending mail (SMTP.Send): check user, then run `smtpsend login`",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_to_relay_want_a_login() {
        let reply = |code: u16, enhanced: Option<&str>, text: &str| Reply {
            code,
            enhanced: enhanced.map(String::from),
            text: text.into(),
            queue_id: None,
        };
        assert!(wants_login(&reply(
            554,
            Some("5.7.1"),
            "<b@x>: Relay access denied"
        )));
        assert!(wants_login(&reply(550, None, "relaying denied")));
        assert!(wants_login(&reply(
            530,
            Some("5.7.0"),
            "Authentication required"
        )));
        assert!(!wants_login(&reply(550, Some("5.1.1"), "no such user")));
        assert!(!wants_login(&reply(450, Some("4.7.1"), "relay later")));
    }

    #[test]
    fn smtp_refusals_name_their_fix() {
        let reply = |enhanced: Option<&str>, text: &str| Reply {
            code: 535,
            enhanced: enhanced.map(String::from),
            text: text.into(),
            queue_id: None,
        };
        let hint = |enhanced, text| provider_hint(&reply(enhanced, text), true).unwrap_or("none");
        assert!(hint(Some("5.7.139"), "Authentication unsuccessful").contains("admin"));
        let tenant =
            "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant";
        assert!(hint(Some("5.7.139"), tenant).contains("admin"));
        let basic = "Authentication unsuccessful, basic authentication is disabled.";
        assert!(hint(Some("5.7.139"), basic).contains("oauth2_provider = \"microsoft\""));
        assert!(hint(Some("5.7.30"), "Basic authentication").contains("oauth2_provider"));
        assert!(hint(Some("5.7.9"), "Application-specific").contains("app password"));
        assert!(hint(Some("5.2.252"), "SendAsDenied; a not allowed").contains("From address"));
        assert!(hint(Some("5.7.3"), "Authentication unsuccessful").contains("consent"));
        assert_eq!(provider_hint(&reply(Some("5.7.3"), ""), false), None);
        assert_eq!(hint(Some("5.7.8"), "authentication failed"), "none");
    }
}
