//! What smtpsend knows about the providers: their endpoints, scopes, server and mechanism, and
//! the one-line fixes for the ways they refuse. No client ID is shipped: each user registers
//! their own application (smtpsend-login(1) says how).

use crate::server::{AuthChoice, Endpoint, Security};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Microsoft,
    Google,
    Custom,
}

impl Provider {
    pub fn parse(text: &str) -> Option<Provider> {
        match text.to_ascii_lowercase().as_str() {
            "microsoft" => Some(Provider::Microsoft),
            "google" => Some(Provider::Google),
            "custom" => Some(Provider::Custom),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Microsoft => "microsoft",
            Provider::Google => "google",
            Provider::Custom => "custom",
        }
    }

    /// The submission server, for an account that names none.
    pub fn server(self) -> Option<Endpoint> {
        match self {
            Provider::Microsoft => Some(Endpoint {
                host: "smtp.office365.com".into(),
                port: 587,
                security: Security::StartTls,
                protocol: crate::server::Protocol::Smtp,
                socket: None,
            }),
            Provider::Google => Some(Endpoint {
                host: "smtp.gmail.com".into(),
                port: 465,
                security: Security::Implicit,
                protocol: crate::server::Protocol::Smtp,
                socket: None,
            }),
            Provider::Custom => None,
        }
    }

    /// The SASL mechanism, for an account that sets no `auth`.
    pub fn mechanism(self) -> AuthChoice {
        AuthChoice::Xoauth2
    }

    /// The preset endpoints; `tenant` only matters for Microsoft.
    pub fn endpoints(self, tenant: &str) -> Endpoints {
        match self {
            Provider::Microsoft => {
                let base = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0");
                Endpoints {
                    authorize: Some(format!("{base}/authorize")),
                    token: Some(format!("{base}/token")),
                    device: Some(format!("{base}/devicecode")),
                    // Microsoft has no RFC 7009 endpoint; logout only forgets the tokens.
                    revocation: None,
                }
            }
            Provider::Google => Endpoints {
                authorize: Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
                token: Some("https://oauth2.googleapis.com/token".into()),
                device: Some("https://oauth2.googleapis.com/device/code".into()),
                revocation: Some("https://oauth2.googleapis.com/revoke".into()),
            },
            Provider::Custom => Endpoints::default(),
        }
    }

    pub fn scopes(self) -> Vec<String> {
        match self {
            // Without offline_access Microsoft issues no refresh token.
            Provider::Microsoft => vec![
                "https://outlook.office.com/SMTP.Send".into(),
                "offline_access".into(),
            ],
            Provider::Google => vec!["https://mail.google.com/".into()],
            Provider::Custom => Vec::new(),
        }
    }

    /// Extra authorization request parameters: Google gives a refresh token only when asked
    /// for offline access, and again only with a fresh consent.
    pub fn authorize_params(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::Google => &[("access_type", "offline"), ("prompt", "consent")],
            _ => &[],
        }
    }

    /// The host in the loopback redirect URI: Microsoft's "Mobile and desktop" platform
    /// registers `http://localhost`, Google's desktop clients and RFC 8252 prefer the address.
    pub fn redirect_host(self) -> &'static str {
        match self {
            Provider::Microsoft => "localhost",
            _ => "127.0.0.1",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub authorize: Option<String>,
    pub token: Option<String>,
    pub device: Option<String>,
    pub revocation: Option<String>,
}

/// An endpoint must be https://, except on this machine's loopback (a local broker, tests).
pub fn check_endpoint_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not a URL: {url:?}"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("not a usable endpoint URL: {url:?}"));
    }
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(()),
        "http" if crate::server::is_loopback(host) => Ok(()),
        "http" => Err(format!(
            "{url:?} is not https:// (plain http is allowed only to a loopback address)"
        )),
        _ => Err(format!("not an http(s) URL: {url:?}")),
    }
}

/// The fix for an error from the token endpoint (`invalid_grant` and its provider codes), in
/// one line that ends with what to run.
pub fn grant_hint(provider: Provider, description: &str, relogin: &str) -> String {
    let says = |code: &str| description.contains(code);
    if says("AADSTS700082") {
        format!("the refresh token expired after 90 days without use: {relogin}")
    } else if says("AADSTS50076") || says("AADSTS53003") {
        format!(
            "multi-factor authentication or a Conditional Access policy blocks this sign-in: \
             {relogin} in a browser (the code flow, not --device)"
        )
    } else if says("AADSTS7000112") {
        "the application registration is disabled: register your own app in Entra and set \
         oauth2_client_id (see smtpsend-login(1))"
            .into()
    } else if provider == Provider::Google {
        format!(
            "the grant was revoked or has expired (an app in \"Testing\" status gets refresh \
             tokens that expire after 7 days: publish it in Google Cloud): {relogin}"
        )
    } else {
        format!("the grant is gone (revoked, expired or replaced): {relogin}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_except_on_loopback() {
        assert!(check_endpoint_url("https://login.example.com/token").is_ok());
        assert!(check_endpoint_url("http://127.0.0.1:8080/token").is_ok());
        assert!(check_endpoint_url("http://[::1]:8080/token").is_ok());
        assert!(check_endpoint_url("http://localhost/token").is_ok());
        assert!(check_endpoint_url("http://login.example.com/token").is_err());
        assert!(check_endpoint_url("http://127.0.0.1.example.com/token").is_err());
        assert!(check_endpoint_url("ftp://127.0.0.1/token").is_err());
        assert!(check_endpoint_url("https://user@evil.example/").is_err());
        assert!(check_endpoint_url("token").is_err());
    }

    #[test]
    fn presets_name_the_providers_servers_and_scopes() {
        let ms = Provider::Microsoft.endpoints("organizations");
        assert_eq!(
            ms.token.as_deref(),
            Some("https://login.microsoftonline.com/organizations/oauth2/v2.0/token")
        );
        assert!(ms.revocation.is_none());
        assert_eq!(Provider::Microsoft.server().unwrap().port, 587);
        assert!(
            Provider::Microsoft
                .scopes()
                .contains(&"offline_access".to_string())
        );
        let google = Provider::Google.server().unwrap();
        assert_eq!(
            (google.host.as_str(), google.port, google.security),
            ("smtp.gmail.com", 465, Security::Implicit)
        );
        assert_eq!(Provider::Google.scopes(), ["https://mail.google.com/"]);
        assert!(Provider::Custom.server().is_none());
    }

    #[test]
    fn grant_errors_name_their_fix() {
        let relogin = "run `smtpsend login work`";
        let hint = |p, d| grant_hint(p, d, relogin);
        assert!(
            hint(
                Provider::Microsoft,
                "AADSTS700082: The refresh token has expired"
            )
            .contains("90 days")
        );
        for code in ["AADSTS50076", "AADSTS53003"] {
            let h = hint(Provider::Microsoft, code);
            assert!(h.contains("not --device") && h.contains(relogin), "{h}");
        }
        assert!(hint(Provider::Microsoft, "AADSTS7000112").contains("register your own app"));
        let google = hint(Provider::Google, "Token has been expired or revoked.");
        assert!(
            google.contains("Testing") && google.contains("7 days"),
            "{google}"
        );
        assert!(hint(Provider::Custom, "").ends_with(relogin));
    }
}
