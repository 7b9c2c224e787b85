//! smtpsend: parse the command line, answer the commands that need nothing else, run the send,
//! and print the error once with its exit code.

mod address;
mod cli;
mod compose;
mod credentials;
mod error;
mod generate;
mod report;
mod settings;
mod submit;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, SendArgs};
use crate::error::Error;
use crate::report::{JsonSubject, Transcript};
use crate::settings::{Environment, Output, Settings};
use crate::submit::Step;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 64 } else { 0 });
        }
    };
    let result = match cli.command {
        Some(Command::Completions { shell }) => {
            generate::completions(shell, &mut std::io::stdout().lock());
            Ok(())
        }
        None => send(&cli.send),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

/// The default command. Errors are reported here, in the form the output mode asks for.
fn send(args: &SendArgs) -> Result<(), u8> {
    let var = |key: &str| std::env::var(key).ok();
    let environment = Environment {
        var: &var,
        stdin_is_terminal: std::io::stdin().is_terminal(),
        can_prompt: std::io::stderr().is_terminal(),
    };
    let json = args.json;
    let settings =
        settings::resolve(args, &environment).map_err(|e| fail(json, Step::Compose, &e))?;
    if settings.output != Output::Quiet {
        settings
            .warnings
            .iter()
            .for_each(|w| report::print_warning(w));
    }
    let message = compose::compose(&settings.message).map_err(|e| fail(json, Step::Compose, &e))?;
    if settings.dry_run {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(&message.bytes)
            .and_then(|()| stdout.flush())
            .map_err(|_| 74);
    }
    deliver(&settings, &message)
}

fn deliver(settings: &Settings, message: &compose::Composed) -> Result<(), u8> {
    let server = settings.server.as_ref().expect("a server unless --dry-run");
    let json = matches!(settings.output, Output::Json { .. });
    let login = match &server.login {
        Some(login) => {
            let password =
                credentials::password_for(&login.user, &server.endpoint.host, &login.passwords)
                    .map_err(|e| fail(json, Step::Credentials, &e))?;
            Some(submit::Login {
                user: login.user.clone(),
                mechanism: login.mechanism,
                password: password.secret,
                source: password.source,
            })
        }
        None => None,
    };
    let options = submit::Options {
        endpoint: server.endpoint.clone(),
        ca_file: server.ca_file.clone(),
        timeout: server.timeout,
        deadline: server.deadline,
        allow_partial: server.allow_partial,
        login,
    };
    let mut transcript = Transcript::new(settings.output.verbose());
    let delivery = submit::submit(message, &options, &mut transcript);

    if json {
        report::print_json(&JsonSubject {
            delivery: Some(&delivery),
            message_id: Some(&message.message_id),
            envelope_from: Some(&message.envelope.from),
            size: Some(message.bytes.len()),
            user: options.login.as_ref().map(|l| l.user.as_str()),
            failure: delivery.failure.as_ref().map(|(step, e)| (*step, e)),
        });
    }
    match &delivery.failure {
        None => {
            if let Output::Human { .. } = settings.output {
                println!("{}", report::success_line(&delivery, &message.message_id));
            }
            Ok(())
        }
        Some((_, error)) => {
            report::print_error(error);
            Err(error.exit_code())
        }
    }
}

/// Reports a failure that happened before any connection and gives its exit code.
fn fail(json: bool, step: Step, error: &Error) -> u8 {
    if json {
        report::print_json(&JsonSubject {
            delivery: None,
            message_id: None,
            envelope_from: None,
            size: None,
            user: None,
            failure: Some((step, error)),
        });
    }
    report::print_error(error);
    error.exit_code()
}
