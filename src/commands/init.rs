//! `smtpsend init [ADDRESS]`: an account from an e-mail address. It finds the submission
//! server (`discover`), checks it before asking for anything (TLS, EHLO, the AUTH offered),
//! has a server outside the address's domain confirmed, gets the secret (a password checked
//! with the server and stored in the keyring, or the built-in OAuth2 sign-in), and only then
//! adds the account to the configuration file (`config::edit`). Nothing is written when a step
//! fails. Without a terminal it asks nothing: what it would have asked must be in the flags.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::address::parse_mailbox;
use crate::cli::InitArgs;
use crate::config::edit::{self, NewAccount};
use crate::config::{self, AccountKey};
use crate::credentials::oauth2::{AccountKeys, LoginMode, Setup};
use crate::credentials::{self, PasswordSources};
use crate::discover::providers::{self, Secret, User};
use crate::discover::{self, Candidate};
use crate::error::{Error, Kind};
use crate::route;
use crate::server::{AuthChoice, Endpoint, Security, is_loopback};
use crate::settings::{Environment, LoginSettings, ServerSettings};
use crate::submit::{self, Delivery, Transcript};
use crate::terminal::{escape, outln, print_warning};

/// Each DNS answer, HTTPS response and SMTP reply: a search must not sit for minutes.
const DEFAULT_TIMEOUT_SECS: u64 = 15;

const SCRIPTED: &str = "smtpsend init ADDRESS --server URL --user NAME --no-login";

pub fn run(args: &InitArgs, env: &Environment) -> Result<(), Error> {
    let interactive = env.stdin_is_terminal && env.can_prompt && !in_ci(env);
    let given = match &args.address {
        Some(address) => address.clone(),
        None if interactive => ask("E-mail address: ")?,
        None => {
            return Err(
                Error::usage("no address to set up, and no terminal to ask on")
                    .with_hint(format!("for scripts: {SCRIPTED}")),
            );
        }
    };
    let address = parse_mailbox(&given, "ADDRESS")?.address;
    let domain = address
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_ascii_lowercase())
        .ok_or_else(|| Error::usage(format!("ADDRESS: no domain in {address:?}")))?;
    if !interactive && !args.no_login {
        return Err(Error::usage(
            "no terminal to ask for the password or to sign in on (or CI is set)",
        )
        .with_hint(format!(
            "give --no-login to write the account only, then `smtpsend login` where there is \
             a terminal; for scripts: {SCRIPTED}"
        )));
    }
    let name = match &args.name {
        Some(name) => valid_name(name)?,
        None => name_from(&domain),
    };
    let path = match &args.config {
        Some(path) => path.clone(),
        None => config::default_path(env.var).ok_or_else(|| {
            Error::config("no HOME or XDG_CONFIG_HOME for the configuration file")
                .with_hint("give --config PATH")
        })?,
    };
    edit::check_free(&path, &name).map_err(|err| match &args.name {
        None if err.kind == Kind::Usage => Error {
            hint: Some(format!(
                "name it with --name NAME (the default was {name:?})"
            )),
            ..err
        },
        _ => err,
    })?;
    let timeout = Duration::from_secs(args.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS));

    let candidates = candidates(args, &address, &domain, timeout)?;
    // A service that gives each account its own user name: asked (or refused) before anything
    // connects, since no server can tell it.
    let given_user = match (&args.user, candidates[0].preset.map(|p| p.user)) {
        (Some(user), _) => Some(user.clone()),
        (None, Some(User::Given(what))) if interactive => {
            Some(ask(&format!("User name ({what}): "))?)
        }
        (None, Some(User::Given(what))) => {
            return Err(Error::usage(format!("no user name: give --user ({what})")));
        }
        (None, _) => None,
    };
    let (candidate, probed) = probe_first(candidates, args.ca_file.as_ref(), timeout)?;
    if candidate.foreign {
        confirm_foreign(&candidate, &domain, args.yes, interactive)?;
    }
    let user = given_user
        .or_else(|| candidate.user.clone())
        .unwrap_or_else(|| address.clone());
    if user.is_empty() {
        return Err(Error::usage("the user name is empty"));
    }
    let secret = candidate.preset.map_or(Secret::Password, |p| p.secret);
    let mut keys = vec![
        (AccountKey::Server, candidate.endpoint.url()),
        (AccountKey::User, user.clone()),
        (AccountKey::From, address.clone()),
    ];
    let client_id = args
        .oauth2_client_id
        .clone()
        .or_else(|| (env.var)("SMTPSEND_OAUTH2_CLIENT_ID").filter(|v| !v.is_empty()));
    if let Secret::OAuth2(provider) = secret {
        keys.push((AccountKey::Oauth2Provider, provider.name().to_string()));
        if let Some(id) = &args.oauth2_client_id {
            keys.push((AccountKey::Oauth2ClientId, id.clone()));
        }
    }
    let account = NewAccount {
        name: name.clone(),
        comment: Some(format!("{address}: found through {}", candidate.source)),
        keys,
    };
    let server = server_settings(&candidate.endpoint, args, timeout, &name, &user, secret);
    let login = server.login.as_ref().expect("a login was set");
    if args.no_login {
        write(&path, &account)?;
        outln!("next: `smtpsend login {name}` stores the secret, `smtpsend check {name}` tries it");
        return Ok(());
    }
    match secret {
        Secret::OAuth2(provider) => {
            let Some(client_id) = client_id else {
                write(&path, &account)?;
                outln!(
                    "next: register an application with {} (smtpsend-login(1) says how), set \
                     oauth2_client_id in [accounts.{name}], then run `smtpsend login {name}`",
                    provider.name()
                );
                return Ok(());
            };
            let keys = AccountKeys {
                provider: Some(provider.name().to_string()),
                client_id: Some(client_id),
                ..AccountKeys::default()
            };
            let setup = Setup::new(&keys, Some(&name), &user, env.var, timeout)
                .expect("a provider was given");
            let (token, stored) = setup.login(LoginMode::Browser)?;
            route::verify_login(&server, login, &token)?;
            outln!(
                "signed in as {}; the OAuth2 tokens are in {stored}",
                escape(&user)
            );
        }
        Secret::Password | Secret::AppPassword(_) | Secret::ApiKey(_) => {
            if probed.auth.is_none() {
                print_warning(&format!(
                    "{} offers no AUTH; the password may not be usable",
                    candidate.endpoint.host
                ));
            }
            let entry = route::usable_keyring_entry(&candidate.endpoint.host, &user)?;
            if let Secret::AppPassword(what) | Secret::ApiKey(what) = secret {
                eprintln!("smtpsend: this one takes {what}");
            }
            let prompt = format!(
                "Password for {} at {}: ",
                escape(&user),
                escape(&candidate.endpoint.host)
            );
            let password = credentials::prompt_password(&prompt)?;
            if password.expose().is_empty() {
                return Err(Error::usage("the password is empty; nothing was written"));
            }
            route::verify_login(&server, login, &password)?;
            route::store_password(&entry, &password)?;
            outln!(
                "{} accepted the password; it is in the keyring (service {:?}, user {:?})",
                escape(&candidate.endpoint.host),
                escape(&entry.service),
                escape(&entry.user)
            );
        }
    }
    write(&path, &account)
}

/// Where to look: --server, --provider, else the search.
fn candidates(
    args: &InitArgs,
    address: &str,
    domain: &str,
    timeout: Duration,
) -> Result<Vec<Candidate>, Error> {
    if let Some(url) = &args.server {
        let endpoint = Endpoint::parse_url(url, "--server")?;
        if endpoint.security == Security::Plain && !is_loopback(&endpoint.host) {
            return Err(Error::usage(format!(
                "--server: {} without TLS; init sets up only encrypted submission",
                endpoint.host
            ))
            .with_hint("smtp:// (STARTTLS) or smtps:// (implicit TLS)"));
        }
        return Ok(vec![Candidate {
            endpoint,
            source: "--server".into(),
            user: Some(address.to_string()),
            preset: None,
            foreign: false,
        }]);
    }
    if let Some(name) = &args.provider {
        let preset = providers::by_name(name).ok_or_else(|| {
            Error::usage(format!("--provider: no provider {name:?}"))
                .with_hint(format!("one of {}", providers::names()))
        })?;
        return Ok(vec![discover::from_preset(
            preset,
            args.region.as_deref(),
            address,
        )?]);
    }
    let found = discover::search(address, domain, args.ca_file.as_ref(), timeout)?;
    found.warnings.iter().for_each(|w| print_warning(w));
    if found.candidates.is_empty() {
        return Err(Error::new(
            Kind::Unavailable,
            format!(
                "found no submission server for {domain}; tried {}",
                found.tried.join("; ")
            ),
        )
        .with_hint("give the server with --server smtps://HOST or smtp://HOST (STARTTLS)"));
    }
    Ok(found.candidates)
}

/// What the probe of a server showed.
struct Probed {
    /// The mechanisms of the AUTH extension, when offered.
    auth: Option<String>,
}

/// Connects to each candidate in turn, sending nothing, until one answers with TLS: shown in
/// one line of what was found and one of what it offers.
fn probe_first(
    candidates: Vec<Candidate>,
    ca_file: Option<&PathBuf>,
    timeout: Duration,
) -> Result<(Candidate, Probed), Error> {
    let mut last = None;
    let count = candidates.len();
    for (index, candidate) in candidates.into_iter().enumerate() {
        let endpoint = &candidate.endpoint;
        outln!(
            "found {}:{} ({}) through {}",
            escape(&endpoint.host),
            endpoint.port,
            discover::security_words(endpoint.security),
            escape(&candidate.source)
        );
        let options = submit::Options {
            endpoint: endpoint.clone(),
            ca_file: ca_file.cloned(),
            tls: Default::default(),
            timeout,
            deadline: Some(timeout * 4),
            allow_partial: false,
            require_tls: false,
            login: None,
            progress: false,
            reach: Default::default(),
        };
        let outcome = submit::check(&options, "", &[], &mut Transcript::new(false));
        match outcome.failure {
            None => {
                let probed = describe(&outcome);
                if let Some(note) = candidate.preset.and_then(|p| p.note) {
                    outln!("  note: {note}");
                }
                return Ok((candidate, probed));
            }
            Some((step, error)) if index + 1 < count => {
                print_warning(&format!(
                    "{}: failed at {}: {}",
                    endpoint.host,
                    step.describe(),
                    error.message
                ));
                last = Some(error);
            }
            Some((_, error)) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| Error::new(Kind::Unavailable, "no server to try")))
}

fn describe(outcome: &Delivery) -> Probed {
    let auth = outcome
        .extensions
        .iter()
        .find_map(|e| e.strip_prefix("AUTH ").or_else(|| e.strip_prefix("AUTH=")))
        .map(str::to_string);
    let tls = outcome
        .tls
        .as_ref()
        .map_or_else(|| "no TLS".to_string(), |tls| tls.version.clone());
    let offers = match &auth {
        Some(mechanisms) => format!("AUTH {mechanisms}"),
        None => "no AUTH offered".into(),
    };
    outln!(
        "  {}, certificate verified; {}",
        escape(&tls),
        escape(&offers)
    );
    Probed { auth }
}

/// A server outside the address's domain is someone else's: it is taken only when the user
/// says so, since whoever controls the DNS or the document could have named it.
fn confirm_foreign(
    candidate: &Candidate,
    domain: &str,
    yes: bool,
    interactive: bool,
) -> Result<(), Error> {
    print_warning(&format!(
        "{} is not in {domain}: mail from this account would be submitted to another domain's \
         server (named by {})",
        candidate.endpoint.host, candidate.source
    ));
    if yes {
        return Ok(());
    }
    if !interactive {
        return Err(Error::usage(format!(
            "{} is outside {domain}; not taken without confirmation",
            candidate.endpoint.host
        ))
        .with_hint("give --yes to take it, or --server to name the server yourself"));
    }
    let answer = ask(&format!(
        "Use {} for {domain}? [y/N] ",
        escape(&candidate.endpoint.host)
    ))?;
    if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(Error::usage("not confirmed; nothing was written"))
    }
}

fn server_settings(
    endpoint: &Endpoint,
    args: &InitArgs,
    timeout: Duration,
    name: &str,
    user: &str,
    secret: Secret,
) -> ServerSettings {
    ServerSettings {
        account: Some(name.to_string()),
        endpoint: endpoint.clone(),
        ca_file: args.ca_file.clone(),
        tls: Default::default(),
        timeout,
        deadline: None,
        allow_partial: false,
        require_tls: false,
        queue: None,
        log: None,
        login: Some(LoginSettings {
            user: user.to_string(),
            mechanism: match secret {
                Secret::OAuth2(provider) => provider.mechanism(),
                _ => AuthChoice::Auto,
            },
            passwords: PasswordSources::default(),
        }),
        reach: Default::default(),
    }
}

fn write(path: &std::path::Path, account: &NewAccount) -> Result<(), Error> {
    let added = edit::add_account(path, account)?;
    outln!(
        "{} {} with the account {}{}",
        if added.created { "created" } else { "added to" },
        added.path.display(),
        account.name,
        if added.made_default {
            " (the default account)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The account name a domain gives: its first label, as a bare TOML key.
fn name_from(domain: &str) -> String {
    let label: String = domain
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if label.is_empty() {
        "mail".into()
    } else {
        label.to_ascii_lowercase()
    }
}

fn valid_name(name: &str) -> Result<String, Error> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name.to_string())
    } else {
        Err(Error::usage(format!(
            "--name: {name:?} is not an account name (letters, digits, - and _)"
        )))
    }
}

/// Under CI there is nobody to answer, whatever the terminal says.
fn in_ci(env: &Environment) -> bool {
    (env.var)("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// One line typed on the terminal.
fn ask(prompt: &str) -> Result<String, Error> {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(4096)
        .read_line(&mut line)
        .map_err(|err| Error::new(Kind::NoInput, format!("cannot read the answer: {err}")))?;
    Ok(line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_domain_and_must_be_bare_keys() {
        assert_eq!(name_from("example.com"), "example");
        assert_eq!(name_from("Mail-Host.example.org"), "mail-host");
        assert_eq!(name_from("..."), "mail");
        assert!(valid_name("work_2").is_ok());
        assert!(valid_name("a.b").is_err());
        assert!(valid_name("").is_err());
    }
}
