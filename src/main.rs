//! smtpsend: parse the command line, answer what needs nothing else (help, version,
//! completions) before touching configuration, keyring or stdin, run the command, and print its
//! error once with its exit code.

mod address;
mod check;
mod cli;
mod compose;
mod config;
mod content;
mod credentials;
mod delivery_log;
mod error;
mod generate;
mod login;
mod oauth2;
mod outbox;
mod queue;
mod report;
mod send;
mod sendmail;
mod settings;
mod submit;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand, QueueCommand};
use crate::settings::Environment;

fn main() -> ExitCode {
    let mut argv = std::env::args();
    let argv0 = argv.next().unwrap_or_default();
    if sendmail::invoked_as_sendmail(&argv0) {
        let args: Vec<String> = argv.collect();
        return finish(sendmail::run(&args, &environment()));
    }
    generate::complete_dynamically(); // SMTPSEND_COMPLETE=SHELL: print completions, exit
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            // Help and --version go to stdout and succeed; a usage error is EX_USAGE.
            return ExitCode::from(if err.use_stderr() { 64 } else { 0 });
        }
    };
    let env = environment();
    let result = match &cli.command {
        None => send::run(&cli.send, &env),
        Some(Command::Login(args)) => login::login(args, &env),
        Some(Command::Logout(args)) => login::logout(args, &env),
        Some(Command::Check(args)) => check::run(args, &env),
        Some(Command::Sendmail { args }) => sendmail::run(args, &env),
        Some(Command::Batch { dir, options }) => sendmail::batch(dir, options, &env),
        Some(Command::Queue(QueueCommand::List)) => queue::list(&env),
        Some(Command::Queue(QueueCommand::Show { id })) => queue::show(id, &env),
        Some(Command::Queue(QueueCommand::Drop { id })) => queue::drop(id, &env),
        Some(Command::Queue(QueueCommand::Flush {
            account,
            now,
            verbose,
        })) => queue::flush(account.as_deref(), *now, *verbose, &env),
        Some(Command::Config(ConfigCommand::Show {
            account,
            connection,
        })) => config::show(account.as_deref(), connection, &env),
        Some(Command::Config(ConfigCommand::ImportMsmtprc { path })) => {
            config::import_msmtprc(path.as_deref(), &env)
        }
        Some(Command::Completions { shell }) => {
            generate::completions(*shell, &mut std::io::stdout().lock());
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
        stderr_is_terminal,
        can_prompt: stderr_is_terminal,
    }
}

/// Prints a command's error once and gives its exit status.
fn finish(result: Result<(), error::Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report::print_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}
