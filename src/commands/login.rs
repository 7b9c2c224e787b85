//! `smtpsend login` and `smtpsend logout`: put a user's password into the OS keyring, checked
//! with the server first, and take it out again. The entry is the one `credentials` looks up
//! when sending, so after a login no password is needed anywhere else.

use crate::cli::{LoginArgs, LogoutArgs};
use crate::credentials::{self, KeyringEntry};
use crate::error::{Error, Kind};
use crate::route;
use crate::settings::{self, Environment, LoginSettings, ServerSettings};
use crate::terminal::outln;

pub fn login(args: &LoginArgs, env: &Environment) -> Result<(), Error> {
    let (_, server) =
        settings::resolve_connection(args.account.as_deref(), &args.connection, None, env)?;
    let login = user_of(&server)?;
    if let Some(oauth2) = &login.passwords.oauth2 {
        if args.password_stdin {
            return Err(Error::usage(
                "--password-stdin: this account signs in with OAuth2 (oauth2_provider), not a password",
            ));
        }
        return oauth2_login(args, &server, login, oauth2);
    }
    if args.device || args.no_browser {
        return Err(Error::usage(format!(
            "--{}: only for an account with oauth2_provider; this one takes a password",
            if args.device { "device" } else { "no-browser" }
        )));
    }
    let secret = if args.password_stdin {
        credentials::read_stdin_password()?
    } else if env.can_prompt {
        let prompt = format!("Password for {} at {}: ", login.user, server.endpoint.host);
        credentials::prompt_password(&prompt)?
    } else {
        return Err(Error::config("no terminal to ask for the password on")
            .with_hint("pipe it in with --password-stdin"));
    };
    if secret.expose().is_empty() {
        return Err(Error::usage("the password is empty"));
    }
    let entry = route::usable_keyring_entry(&server.endpoint.host, &login.user)?;
    if !args.no_verify {
        route::verify_login(&server, login, &secret)?;
    }
    route::store_password(&entry, &secret)?;
    outln!(
        "stored the password for {} at {} in the keyring (service {:?}, user {:?})",
        login.user,
        server.endpoint.host,
        entry.service,
        entry.user
    );
    Ok(())
}

pub fn logout(args: &LogoutArgs, env: &Environment) -> Result<(), Error> {
    let (_, server) =
        settings::resolve_connection(args.account.as_deref(), &args.connection, None, env)?;
    let login = user_of(&server)?;
    if let Some(oauth2) = &login.passwords.oauth2 {
        println!("{}", oauth2.logout()?);
        return Ok(());
    }
    let entry = KeyringEntry::new(&server.endpoint.host, &login.user);
    let removed = entry.delete().map_err(|problem| {
        Error::new(
            Kind::Unavailable,
            format!("cannot remove the password from the keyring: {problem}"),
        )
    })?;
    if removed {
        outln!(
            "removed the password for {} at {} from the keyring",
            login.user,
            server.endpoint.host
        );
    } else {
        outln!(
            "no password was stored for {} at {}",
            login.user,
            server.endpoint.host
        );
    }
    Ok(())
}

/// `login` for an account with `oauth2_provider`: the flow, the tokens stored, then one AUTH
/// with the new access token unless --no-verify.
fn oauth2_login(
    args: &LoginArgs,
    server: &ServerSettings,
    login: &LoginSettings,
    oauth2: &crate::credentials::oauth2::Setup,
) -> Result<(), Error> {
    use crate::credentials::oauth2::LoginMode;
    let mode = match (args.device, args.no_browser) {
        (true, _) => LoginMode::Device,
        (false, true) => LoginMode::Paste,
        (false, false) => LoginMode::Browser,
    };
    let (token, stored) = oauth2.login(mode)?;
    println!(
        "signed in as {}; the OAuth2 tokens are in {stored}",
        login.user
    );
    if !args.no_verify {
        route::verify_login(server, login, &token).map_err(|err| Error {
            message: err.message.replace("; nothing was stored", ""),
            ..err
        })?;
        println!(
            "{} accepted the token for {}",
            server.endpoint.host, login.user
        );
    }
    Ok(())
}

fn user_of(server: &ServerSettings) -> Result<&LoginSettings, Error> {
    server.login.as_ref().ok_or_else(|| {
        Error::config("no user name to log in as")
            .with_hint("set `user` in the account, or give --user or SMTPSEND_USER")
    })
}
