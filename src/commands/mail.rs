//! `smtpsend mail ARGS`, and a binary called `mail` or `mailx`: mailx's send mode. The body
//! from standard input and the flags make a message (`mailx`), which goes through sendmail
//! mode's relay as mailx has always handed its message to sendmail: the account, aliases, local
//! domain, outbox and exit statuses are sendmail mode's.

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, SendmailOptions};
use crate::config;
use crate::error::{Error, Kind};
use crate::mailx;
use crate::relay::Relay;
use crate::sendmail::{self, Invocation};
use crate::settings::Environment;

/// The entry point for `smtpsend mail ARGS` and for a binary called `mail` or `mailx`.
pub fn run(args: &[OsString], env: &Environment) -> Result<(), Error> {
    let args = sendmail::utf8_arguments("mail", args)?;
    let request = mailx::parse_flags(&args)?;
    if request.help {
        let mut command = Cli::command();
        // Building gives the subcommand its full name for the usage line.
        command.build();
        if let Some(mail) = command.find_subcommand_mut("mail") {
            // As `main` does with clap's own help: a closed standard output is not worth a status.
            let _ = mail.print_long_help();
        }
        return Ok(());
    }
    let options = SendmailOptions::try_parse_from(&request.long_options).map_err(|err| {
        let text = err.to_string();
        let first = text.lines().next().unwrap_or_default();
        Error::usage(format!("mail: {}", first.trim_start_matches("error: ")))
    })?;
    let config = config::load(options.connection.config.as_deref(), env.var)?;

    if env.stdin_is_terminal && env.stderr_is_terminal {
        eprintln!("Type the message; end it with a line holding a lone dot, or with Ctrl-D.");
    }
    let body = sendmail::read_message(&mut std::io::stdin().lock(), env.stdin_is_terminal)
        .map_err(|err| {
            Error::new(
                Kind::NoInput,
                format!("cannot read the body from standard input: {err}"),
            )
        })?;
    if request.skip_empty_body && body.is_empty() {
        return Ok(());
    }
    let message = mailx::build(&request, &body)?;
    let invocation = Invocation {
        recipients: message.recipients,
        sender: message.sender,
        full_name: message.full_name,
        // The body is whole already: a lone dot from a pipe is text.
        ignore_dots: true,
        verbose: request.verbose,
        ..Invocation::default()
    };
    Relay {
        invocation: &invocation,
        options: &options,
        config: config.as_ref(),
        env,
    }
    .deliver(&message.bytes)
}
