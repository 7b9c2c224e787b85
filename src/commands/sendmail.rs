//! `smtpsend sendmail ARGS`, and a binary called `sendmail`: sendmail's flags, the message
//! through the intake (or each message of a `-bs` dialogue), submitted; what the server cannot
//! take now kept in the outbox; the outcome reported.

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use crate::cli::{self, SendmailOptions};
use crate::compose::Envelope;
use crate::config;
use crate::error::{Error, Kind};
use crate::relay::{Outcome, Relay};
use crate::sendmail;
use crate::settings::Environment;
use crate::smtp_server::{self, AuthRule, Duplex, Limits, Policy};
use crate::terminal::outln;

/// The entry point for `smtpsend sendmail ARGS` and for a binary called `sendmail`.
pub fn run(args: &[OsString], env: &Environment) -> Result<(), Error> {
    let args = sendmail::utf8_arguments("sendmail", args)?;
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
        let stdio = Duplex {
            input: std::io::stdin(),
            output: std::io::stdout(),
        };
        let policy = Policy {
            hostname: "smtpsend".into(),
            limits: Limits::default(),
            // The caller runs as this user already.
            auth: AuthRule::NotOffered,
            tls: None,
            relay_domains: Vec::new(),
            stop: None,
            memory: None,
            busy: None,
        };
        let relayed = |message: &[u8], envelope: &Envelope| {
            let reply = match relay.relay(message, Some(envelope))? {
                (_, delivery, Outcome::Sent) => delivery
                    .final_reply
                    .map(|r| r.one_line())
                    .unwrap_or_default(),
                // Like any MTA, once it is queued we have taken responsibility for it.
                (_, _, Outcome::Queued(note)) => note.message,
                (_, _, Outcome::Failed(error)) => return Err(error),
            };
            Ok(format!("Ok: relayed ({reply})"))
        };
        return smtp_server::serve(Box::new(stdio), &policy, &relayed).map(drop);
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

fn first_line(text: &str) -> &str {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
}
