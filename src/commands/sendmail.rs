//! `smtpsend sendmail ARGS`, and a binary called `sendmail`: sendmail's flags, the message
//! through the intake (or each message of a `-bs` dialogue), submitted; what the server cannot
//! take now kept in the outbox; the outcome reported.

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use crate::cli::{self, SendmailOptions};
use crate::compose::{Composed, Envelope};
use crate::config::{self, Config};
use crate::delivery_log;
use crate::error::{Error, Kind};
use crate::outbox::{self, policy};
use crate::report;
use crate::route::{self, session_options};
use crate::sendmail::{self, Invocation};
use crate::settings::Environment;
use crate::submit::Transcript;
use crate::submit::{self, Delivery, Step};
use crate::terminal::outln;

/// The entry point for `smtpsend sendmail ARGS` and for a binary called `sendmail`.
pub fn run(args: &[OsString], env: &Environment) -> Result<(), Error> {
    let args = sendmail::utf8_arguments(args)?;
    let invocation = sendmail::parse_flags(&args)?;
    if invocation.version {
        outln!(
            "smtpsend {} (sendmail drop-in: submits each message to the configured server)",
            env!("CARGO_PKG_VERSION")
        );
        return Ok(());
    }
    let options = match SendmailOptions::try_parse_from(&invocation.long_options) {
        Ok(options) => options,
        Err(err) if err.kind() == clap::error::ErrorKind::DisplayHelp => {
            print_help();
            return Ok(());
        }
        Err(err) => {
            let words: Vec<OsString> = invocation.long_options.iter().map(OsString::from).collect();
            return Err(
                cli::variable_error(&err, &SendmailOptions::command(), &words).unwrap_or_else(
                    || Error::usage(format!("sendmail: {}", first_line(&err.to_string()))),
                ),
            );
        }
    };
    let config = config::load(options.connection.config.as_deref(), env.var)?;
    let relay = Relay {
        invocation: &invocation,
        options: &options,
        config: config.as_ref(),
        env,
    };
    if invocation.smtp_dialogue {
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        return sendmail::serve_smtp(
            &mut stdin.lock(),
            &mut stdout.lock(),
            &|message: &[u8], envelope: &Envelope| match relay.relay(message, Some(envelope))? {
                (_, delivery, Outcome::Sent) => Ok(delivery
                    .final_reply
                    .map(|r| r.one_line())
                    .unwrap_or_default()),
                // Like any MTA, once it is queued we have taken responsibility for it.
                (_, _, Outcome::Queued(note)) => Ok(note.message),
                (_, _, Outcome::Failed(error)) => Err(error),
            },
        );
    }
    let typed = env.stdin_is_terminal && !invocation.ignore_dots;
    let input = sendmail::read_message(&mut std::io::stdin().lock(), typed).map_err(|err| {
        Error::new(
            Kind::NoInput,
            format!("cannot read the message from standard input: {err}"),
        )
    })?;
    relay.deliver(&input)
}

/// One message handed to sendmail mode, with its flags and options: what a binary called
/// `sendmail`, `smtpsend sendmail` and the mailx personality share.
pub struct Relay<'a> {
    pub invocation: &'a Invocation,
    pub options: &'a SendmailOptions,
    pub config: Option<&'a Config>,
    pub env: &'a Environment<'a>,
}

impl Relay<'_> {
    /// Sends one whole message (or keeps it in the outbox) and reports as sendmail does: by
    /// exit status, and with --json by one JSON object.
    pub fn deliver(&self, message: &[u8]) -> Result<(), Error> {
        let (composed, delivery, outcome) = self.relay(message, None)?;
        let error = match outcome {
            Outcome::Sent => None,
            Outcome::Queued(error) | Outcome::Failed(error) => Some(error),
        };
        if self.options.json {
            report::print_delivery_json(&delivery, &composed, None, error.as_ref());
        }
        match error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The caller of sendmail cannot retry: a message the server cannot take now waits in the
    /// outbox unless the account says queue = "never".
    fn relay(
        &self,
        raw: &[u8],
        envelope: Option<&Envelope>,
    ) -> Result<(Composed, Delivery, Outcome), Error> {
        let (composed, server) = sendmail::prepare(
            raw,
            envelope,
            self.invocation,
            self.options,
            self.config,
            self.env,
        )?;
        let verbose = self.invocation.verbose || self.options.verbose;
        let mut transcript = Transcript::new(verbose);
        let delivery = match session_options(&server, &mut transcript) {
            Ok(options) => submit::submit(&composed, &options, &mut transcript),
            // Credentials out of reach for now (a token endpoint that does not answer):
            // queued like any temporary failure.
            Err(error) if error.kind == Kind::Temporary => {
                Delivery::not_attempted(&server.endpoint, Step::Credentials, error)
            }
            Err(error) => return Err(error),
        };
        let outcome = match &delivery.failure {
            None => Outcome::Sent,
            Some((_, error)) if server.queue != Some(false) && policy::should_queue(&delivery) => {
                let route = route::kept(&server, &self.options.connection);
                match outbox::keep_failed(self.env.var, &composed, &delivery, error, route) {
                    Ok(queued) => Outcome::Queued(queued.report(error)),
                    Err(not_kept) => Outcome::Failed(not_kept),
                }
            }
            Some((_, error)) => Outcome::Failed(error.clone()),
        };
        let error = match &outcome {
            Outcome::Sent => None,
            Outcome::Queued(error) | Outcome::Failed(error) => Some(error),
        };
        delivery_log::note(
            server.log.as_ref(),
            server.account.as_deref(),
            &composed,
            &delivery,
            error,
        );
        Ok((composed, delivery, outcome))
    }
}

/// `--help`: what `smtpsend help sendmail` prints, since SendmailOptions knows only the long
/// options and not sendmail's own flags.
fn print_help() {
    use clap::CommandFactory;
    let mut command = crate::cli::Cli::command();
    // Building gives the subcommand its full name for the usage line.
    command.build();
    if let Some(sendmail) = command.find_subcommand_mut("sendmail") {
        // As `main` does with clap's own help: a closed standard output is not worth a status.
        let _ = sendmail.print_long_help();
    }
}

/// What became of a message handed to sendmail mode.
enum Outcome {
    Sent,
    /// Kept in the outbox; the error says where.
    Queued(Error),
    Failed(Error),
}

fn first_line(text: &str) -> &str {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
}
