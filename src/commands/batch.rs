//! `smtpsend batch DIR`: each message file through sendmail's intake, one pipelined session
//! per server, a line (or a JSON object) printed per file.

use std::path::{Path, PathBuf};

use crate::cli::SendmailOptions;
use crate::compose::Composed;
use crate::config;
use crate::delivery_log;
use crate::error::{Error, Kind};
use crate::report;
use crate::route::session_options;
use crate::sendmail::{Invocation, prepare};
use crate::settings::{Environment, ServerSettings};
use crate::submit::{self, Transcript};
use crate::terminal::{self, outln};

/// `smtpsend batch DIR`: every message file in DIR, in name order, treated as `sendmail -t`
/// treats one, through one session per server with each message's commands pipelined.
pub fn run(dir: &Path, options: &SendmailOptions, env: &Environment) -> Result<(), Error> {
    let listing =
        std::fs::read_dir(dir).map_err(|err| Error::unreadable("directory", dir, &err))?;
    let mut files: Vec<PathBuf> = listing
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::new(
            Kind::NoInput,
            format!("no message files in {}", dir.display()),
        ));
    }
    let invocation = Invocation {
        recipients_from_headers: true,
        ignore_dots: true,
        ..Invocation::default()
    };
    let config = config::load(options.connection.config.as_deref(), env.var)?;
    let mut worst: Option<Error> = None;
    // Prepared messages, grouped by the server and login they go through, in file order.
    let mut groups: Vec<(ServerSettings, Vec<(PathBuf, Composed)>)> = Vec::new();
    for file in files {
        let prepared = std::fs::read(&file)
            .map_err(|err| Error::unreadable("message", &file, &err))
            .and_then(|raw| prepare(&raw, None, &invocation, options, config.as_ref(), env));
        match prepared {
            Ok((composed, server)) => {
                let key = |s: &ServerSettings| {
                    (s.endpoint.url(), s.login.as_ref().map(|l| l.user.clone()))
                };
                match groups.last_mut() {
                    Some((current, messages)) if key(current) == key(&server) => {
                        messages.push((file, composed));
                    }
                    _ => groups.push((server, vec![(file, composed)])),
                }
            }
            Err(error) => {
                outln!("{}: {}", file.display(), terminal::escape(&error.message));
                Error::keep_worst(&mut worst, error);
            }
        }
    }
    for (server, messages) in groups {
        let mut transcript = Transcript::new(options.verbose);
        let session = session_options(&server, &mut transcript)?;
        let composed: Vec<Composed> = messages.iter().map(|(_, c)| c.clone()).collect();
        let mut outcomes: Vec<Option<Error>> = Vec::new();
        submit::submit_batch(
            &composed,
            &session,
            &mut transcript,
            &mut |index, delivery| {
                let (file, message) = &messages[index];
                let error = delivery.failure.as_ref().map(|(_, e)| e.clone());
                delivery_log::note(
                    server.log.as_ref(),
                    server.account.as_deref(),
                    message,
                    delivery,
                    error.as_ref(),
                );
                if options.json {
                    report::print_delivery_json(
                        delivery,
                        message,
                        server.login.as_ref().map(|l| l.user.as_str()),
                        error.as_ref(),
                    );
                } else {
                    let outcome = match (&error, &delivery.final_reply) {
                        (Some(error), _) => error.message.clone(),
                        (None, Some(reply)) => reply.one_line(),
                        (None, None) => String::new(),
                    };
                    outln!("{}: {}", file.display(), terminal::escape(&outcome));
                }
                outcomes.push(error);
            },
        );
        for error in outcomes.into_iter().flatten() {
            Error::keep_worst(&mut worst, error);
        }
    }
    match worst {
        Some(error) => Err(Error {
            message: format!(
                "not every message was sent; the first failure: {}",
                error.message
            ),
            ..error
        }),
        None => Ok(()),
    }
}
