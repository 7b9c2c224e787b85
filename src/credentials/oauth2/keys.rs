//! The `oauth2_*` keys of an account as the configuration file gives them, checked for syntax
//! and merged along `extends`; the provider's preset server and mechanism.

use super::Provider;
use crate::server::{AuthChoice, Endpoint};

/// The `oauth2_*` keys of one account, unvalidated beyond their syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountKeys {
    pub provider: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_command: Option<String>,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub device_authorization_url: Option<String>,
    pub revocation_url: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub token_store: Option<String>,
}

impl AccountKeys {
    /// The first key whose value is wrong, and why; for the configuration file's errors.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(provider) = &self.provider
            && Provider::parse(provider).is_none()
        {
            return Err((
                "oauth2_provider",
                format!("expected \"microsoft\", \"google\" or \"custom\", got {provider:?}"),
            ));
        }
        if let Some(store) = &self.token_store
            && !matches!(store.as_str(), "keyring" | "file")
        {
            return Err((
                "oauth2_token_store",
                format!("expected \"keyring\" or \"file\", got {store:?}"),
            ));
        }
        for (key, url) in [
            ("oauth2_authorize_url", &self.authorize_url),
            ("oauth2_token_url", &self.token_url),
            (
                "oauth2_device_authorization_url",
                &self.device_authorization_url,
            ),
            ("oauth2_revocation_url", &self.revocation_url),
        ] {
            if let Some(url) = url {
                super::providers::check_endpoint_url(url).map_err(|reason| (key, reason))?;
            }
        }
        Ok(())
    }

    pub(super) fn provider(&self) -> Option<Provider> {
        self.provider.as_deref().and_then(Provider::parse)
    }

    /// The provider's submission server, for an account that names none.
    pub fn preset_server(&self) -> Option<Endpoint> {
        self.provider()?.server()
    }

    /// The provider's mechanism, for an account that sets no `auth`.
    pub fn preset_mechanism(&self) -> Option<AuthChoice> {
        Some(self.provider()?.mechanism())
    }

    /// `other`'s keys where this one has none (account inheritance).
    pub fn or(self, base: AccountKeys) -> AccountKeys {
        AccountKeys {
            provider: self.provider.or(base.provider),
            tenant: self.tenant.or(base.tenant),
            client_id: self.client_id.or(base.client_id),
            client_secret_command: self.client_secret_command.or(base.client_secret_command),
            authorize_url: self.authorize_url.or(base.authorize_url),
            token_url: self.token_url.or(base.token_url),
            device_authorization_url: self
                .device_authorization_url
                .or(base.device_authorization_url),
            revocation_url: self.revocation_url.or(base.revocation_url),
            scopes: self.scopes.or(base.scopes),
            token_store: self.token_store.or(base.token_store),
        }
    }
}
