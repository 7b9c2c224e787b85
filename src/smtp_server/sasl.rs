//! The server side of AUTH PLAIN (RFC 4616) and AUTH LOGIN: what a client's responses say, as
//! a user name and a password. Checking them is the caller's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::credentials::Secret;

/// The mechanisms a local client may log in with; both send the password itself, so they are
/// offered only where nobody can listen (RFC 4954 section 4: over TLS, or on this machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    pub fn parse(name: &str) -> Option<Mechanism> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Some(Mechanism::Plain),
            "LOGIN" => Some(Mechanism::Login),
            _ => None,
        }
    }
}

/// The login a client offered.
pub struct Offered {
    pub user: String,
    pub password: Secret,
}

/// One base64 response, decoded; None when it is not base64 or not UTF-8.
pub fn decode(response: &str) -> Option<String> {
    let bytes = BASE64.decode(response.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

/// `authzid NUL authcid NUL passwd` (RFC 4616 section 2). An authorization identity other than
/// the user's own is refused: a local user may not act as another.
pub fn plain(response: &str) -> Option<Offered> {
    let decoded = decode(response)?;
    let mut parts = decoded.split('\0');
    let (authzid, user, password) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || user.is_empty() || !(authzid.is_empty() || authzid == user) {
        return None;
    }
    Some(Offered {
        user: user.to_string(),
        password: Secret::new(password.to_string()),
    })
}

/// The base64 of a LOGIN challenge.
pub fn challenge(text: &str) -> String {
    BASE64.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_responses_name_the_user_and_only_the_user() {
        let encode = |raw: &str| BASE64.encode(raw);
        let offered = plain(&encode("\0grafana\0s3cret")).unwrap();
        assert_eq!(
            (offered.user.as_str(), offered.password.expose()),
            ("grafana", "s3cret")
        );
        assert!(plain(&encode("grafana\0grafana\0s3cret")).is_some());
        for bad in [
            "root\0grafana\0s3cret",
            "\0\0s3cret",
            "grafana",
            "\0a\0b\0c",
        ] {
            assert!(plain(&encode(bad)).is_none(), "{bad:?}");
        }
        assert!(plain("not base64!").is_none());
        assert_eq!(decode(&challenge("Username:")).unwrap(), "Username:");
    }
}
