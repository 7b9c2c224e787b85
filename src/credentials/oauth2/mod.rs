//! OAuth2 built in: `smtpsend login` runs the authorization code flow with PKCE on a loopback
//! redirect, or the device authorization grant, stores the grant's tokens, and every send then
//! uses the access token until a minute before it expires, refreshing it under a lock so that
//! concurrent processes never lose a rotated refresh token.
//!
//! The API the rest of smtpsend uses is small:
//! - `AccountKeys`: the `oauth2_*` keys of an account, as the configuration file gives them;
//! - `Setup::new`: those keys with the `SMTPSEND_OAUTH2_*` variables over them, for one user;
//! - `Setup::access_token` (sending), `Setup::refresh_rejected` (the server refused a token),
//!   `Setup::login`, `Setup::logout`, `Setup::status`.
//!
//! `oauth2_token_command` (an external broker) is separate and unchanged: see `credentials`.

mod flows;
mod http;
mod keys;
pub mod providers;
mod sign_in;
mod store;

use std::path::PathBuf;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointMaybeSet, EndpointNotSet,
    RefreshToken, TokenResponse, TokenUrl,
};

use crate::clock;
use crate::credentials::{KeyringEntry, Secret};
use crate::dirs;
use crate::error::{Error, Kind};
pub use keys::AccountKeys;
pub use providers::Provider;
use store::{Lock, Store, Tokens};

/// A token this close to its expiry is refreshed before use.
const REFRESH_MARGIN_SECS: u64 = 60;

/// How long a process waits for another one's refresh.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// How `login` should get the authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMode {
    /// The code flow, the browser opened here.
    Browser,
    /// The code flow, the redirected address pasted back.
    Paste,
    /// The device authorization grant.
    Device,
}

/// One user's OAuth2 setup: the account's keys with the environment over them. Validated when
/// used, so an account with a mistake in it does not stop commands that do not need it.
#[derive(Debug, Clone)]
pub struct Setup {
    keys: AccountKeys,
    user: String,
    account: Option<String>,
    state_dir: Option<PathBuf>,
    timeout: Duration,
}

/// Everything a request needs, validated.
struct Resolved {
    provider: Provider,
    client_id: String,
    secret_command: Option<String>,
    authorize_url: Option<String>,
    token_url: String,
    device_url: Option<String>,
    revocation_url: Option<String>,
    scopes: Vec<String>,
    store: Store,
    lock: PathBuf,
}

type Client =
    BasicClient<EndpointMaybeSet, EndpointMaybeSet, EndpointNotSet, EndpointNotSet, EndpointSet>;
use oauth2::EndpointSet;

impl Setup {
    /// The setup for `user`, when the account or `SMTPSEND_OAUTH2_PROVIDER` names a provider.
    pub fn new(
        keys: &AccountKeys,
        account: Option<&str>,
        user: &str,
        var: &dyn Fn(&str) -> Option<String>,
        timeout: Duration,
    ) -> Option<Setup> {
        let env = |name: &str| var(&format!("SMTPSEND_OAUTH2_{name}")).filter(|v| !v.is_empty());
        let keys = AccountKeys {
            provider: env("PROVIDER"),
            tenant: env("TENANT"),
            client_id: env("CLIENT_ID"),
            client_secret_command: env("CLIENT_SECRET_COMMAND"),
            authorize_url: env("AUTHORIZE_URL"),
            token_url: env("TOKEN_URL"),
            device_authorization_url: env("DEVICE_AUTHORIZATION_URL"),
            revocation_url: env("REVOCATION_URL"),
            scopes: env("SCOPES").map(|s| s.split_whitespace().map(String::from).collect()),
            token_store: env("TOKEN_STORE"),
        }
        .or(keys.clone());
        keys.provider.as_ref()?;
        let state_dir = dirs::state_home(var).map(|dir| dir.join("smtpsend/oauth2"));
        Some(Setup {
            keys,
            user: user.to_string(),
            account: account.map(String::from),
            state_dir,
            timeout,
        })
    }

    /// What to run to sign in again.
    fn relogin(&self) -> String {
        match &self.account {
            Some(account) => format!("run `smtpsend login {account}`"),
            None => "run `smtpsend login`".into(),
        }
    }

    fn resolve(&self) -> Result<Resolved, Error> {
        let keys = &self.keys;
        keys.check()
            .map_err(|(key, reason)| Error::config(format!("{key}: {reason}")))?;
        let provider = keys.provider().expect("Setup::new requires a provider");
        let client_id = keys.client_id.clone().ok_or_else(|| {
            Error::config("no oauth2_client_id for this account").with_hint(
                "register an application with the provider (smtpsend-login(1) says how) and \
                 set its client ID as oauth2_client_id",
            )
        })?;
        let tenant = keys.tenant.as_deref().unwrap_or("common");
        let preset = provider.endpoints(tenant);
        let token_url = keys.token_url.clone().or(preset.token).ok_or_else(|| {
            Error::config("no oauth2_token_url for this account")
                .with_hint("oauth2_provider = \"custom\" needs oauth2_token_url")
        })?;
        let key = format!("{} {client_id} {token_url}", self.user);
        let store = match keys.token_store.as_deref() {
            Some("file") => Store::File(self.state_path(&key, "json")?),
            _ => Store::Keyring(KeyringEntry {
                service: format!("smtpsend-oauth2-grant:{token_url}"),
                user: format!("{} ({client_id})", self.user),
            }),
        };
        Ok(Resolved {
            provider,
            client_id,
            secret_command: keys.client_secret_command.clone(),
            authorize_url: keys.authorize_url.clone().or(preset.authorize),
            token_url,
            device_url: keys.device_authorization_url.clone().or(preset.device),
            revocation_url: keys.revocation_url.clone().or(preset.revocation),
            scopes: keys.scopes.clone().unwrap_or_else(|| provider.scopes()),
            store,
            lock: self.state_path(&key, "lock")?,
        })
    }

    fn state_path(&self, key: &str, extension: &str) -> Result<PathBuf, Error> {
        let dir = self
            .state_dir
            .as_ref()
            .ok_or_else(|| Error::config("no HOME or XDG_STATE_HOME for the OAuth2 token store"))?;
        let readable: String = self
            .user
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        Ok(dir.join(format!("{readable}-{:016x}.{extension}", fnv1a(key))))
    }

    fn http(&self) -> Result<http::Http, Error> {
        Ok(http::Http::new(
            crate::trust::tls_config(None)?,
            self.timeout,
        ))
    }

    /// An access token to send with: the stored one while it has a minute left, else a fresh
    /// one from the refresh token.
    /// Also says, for the transcript, when it refreshed.
    pub fn access_token(&self) -> Result<(Secret, Option<String>), Error> {
        let r = self.resolve()?;
        let tokens = r.store.load()?.ok_or_else(|| self.not_signed_in())?;
        if let Some(token) = usable(&tokens, clock::unix_now()) {
            return Ok((token, None));
        }
        let _lock = Lock::acquire(&r.lock, LOCK_PATIENCE)?;
        // Another process may have refreshed while this one waited.
        let tokens = r.store.load()?.ok_or_else(|| self.not_signed_in())?;
        if let Some(token) = usable(&tokens, clock::unix_now()) {
            return Ok((
                token,
                Some("OAuth2: another smtpsend had just refreshed the token".into()),
            ));
        }
        let (token, note) = self.refresh(&r, &tokens)?;
        Ok((token, Some(note)))
    }

    /// A new access token after the server refused `rejected`; the stored one if another
    /// process has replaced it since.
    pub fn refresh_rejected(&self, rejected: &Secret) -> Result<Secret, Error> {
        let r = self.resolve()?;
        let _lock = Lock::acquire(&r.lock, LOCK_PATIENCE)?;
        let tokens = r.store.load()?.ok_or_else(|| self.not_signed_in())?;
        if let Some(token) = usable(&tokens, clock::unix_now())
            && token != *rejected
        {
            return Ok(token);
        }
        self.refresh(&r, &tokens).map(|(token, _)| token)
    }

    /// Under the lock: the refresh request, the new tokens stored before the access token is
    /// used (a rotated refresh token must never exist only in memory).
    fn refresh(&self, r: &Resolved, tokens: &Tokens) -> Result<(Secret, String), Error> {
        let refresh_token = tokens.refresh_token.as_ref().ok_or_else(|| {
            Error::new(
                Kind::AuthRefused,
                "the OAuth2 access token has expired and there is no refresh token",
            )
            .with_hint(format!(
                "{} (the grant did not include offline access)",
                self.relogin()
            ))
        })?;
        let client = self.client(r, None)?;
        let http = self.http()?;
        let response = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
            .request(&http)
            .map_err(|err| self.token_error(r, err, "refreshing the access token"))?;
        let fresh = tokens_from(&response, clock::unix_now(), tokens.refresh_token.clone());
        r.store.save(&fresh)?;
        let note = format!(
            "OAuth2: refreshed the access token at {}{}{}",
            host_of(&r.token_url),
            fresh.expires_at.map_or_else(String::new, |at| format!(
                ", valid until {}",
                clock::utc_minute(at)
            )),
            if fresh.refresh_token == tokens.refresh_token {
                ""
            } else {
                "; the rotated refresh token is stored"
            }
        );
        Ok((
            fresh
                .access_token
                .expect("a token response has an access token"),
            note,
        ))
    }

    fn client(&self, r: &Resolved, redirect: Option<String>) -> Result<Client, Error> {
        let bad = |what: &str, err: oauth2::url::ParseError| {
            Error::config(format!("{what}: not a URL: {err}"))
        };
        let mut client = BasicClient::new(ClientId::new(r.client_id.clone()))
            .set_token_uri(TokenUrl::new(r.token_url.clone()).map_err(|e| bad("token URL", e))?)
            .set_auth_uri_option(
                r.authorize_url
                    .clone()
                    .map(AuthUrl::new)
                    .transpose()
                    .map_err(|e| bad("authorize URL", e))?,
            )
            .set_device_authorization_url_option(
                r.device_url
                    .clone()
                    .map(DeviceAuthorizationUrl::new)
                    .transpose()
                    .map_err(|e| bad("device authorization URL", e))?,
            );
        if let Some(secret) = self.client_secret(r)? {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
            // Installed-app secrets go in the body, where Google and Microsoft both take them.
            client = client.set_auth_type(oauth2::AuthType::RequestBody);
        }
        if let Some(redirect) = redirect {
            client = client.set_redirect_uri(
                oauth2::RedirectUrl::new(redirect).map_err(|e| bad("redirect URI", e))?,
            );
        }
        Ok(client)
    }

    fn client_secret(&self, r: &Resolved) -> Result<Option<Secret>, Error> {
        r.secret_command
            .as_ref()
            .map(|command| {
                crate::credentials::run_password_command(
                    command,
                    "oauth2_client_secret_command",
                    self.timeout,
                )
            })
            .transpose()
    }

    fn not_signed_in(&self) -> Error {
        Error::new(
            Kind::Config,
            format!("no OAuth2 sign-in stored for {}", self.user),
        )
        .with_hint(self.relogin())
    }

    /// A token endpoint's refusal or silence as an error with its fix.
    fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
        &self,
        r: &Resolved,
        err: oauth2::RequestTokenError<RE, T>,
        doing: &str,
    ) -> Error {
        use oauth2::RequestTokenError as E;
        match err {
            E::ServerResponse(response) => {
                let json = serde_json::to_value(&response).unwrap_or_default();
                let code = json
                    .get("error")
                    .and_then(|v| v.as_str())
                    .unwrap_or("error");
                let description = json
                    .get("error_description")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let said = if description.is_empty() {
                    code.to_string()
                } else {
                    format!("{code}: {}", description.lines().next().unwrap_or_default())
                };
                let message = format!("{doing}: the authorization server said {said}");
                match code {
                    "invalid_grant" => Error::new(Kind::AuthRefused, message).with_hint(
                        providers::grant_hint(r.provider, description, &self.relogin()),
                    ),
                    "invalid_client" | "unauthorized_client" => Error::new(Kind::Config, message)
                        .with_hint(
                            "check oauth2_client_id (and oauth2_client_secret_command) against \
                             the app registration",
                        ),
                    "invalid_scope" => Error::new(Kind::Config, message)
                        .with_hint("check oauth2_scopes against what the provider offers"),
                    "temporarily_unavailable" => Error::new(Kind::Temporary, message),
                    _ => Error::new(Kind::AuthRefused, message).with_hint(providers::grant_hint(
                        r.provider,
                        description,
                        &self.relogin(),
                    )),
                }
            }
            E::Request(err) => Error::new(
                Kind::Temporary,
                format!("{doing}: no answer from {}: {err}", host_of(&r.token_url)),
            ),
            E::Parse(_, body) => Error::new(
                Kind::Protocol,
                format!(
                    "{doing}: {} answered something that is not an OAuth2 response ({} bytes)",
                    host_of(&r.token_url),
                    body.len()
                ),
            ),
            E::Other(what) => Error::new(Kind::Protocol, format!("{doing}: {what}")),
        }
    }
}

/// The stored access token, while it has more than the margin left.
fn usable(tokens: &Tokens, now: u64) -> Option<Secret> {
    let token = tokens.access_token.clone()?;
    match tokens.expires_at {
        Some(at) if at <= now + REFRESH_MARGIN_SECS => None,
        _ => Some(token),
    }
}

/// The tokens of a response; a server that does not rotate keeps the old refresh token.
fn tokens_from(
    response: &oauth2::basic::BasicTokenResponse,
    now: u64,
    previous_refresh: Option<Secret>,
) -> Tokens {
    Tokens {
        access_token: Some(Secret::new(response.access_token().secret().clone())),
        expires_at: response.expires_in().map(|d| now + d.as_secs()),
        refresh_token: response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone()))
            .or(previous_refresh),
    }
}

fn host_of(url: &str) -> String {
    oauth2::url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(port) => format!("{h}:{port}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| "the token endpoint".into())
}

/// A stable name for a key (FNV-1a), for file names.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
