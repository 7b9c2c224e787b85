//! Between resolved settings and a session, both ways: the session's options with the password
//! fetched, the route an outbox entry keeps (everything but the password), and the server
//! settings of a kept route as the configuration says now. `send`, `sendmail`, `batch`,
//! `check`, `login`, `init` and `queue flush` all connect through here; `login` and `init`
//! check a new password here and put it into the keyring.

use crate::cli::{self, ConnectionArgs};
use crate::credentials::{self, KeyringEntry, KeyringProblem, PasswordSource, Secret};
use crate::error::{Error, Kind};
use crate::outbox::Route;
use crate::reach::IpFamily;
use crate::server::AuthChoice;
use crate::settings::{self, Environment, LoginSettings, ServerSettings};
use crate::submit::{self, Transcript};
use crate::trust::TlsOptions;

/// The session's options, the password fetched if there is a login.
pub fn session_options(
    server: &ServerSettings,
    transcript: &mut Transcript,
) -> Result<submit::Options, Error> {
    if let Some(account) = &server.account {
        transcript.info(&format!("account {account}"));
    }
    if let Some(warning) = server
        .tls
        .client_key
        .as_ref()
        .or(server.tls.client_cert.as_ref())
        .and_then(|key| crate::trust::readable_key_warning(key))
    {
        crate::terminal::print_warning(&warning);
    }
    let login = match &server.login {
        Some(login) if login.mechanism == AuthChoice::External => Some(submit::Login {
            user: login.user.clone(),
            mechanism: login.mechanism,
            password: Secret::new(String::new()),
            source: PasswordSource::ClientCertificate,
            refresh: None,
        }),
        Some(login) => {
            let password =
                credentials::password_for(&login.user, &server.endpoint.host, &login.passwords)?;
            password.notes.iter().for_each(|note| transcript.info(note));
            // A built-in OAuth2 token the server refuses is refreshed once and tried again.
            let refresh = login
                .passwords
                .oauth2
                .clone()
                .filter(|_| password.source == PasswordSource::OAuth2)
                .map(|setup| {
                    submit::Refresher(Box::new(move |rejected| setup.refresh_rejected(rejected)))
                });
            Some(submit::Login {
                user: login.user.clone(),
                mechanism: login.mechanism,
                password: password.secret,
                source: password.source,
                refresh,
            })
        }
        None => None,
    };
    Ok(submit::Options {
        endpoint: server.endpoint.clone(),
        ca_file: server.ca_file.clone(),
        tls: server.tls.clone(),
        timeout: server.timeout,
        deadline: server.deadline,
        allow_partial: server.allow_partial,
        require_tls: server.require_tls,
        login,
        progress: false,
        reach: server.reach.clone(),
    })
}

/// How to reach this server again from the outbox: no password, which is fetched again from
/// its source when the entry is flushed.
pub fn kept(server: &ServerSettings, connection: &ConnectionArgs) -> Route {
    Route {
        account: server.account.clone(),
        config: connection.config.clone(),
        server: Some(server.endpoint.clone()),
        ca_file: server.ca_file.clone(),
        tls: server.tls.clone(),
        user: server.login.as_ref().map(|l| l.user.clone()),
        auth: server.login.as_ref().map(|l| l.mechanism),
        timeout: Some(server.timeout.as_secs()),
        require_tls: Some(server.require_tls),
        reach: server.reach.clone(),
    }
}

/// The server settings for a kept route: its account as the configuration says now; for a
/// message sent with no account, the server the flush's environment names (a container's
/// settings are its environment, and may have changed since), else the server it was sent to.
pub fn resolve_kept(route: &Route, env: &Environment) -> Result<ServerSettings, Error> {
    let mut server = resolve_route_server(route, env)?;
    // As it was sent; an entry from before the setting existed follows the account.
    if let Some(require_tls) = route.require_tls {
        server.require_tls = require_tls;
    }
    Ok(server)
}

fn resolve_route_server(route: &Route, env: &Environment) -> Result<ServerSettings, Error> {
    if route.account.is_none() && settings::environment_names_server(env) {
        let connection = cli::connection_from_environment()?;
        return settings::resolve_connection(None, &connection, None, env)
            .map(|(_, server)| server);
    }
    let by_account = route.account.is_some();
    let explicit = |value: Option<String>| if by_account { None } else { value };
    let connection = ConnectionArgs {
        config: route.config.clone(),
        server: explicit(route.server.as_ref().map(|e| e.url())),
        host: None,
        port: None,
        tls: None,
        ca_file: if by_account {
            None
        } else {
            route.ca_file.clone()
        },
        tls_options: tls_flags(&route.tls, by_account),
        timeout: route.timeout,
        deadline: None,
        user: explicit(route.user.clone()),
        auth: if by_account { None } else { route.auth },
        password_command: None,
        reach: if by_account {
            cli::ReachArgs::default()
        } else {
            cli::ReachArgs {
                ehlo_name: route.reach.hello_name.clone(),
                ipv4: route.reach.ip_family == Some(IpFamily::V4),
                ipv6: route.reach.ip_family == Some(IpFamily::V6),
                source_address: route.reach.source_address,
                proxy: route.reach.proxy.clone(),
            }
        },
    };
    settings::resolve_connection(route.account.as_deref(), &connection, None, env)
        .map(|(_, server)| server)
}

/// The TLS flags a kept route stands for; none for an account, whose file says them now, as
/// for its `ca_file`.
fn tls_flags(tls: &TlsOptions, by_account: bool) -> cli::TlsArgs {
    let tls = if by_account {
        TlsOptions::default()
    } else {
        tls.clone()
    };
    cli::TlsArgs {
        tls_pin: tls.pins,
        tls_pin_only: tls.pin_only,
        tls_min: tls.min_version,
        tls_server_name: tls.server_name,
        client_cert: tls.client_cert,
        client_key: tls.client_key,
    }
}

/// Logs in once with a new password or token, so a typo is caught now rather than at 3 a.m.
/// The error says that nothing was stored.
pub fn verify_login(
    server: &ServerSettings,
    login: &LoginSettings,
    secret: &Secret,
) -> Result<(), Error> {
    let options = submit::Options {
        endpoint: server.endpoint.clone(),
        ca_file: server.ca_file.clone(),
        tls: server.tls.clone(),
        timeout: server.timeout,
        deadline: server.deadline,
        allow_partial: false,
        require_tls: false,
        login: Some(submit::Login {
            user: login.user.clone(),
            mechanism: login.mechanism,
            password: secret.clone(),
            source: PasswordSource::Login,
            refresh: None,
        }),
        progress: false,
        reach: server.reach.clone(),
    };
    let outcome = submit::check(&options, "", &[], &mut Transcript::new(false));
    match outcome.failure {
        Some((_, error)) => Err(Error {
            message: format!("{}; nothing was stored", error.message),
            ..error
        }),
        None => Ok(()),
    }
}

/// The keyring entry for `user` at `host`, once it is known that the keyring can be used:
/// asked before any password is, so nobody types one that cannot be kept.
pub fn usable_keyring_entry(host: &str, user: &str) -> Result<KeyringEntry, Error> {
    let entry = KeyringEntry::new(host, user);
    entry.lookup().map_err(keyring_unusable)?;
    Ok(entry)
}

pub fn store_password(entry: &KeyringEntry, secret: &Secret) -> Result<(), Error> {
    entry.set(secret).map_err(keyring_unusable)
}

fn keyring_unusable(problem: KeyringProblem) -> Error {
    Error::new(
        Kind::Unavailable,
        format!("cannot store the password in the keyring: {problem}"),
    )
    .with_hint("set password_command in the account, or SMTPSEND_PASSWORD_FILE, instead")
}
