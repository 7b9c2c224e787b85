//! The default command: settings, composition, the password, the session, the report.
//! Each step is another module's; this one only puts them in order and reports the outcome in
//! the form the output mode asks for.

use std::io::Write;
use std::time::Duration;

use crate::cli::SendArgs;
use crate::compose::{self, BodySource, Composed};
use crate::delivery_log;
use crate::error::{Error, Kind};
use crate::outbox::Outbox;
use crate::queue;
use crate::report::{self, JsonSubject, Transcript};
use crate::settings::{self, Environment, Output, ServerSettings, Settings};
use crate::submit::{self, Delivery, Step};

pub fn run(args: &SendArgs, env: &Environment) -> Result<(), Error> {
    let json = args.json;
    let settings =
        settings::resolve(args, env).map_err(|e| json_failure(json, Step::Compose, e))?;
    if settings.output != Output::Quiet {
        settings
            .warnings
            .iter()
            .for_each(|w| report::print_warning(w));
    }
    let message =
        compose::compose(&settings.message).map_err(|e| json_failure(json, Step::Compose, e))?;
    if settings.dry_run {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        return message
            .content
            .write_to(&mut stdout)
            .and_then(|()| stdout.flush())
            .map_err(|err| Error::new(Kind::Internal, format!("writing the message: {err}")));
    }
    deliver(args, &settings, &message, env)
}

fn deliver(
    args: &SendArgs,
    settings: &Settings,
    message: &Composed,
    env: &Environment,
) -> Result<(), Error> {
    let server = settings.server.as_ref().expect("a server unless --dry-run");
    let json = matches!(settings.output, Output::Json { .. });
    let mut transcript = Transcript::new(settings.output.verbose());
    let (delivery, user) = match session_options(server, &mut transcript) {
        Ok(mut options) => {
            options.progress =
                env.stderr_is_terminal && matches!(settings.output, Output::Human { .. });
            let mut delivery = submit::submit(message, &options, &mut transcript);
            for attempt in 1..=args.retry {
                if !failed_to_connect(&delivery) {
                    break;
                }
                let pause = Duration::from_secs(1 << (attempt - 1).min(6));
                transcript.info(&format!(
                    "connecting failed; retry {attempt} of {} in {} s",
                    args.retry,
                    pause.as_secs()
                ));
                std::thread::sleep(pause);
                delivery = submit::submit(message, &options, &mut transcript);
            }
            (delivery, options.login.map(|l| l.user))
        }
        // The credentials are out of reach for now (an OAuth2 token endpoint that does not
        // answer): a temporary failure like a silent server, so the message may wait in the
        // outbox.
        Err(error) if error.kind == Kind::Temporary => (
            Delivery::not_attempted(&server.endpoint, Step::Credentials, error),
            server.login.as_ref().map(|l| l.user.clone()),
        ),
        Err(error) => return Err(json_failure(json, Step::Credentials, error)),
    };

    // A failure to keep: the outbox on a temporary one when queueing is on, else dead letters
    // for a message typed in by hand, which must not be lost with the error.
    let error = match &delivery.failure {
        Some(_) if server.queue == Some(true) && queue::should_queue(&delivery) => {
            Some(queue::keep(
                message,
                &delivery,
                queue::route_of(server, &args.connection),
                env,
            )?)
        }
        Some((_, error))
            if settings.message.body == BodySource::Terminal && !delivery.accepted() =>
        {
            let outbox = Outbox::open(env.var)?;
            let path = outbox.keep_dead(
                message,
                &error.message,
                queue::route_of(server, &args.connection),
            )?;
            Some(Error {
                message: format!(
                    "{}; the message is saved in {}",
                    error.message,
                    path.display()
                ),
                ..error.clone()
            })
        }
        Some((_, error)) => Some(error.clone()),
        None => None,
    };
    delivery_log::note(
        server.log.as_ref(),
        server.account.as_deref(),
        message,
        &delivery,
        error.as_ref(),
    );
    if json {
        report::print_delivery_json(&delivery, message, user.as_deref(), error.as_ref());
    }
    match error {
        None => {
            if let Output::Human { .. } = settings.output {
                println!("{}", report::success_line(&delivery, &message.message_id));
            }
            Ok(())
        }
        Some(error) => Err(error),
    }
}

/// The connection itself failed, temporarily: nothing reached the server, so trying again is
/// safe.
fn failed_to_connect(delivery: &Delivery) -> bool {
    delivery.failure.as_ref().is_some_and(|(step, error)| {
        error.kind == Kind::Temporary
            && matches!(step, Step::Connect | Step::Greeting | Step::TlsHandshake)
    })
}

/// The session's options, the password fetched if there is a login. Shared with `login`
/// and `check`, which connect the same way.
pub fn session_options(
    server: &ServerSettings,
    transcript: &mut Transcript,
) -> Result<submit::Options, Error> {
    if let Some(account) = &server.account {
        transcript.info(&format!("account {account}"));
    }
    let login = match &server.login {
        Some(login) => {
            let password = crate::credentials::password_for(
                &login.user,
                &server.endpoint.host,
                &login.passwords,
            )?;
            password.notes.iter().for_each(|note| transcript.info(note));
            // A built-in OAuth2 token the server refuses is refreshed once and tried again.
            let refresh = login
                .passwords
                .oauth2
                .clone()
                .filter(|_| password.source == crate::oauth2::SOURCE)
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
    })
}

/// With --json, a failure before any connection is still one JSON object on stdout.
fn json_failure(json: bool, step: Step, error: Error) -> Error {
    if json {
        report::print_json(&JsonSubject {
            delivery: None,
            message_id: None,
            envelope_from: None,
            size: None,
            user: None,
            failure: Some((step, &error)),
        });
    }
    error
}
