//! The account keys of the configuration file, by name.

/// The keys of an `[accounts.NAME]` table, and the one place their names are spelled.
/// `AccountSyntax` is checked against [`AccountKey::ALL`] by a test; `config show`, the msmtp
/// import and the manual's test name keys through this, and an unknown key is matched against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKey {
    Extends,
    Server,
    Host,
    Port,
    Tls,
    User,
    From,
    Auth,
    CaFile,
    PasswordCommand,
    Password,
    Oauth2TokenCommand,
    Oauth2Provider,
    Oauth2Tenant,
    Oauth2ClientId,
    Oauth2ClientSecretCommand,
    Oauth2AuthorizeUrl,
    Oauth2TokenUrl,
    Oauth2DeviceAuthorizationUrl,
    Oauth2RevocationUrl,
    Oauth2Scopes,
    Oauth2TokenStore,
    Timeout,
    Aliases,
    LocalDomain,
    Queue,
    Log,
    RequireTls,
}

impl AccountKey {
    /// Every key, in the order of `AccountSyntax`'s fields.
    pub const ALL: [AccountKey; 28] = [
        AccountKey::Extends,
        AccountKey::Server,
        AccountKey::Host,
        AccountKey::Port,
        AccountKey::Tls,
        AccountKey::User,
        AccountKey::From,
        AccountKey::Auth,
        AccountKey::CaFile,
        AccountKey::PasswordCommand,
        AccountKey::Password,
        AccountKey::Oauth2TokenCommand,
        AccountKey::Oauth2Provider,
        AccountKey::Oauth2Tenant,
        AccountKey::Oauth2ClientId,
        AccountKey::Oauth2ClientSecretCommand,
        AccountKey::Oauth2AuthorizeUrl,
        AccountKey::Oauth2TokenUrl,
        AccountKey::Oauth2DeviceAuthorizationUrl,
        AccountKey::Oauth2RevocationUrl,
        AccountKey::Oauth2Scopes,
        AccountKey::Oauth2TokenStore,
        AccountKey::Timeout,
        AccountKey::Aliases,
        AccountKey::LocalDomain,
        AccountKey::Queue,
        AccountKey::Log,
        AccountKey::RequireTls,
    ];

    /// The key as it is written in the file.
    pub fn name(self) -> &'static str {
        match self {
            AccountKey::Extends => "extends",
            AccountKey::Server => "server",
            AccountKey::Host => "host",
            AccountKey::Port => "port",
            AccountKey::Tls => "tls",
            AccountKey::User => "user",
            AccountKey::From => "from",
            AccountKey::Auth => "auth",
            AccountKey::CaFile => "ca_file",
            AccountKey::PasswordCommand => "password_command",
            AccountKey::Password => "password",
            AccountKey::Oauth2TokenCommand => "oauth2_token_command",
            AccountKey::Oauth2Provider => "oauth2_provider",
            AccountKey::Oauth2Tenant => "oauth2_tenant",
            AccountKey::Oauth2ClientId => "oauth2_client_id",
            AccountKey::Oauth2ClientSecretCommand => "oauth2_client_secret_command",
            AccountKey::Oauth2AuthorizeUrl => "oauth2_authorize_url",
            AccountKey::Oauth2TokenUrl => "oauth2_token_url",
            AccountKey::Oauth2DeviceAuthorizationUrl => "oauth2_device_authorization_url",
            AccountKey::Oauth2RevocationUrl => "oauth2_revocation_url",
            AccountKey::Oauth2Scopes => "oauth2_scopes",
            AccountKey::Oauth2TokenStore => "oauth2_token_store",
            AccountKey::Timeout => "timeout",
            AccountKey::Aliases => "aliases",
            AccountKey::LocalDomain => "local_domain",
            AccountKey::Queue => "queue",
            AccountKey::Log => "log",
            AccountKey::RequireTls => "require_tls",
        }
    }
}
