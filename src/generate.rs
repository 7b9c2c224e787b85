//! Completion scripts and man pages, generated from the clap definition so they cannot drift.
//!
//! `smtpsend completions SHELL` prints a script; the committed files under `completions/` and
//! `man/` are checked by the tests below, and `SNAPSHOTS=overwrite cargo test` rewrites them.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "smtpsend", out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Compares `generated` with the committed file, or rewrites it with SNAPSHOTS=overwrite.
    fn check_fresh(relative: &str, generated: &[u8]) -> Option<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, generated).unwrap();
            return None;
        }
        match std::fs::read(&path) {
            Ok(committed) if committed == generated => None,
            Ok(_) => Some(format!("{relative} is stale")),
            Err(_) => Some(format!("{relative} is missing")),
        }
    }

    fn assert_all_fresh(problems: Vec<Option<String>>) {
        let problems: Vec<String> = problems.into_iter().flatten().collect();
        assert!(
            problems.is_empty(),
            "{}; regenerate with: SNAPSHOTS=overwrite cargo test generate",
            problems.join(", ")
        );
    }

    #[test]
    fn completions_are_fresh() {
        let files = [
            (Shell::Bash, "completions/smtpsend.bash"),
            (Shell::Zsh, "completions/_smtpsend"),
            (Shell::Fish, "completions/smtpsend.fish"),
            (Shell::Elvish, "completions/smtpsend.elv"),
            (Shell::PowerShell, "completions/_smtpsend.ps1"),
        ];
        assert_all_fresh(
            files
                .iter()
                .map(|(shell, file)| {
                    let mut script = Vec::new();
                    completions(*shell, &mut script);
                    check_fresh(file, &script)
                })
                .collect(),
        );
    }

    #[test]
    fn man_pages_are_fresh() {
        let command = Cli::command();
        let mut pages = vec![("man/smtpsend.1".to_string(), command.clone())];
        for sub in command.get_subcommands() {
            let name = format!("smtpsend-{}", sub.get_name());
            pages.push((format!("man/{name}.1"), sub.clone().name(name)));
        }
        assert_all_fresh(
            pages
                .into_iter()
                .map(|(file, page)| {
                    let mut roff = Vec::new();
                    clap_mangen::Man::new(page).render(&mut roff).unwrap();
                    check_fresh(&file, &roff)
                })
                .collect(),
        );
    }
}
