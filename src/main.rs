//! smtpsend: parse the command line, answer what needs nothing else (help, version,
//! completions) before touching configuration, keyring or stdin, run the command, and print its
//! error once with its exit code.

mod address;
mod cli;
mod clock;
mod commands;
mod compose;
mod config;
mod content;
mod credentials;
mod delivery_log;
mod dirs;
mod discover;
mod dkim;
mod error;
mod files;
mod generate;
mod mailx;
mod outbox;
mod preview;
mod reach;
mod relay;
mod report;
mod route;
mod sendmail;
mod server;
mod settings;
mod smtp_server;
mod submit;
mod terminal;
mod trust;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, ConfigCommand, QueueCommand};
use crate::commands::{check, login, queue, send};
use crate::settings::Environment;

fn main() -> ExitCode {
    // args_os: std::env::args panics on an argument that is not UTF-8.
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv0 = argv.first().cloned().unwrap_or_default();
    if sendmail::invoked_as_sendmail(&argv0) {
        return finish(commands::sendmail::run(&argv[1..], &environment()));
    }
    if mailx::invoked_as_mailx(&argv0) {
        return finish(commands::mail::run(&argv[1..], &environment()));
    }
    generate::complete_dynamically(); // SMTPSEND_COMPLETE=SHELL: print completions, exit
    let json = cli::asks_for_json(&argv);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        // clap does not say which argument it was; only file names may be other than UTF-8.
        Err(err) if err.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            let culprit = argv.iter().skip(1).find(|arg| arg.to_str().is_none());
            return finish_settings(
                json,
                error::Error::usage(format!(
                    "the argument {:?} is not UTF-8",
                    culprit.cloned().unwrap_or_default()
                ))
                .with_hint("only file names may be other than UTF-8"),
            );
        }
        Err(err) => {
            if let Some(named) = cli::variable_error(&err, &Cli::command(), &argv) {
                return finish_settings(json, named);
            }
            if !err.use_stderr() {
                // Help and --version go to stdout and succeed.
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            let usage = cli::print_usage_error(&err, &argv, json);
            return ExitCode::from(usage.exit_code());
        }
    };
    let env = environment();
    let result = match &cli.command {
        None => send::run(&cli.send, &env),
        Some(Command::Init(args)) => commands::init::run(args, &env),
        Some(Command::Login(args)) => login::login(args, &env),
        Some(Command::Logout(args)) => login::logout(args, &env),
        Some(Command::Check(args)) => check::run(args, &env),
        Some(Command::Sendmail { args }) => commands::sendmail::run(&args.words, &env),
        Some(Command::Mail { args }) => commands::mail::run(&args.words, &env),
        Some(Command::InstallMta { root, dry_run }) => {
            commands::install_mta::run(root.as_deref(), *dry_run)
        }
        Some(Command::Batch { dir, options }) => commands::batch::run(dir, options, &env),
        Some(Command::Queue(QueueCommand::List)) => queue::list(&env),
        Some(Command::Queue(QueueCommand::Show { id, json })) => queue::show(id, *json, &env),
        Some(Command::Queue(QueueCommand::Drop { id })) => queue::drop(id, &env),
        Some(Command::Queue(QueueCommand::Retry { id, all_dead })) => {
            queue::retry(id.as_deref(), *all_dead, &env)
        }
        Some(Command::Queue(QueueCommand::Flush {
            account,
            now,
            quiet,
            verbose,
        })) => {
            let talk = match (*quiet, *verbose || std::io::stdout().is_terminal()) {
                (true, _) => queue::Talk::Quiet,
                (false, true) => queue::Talk::Always,
                (false, false) => queue::Talk::WhenFailed,
            };
            queue::flush(account.as_deref(), *now, *verbose, talk, &env)
        }
        Some(Command::Config(ConfigCommand::Show {
            account,
            account_flag,
            connection,
        })) => {
            let named = account.as_deref().or(account_flag.as_deref());
            commands::config::show(named, connection, &env)
        }
        Some(Command::Config(ConfigCommand::ImportMsmtprc { path })) => {
            commands::config::import_msmtprc(path.as_deref(), &env)
        }
        Some(Command::Serve(args)) => commands::serve::run(args, &env),
        Some(Command::Completions { shell }) => {
            generate::completions(*shell);
            Ok(())
        }
    };
    finish(result)
}

fn environment() -> Environment<'static> {
    let stderr_is_terminal = std::io::stderr().is_terminal();
    Environment {
        var: &|key: &str| std::env::var(key).ok(),
        stdin_is_terminal: std::io::stdin().is_terminal(),
        stdout_is_terminal: std::io::stdout().is_terminal(),
        stderr_is_terminal,
        can_prompt: stderr_is_terminal,
    }
}

/// An error in the settings, before any command ran: with `--json`, its object on stdout too.
fn finish_settings(json: bool, error: error::Error) -> ExitCode {
    finish(Err(report::json_failure(
        json,
        submit::Step::Settings,
        error,
    )))
}

/// Prints a command's error once and gives its exit status.
fn finish(result: Result<(), error::Error>) -> ExitCode {
    match result.and_then(|()| terminal::stdout_status()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            terminal::print_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
