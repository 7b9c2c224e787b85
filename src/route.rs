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
use crate::settings::{self, Environment, LoginSettings, ServerSettings};
use crate::submit::{self, Transcript};

/// The session's options, the password fetched if there is a login.
pub fn session_options(
    server: &ServerSettings,
    transcript: &mut Transcript,
) -> Result<submit::Options, Error> {
    if let Some(account) = &server.account {
        transcript.info(&format!("account {account}"));
    }
    let login = match &server.login {
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
        timeout: server.timeout,
        deadline: server.deadline,
        allow_partial: server.allow_partial,
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
        user: server.login.as_ref().map(|l| l.user.clone()),
        auth: server.login.as_ref().map(|l| l.mechanism),
        timeout: Some(server.timeout.as_secs()),
        reach: server.reach.clone(),
    }
}

/// The server settings for a kept route: its account as the configuration says now; for a
/// message sent with no account, the server the flush's environment names (a container's
/// settings are its environment, and may have changed since), else the server it was sent to.
pub fn resolve_kept(route: &Route, env: &Environment) -> Result<ServerSettings, Error> {
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
            }
        },
    };
    settings::resolve_connection(route.account.as_deref(), &connection, None, env)
        .map(|(_, server)| server)
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
        timeout: server.timeout,
        deadline: server.deadline,
        allow_partial: false,
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
