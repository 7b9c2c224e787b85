//! The default command: settings, composition, the DKIM signature, the password, the session,
//! the report.
//! Each step is another module's; this one only puts them in order and reports the outcome in
//! the form the output mode asks for.

use std::io::Write;
use std::time::Duration;

use crate::cli::{DryRun, SendArgs};
use crate::compose::{self, BodySource, Composed};
use crate::delivery_log;
use crate::dkim;
use crate::error::{Error, Kind, io_reason};
use crate::outbox::{self, Outbox, policy};
use crate::preview;
use crate::report;
use crate::route;
use crate::settings::{self, Environment, Output, Settings};
use crate::submit::Transcript;
use crate::submit::{self, Delivery, Step};
use crate::terminal::{self, outln};

pub fn run(args: &SendArgs, env: &Environment) -> Result<(), Error> {
    let json = args.json;
    let settings =
        settings::resolve(args, env).map_err(|e| report::json_failure(json, Step::Settings, e))?;
    if settings.output != Output::Quiet {
        settings
            .warnings
            .iter()
            .for_each(|w| terminal::print_warning(w));
    }
    if let Some(form) = args.dry_run {
        return dry_run(&settings, form, env);
    }
    let message = compose::compose(&settings.message)
        .and_then(|message| signed(message, &settings))
        .map_err(|e| report::json_failure(json, Step::Compose, e))?;
    deliver(args, &settings, &message, env)
}

/// The message with its DKIM signature, when a key is set.
fn signed(mut message: Composed, settings: &Settings) -> Result<Composed, Error> {
    if let Some(signing) = &settings.dkim {
        dkim::sign(&mut message, signing)?;
    }
    Ok(message)
}

/// `--dry-run`: the message shown, readable for a person or as its exact bytes.
fn dry_run(settings: &Settings, form: DryRun, env: &Environment) -> Result<(), Error> {
    let contents = compose::read_contents(&settings.message)?;
    let message = signed(compose::build_from(&settings.message, &contents)?, settings)?;
    let readable = match form {
        DryRun::Auto => env.stdout_is_terminal,
        DryRun::Readable => true,
        DryRun::Raw => false,
    };
    if readable {
        outln!("{}", preview::render(&message, &contents).trim_end());
        return Ok(());
    }
    // Only reading a file can fail: `Stdout` keeps its own failures for `main`.
    let mut stdout = std::io::BufWriter::new(terminal::Stdout);
    message
        .content
        .write_to(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|err| {
            Error::new(
                Kind::IoError,
                format!("reading the message: {}", io_reason(&err)),
            )
        })
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
    let (delivery, user) = match route::session_options(server, &mut transcript) {
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
        Err(error) => return Err(report::json_failure(json, Step::Credentials, error)),
    };

    // A failure to keep: the outbox on a temporary one when queueing is on, else dead letters
    // for a message typed in by hand, which must not be lost with the error.
    let error = match &delivery.failure {
        Some((_, error)) if server.queue == Some(true) && policy::should_queue(&delivery) => {
            let route = route::kept(server, &args.connection);
            Some(
                match outbox::keep_failed(env.var, message, &delivery, error, route) {
                    Ok(queued) => queued.report(error),
                    Err(not_kept) => not_kept,
                },
            )
        }
        Some((_, error))
            if settings.message.body == BodySource::Terminal && !delivery.accepted() =>
        {
            let outbox = Outbox::open(env.var)?;
            let path = outbox.keep_dead(
                message,
                &error.message,
                route::kept(server, &args.connection),
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
                outln!("{}", report::success_line(&delivery, &message.message_id));
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
