//! Completion scripts and man pages, generated from the clap definition so they cannot drift.
//!
//! `smtpsend completions SHELL` prints a static script. Dynamic completion, which also offers
//! the account names of the configuration file, is clap_complete's `CompleteEnv`: `main` answers
//! `SMTPSEND_COMPLETE=SHELL smtpsend` before anything else, and `cli::account_candidates` is
//! what the account arguments complete to. The committed files under `completions/` and `man/`
//! are checked by the tests below, and `SNAPSHOTS=overwrite cargo test generate` rewrites them.
//! A man page is clap_mangen's rendering of a command plus the hand-written roff in
//! `man/sections/NAME.roff` (see `man_page`); nothing here runs outside completion and tests.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::terminal::Stdout;

/// The environment variable that asks smtpsend for dynamic completions instead of running.
/// Ours rather than clap's generic `COMPLETE`, so a stray variable cannot turn a send (or a
/// `sendmail` run by some daemon) into a completion request.
pub const COMPLETE_VAR: &str = "SMTPSEND_COMPLETE";

/// Prints the static completion script for `shell`, through `terminal::Stdout`: a reader that
/// stops early (`| head`) is no error, and any other write failure is EX_IOERR from `main`.
pub fn completions(shell: Shell) {
    let _ = Stdout.write_all(completion_script(shell).as_bytes());
}

/// clap_complete's script, with two flaws of its zsh generator worked around.
fn completion_script(shell: Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut completion_command(), "smtpsend", &mut script);
    let script = String::from_utf8(script).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Zsh => zsh_without_root_positional(script),
        _ => script,
    }
}

/// The command as the static generators see it. The zsh generator writes value names into
/// `_arguments` specs unescaped, so one with a quote or a colon (`'NAME: VALUE'` of -H) breaks
/// every completion of the command; here such characters are dropped.
fn completion_command() -> clap::Command {
    fn plain_value_names(command: clap::Command) -> clap::Command {
        command
            .mut_args(|arg| match arg.get_value_names() {
                Some(names) if names.iter().any(|n| n.contains(['\'', ':'])) => {
                    let names: Vec<String> =
                        names.iter().map(|n| n.replace(['\'', ':'], "")).collect();
                    arg.value_names(names)
                }
                _ => arg,
            })
            .mut_subcommands(plain_value_names)
    }
    plain_value_names(Cli::command())
}

/// RECIPIENT and the subcommands are alternatives (`args_conflicts_with_subcommands`), but the
/// zsh generator makes the subcommand the second positional, after RECIPIENT, so
/// `smtpsend login --<TAB>` took `login` for a recipient and offered the send options. Without
/// the RECIPIENT spec (recipients are free text: nothing to complete) the subcommand is the
/// first word again. Text the generator no longer writes is left alone, and a test notices.
fn zsh_without_root_positional(script: String) -> String {
    const RECIPIENT_SPEC: &str = "'::recipients -- Recipients, added to To:_default' \\\n";
    const DISPATCH_END: &str = "case $line[2] in";
    let (Some(spec), Some(dispatch)) = (script.find(RECIPIENT_SPEC), script.find(DISPATCH_END))
    else {
        return script;
    };
    let dispatch = dispatch + DISPATCH_END.len();
    let root = script[spec + RECIPIENT_SPEC.len()..dispatch].replace("$line[2]", "$line[1]");
    format!("{}{root}{}", &script[..spec], &script[dispatch..])
}

/// Answers a dynamic completion request (`SMTPSEND_COMPLETE=bash smtpsend ...`) and exits;
/// returns at once when there is none.
pub fn complete_dynamically() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .complete();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AccountKey;
    use crate::error::{EXIT_STATUSES, Kind};
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
                .map(|(shell, file)| check_fresh(file, completion_script(*shell).as_bytes()))
                .collect(),
        );
    }

    #[test]
    fn zsh_dispatches_subcommands_from_the_first_word() {
        let script = completion_script(Shell::Zsh);
        assert!(
            !script.contains("::recipients"),
            "the RECIPIENT spec is back"
        );
        let root = &script[..script.find("(login)").unwrap()];
        assert!(root.contains("case $line[1] in"), "{root}");
        assert!(!root.contains("$line[2]"), "{root}");
    }

    #[test]
    fn completion_value_names_are_safe_for_zsh() {
        fn check(command: &clap::Command) {
            for arg in command.get_arguments() {
                for name in arg.get_value_names().unwrap_or_default() {
                    assert!(!name.contains(['\'', ':']), "{name:?}");
                }
            }
            command.get_subcommands().for_each(check);
        }
        check(&completion_command());
    }

    /// The hand-written part of each man page, by page name. Before its first `.SH`, a file's
    /// text extends the DESCRIPTION clap renders from the long about; a `.SH SYNOPSIS` replaces
    /// the generated synopsis; every other section follows the options, in the file's order.
    const SECTIONS: &[(&str, &str)] = &[
        ("smtpsend", include_str!("../man/sections/smtpsend.roff")),
        (
            "smtpsend-sendmail",
            include_str!("../man/sections/smtpsend-sendmail.roff"),
        ),
        (
            "smtpsend-init",
            include_str!("../man/sections/smtpsend-init.roff"),
        ),
        (
            "smtpsend-login",
            include_str!("../man/sections/smtpsend-login.roff"),
        ),
        (
            "smtpsend-logout",
            include_str!("../man/sections/smtpsend-logout.roff"),
        ),
        (
            "smtpsend-check",
            include_str!("../man/sections/smtpsend-check.roff"),
        ),
        (
            "smtpsend-config",
            include_str!("../man/sections/smtpsend-config.roff"),
        ),
        (
            "smtpsend-config-show",
            include_str!("../man/sections/smtpsend-config-show.roff"),
        ),
        (
            "smtpsend-config-import-msmtprc",
            include_str!("../man/sections/smtpsend-config-import-msmtprc.roff"),
        ),
        (
            "smtpsend-mail",
            include_str!("../man/sections/smtpsend-mail.roff"),
        ),
        (
            "smtpsend-install-mta",
            include_str!("../man/sections/smtpsend-install-mta.roff"),
        ),
        (
            "smtpsend-batch",
            include_str!("../man/sections/smtpsend-batch.roff"),
        ),
        (
            "smtpsend-queue",
            include_str!("../man/sections/smtpsend-queue.roff"),
        ),
        (
            "smtpsend-queue-list",
            include_str!("../man/sections/smtpsend-queue-list.roff"),
        ),
        (
            "smtpsend-queue-show",
            include_str!("../man/sections/smtpsend-queue-show.roff"),
        ),
        (
            "smtpsend-queue-flush",
            include_str!("../man/sections/smtpsend-queue-flush.roff"),
        ),
        (
            "smtpsend-queue-drop",
            include_str!("../man/sections/smtpsend-queue-drop.roff"),
        ),
        (
            "smtpsend-queue-retry",
            include_str!("../man/sections/smtpsend-queue-retry.roff"),
        ),
        (
            "smtpsend-serve",
            include_str!("../man/sections/smtpsend-serve.roff"),
        ),
        (
            "smtpsend-completions",
            include_str!("../man/sections/smtpsend-completions.roff"),
        ),
    ];

    /// Every page: smtpsend.1, then smtpsend-COMMAND.1 and smtpsend-COMMAND-SUBCOMMAND.1 (git's
    /// naming, which clap gives each subcommand as its display name).
    fn man_pages() -> Vec<(String, Vec<u8>)> {
        fn walk(command: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) {
            let name = command
                .get_display_name()
                .unwrap_or_else(|| command.get_name())
                .to_string();
            pages.push((format!("man/{name}.1"), man_page(command, &name)));
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                walk(sub, pages);
            }
        }
        let mut command = Cli::command().disable_help_subcommand(true);
        command.build();
        let mut pages = Vec::new();
        walk(&command, &mut pages);
        pages
    }

    /// One page: clap_mangen's NAME, SYNOPSIS, DESCRIPTION, options and subcommands, with the
    /// hand-written sections merged in (see `SECTIONS`). The after-help text of --help
    /// (examples, exit codes) is left out: the hand-written sections say it at length.
    fn man_page(command: &clap::Command, name: &str) -> Vec<u8> {
        let hand = Sections::parse(
            SECTIONS
                .iter()
                .find(|(page, _)| *page == name)
                .map_or("", |(_, text)| text),
        );
        // clap's own usage lines ("smtpsend login [OPTIONS] [ACCOUNT]") read better than
        // clap_mangen's list of every flag without its value.
        let usage = command.clone().render_usage().to_string();
        let usage = usage.trim_start_matches("Usage:").trim().to_string();
        let man = clap_mangen::Man::new(command.clone().override_usage(usage));

        type Render = fn(&clap_mangen::Man, &mut dyn Write) -> std::io::Result<()>;
        let part = |render: Render| {
            let mut roff = Vec::new();
            render(&man, &mut roff).unwrap();
            String::from_utf8(roff).unwrap()
        };
        // Each part comes with roff's apostrophe preamble: keep one.
        let title = part(clap_mangen::Man::render_title);
        let preamble = &title[..title.find(".TH ").unwrap()];
        let body = |render: Render| part(render).strip_prefix(preamble).unwrap().to_string();

        // Our own .TH: clap_mangen writes an empty date as nothing, which shifts the source and
        // manual into the wrong fields. Then no hyphenation and a ragged right margin, so option
        // names stay whole and a terminal shows no stretched gaps.
        let mut page = format!(
            "{preamble}.TH {} 1 \"\" \"smtpsend {}\" \"User Commands\"\n.nh\n.ad l\n",
            name.to_uppercase(),
            env!("CARGO_PKG_VERSION")
        );
        page += &body(clap_mangen::Man::render_name_section);
        page += &match hand.synopsis {
            Some(synopsis) => format!(".SH SYNOPSIS\n{synopsis}"),
            None => body(clap_mangen::Man::render_synopsis_section),
        };
        page += &body(clap_mangen::Man::render_description_section);
        page += hand.description;
        if command.get_arguments().any(|arg| !arg.is_hide_set()) {
            page += &body(clap_mangen::Man::render_options_section);
        }
        if command.get_subcommands().any(|sub| !sub.is_hide_set()) {
            page += &body(clap_mangen::Man::render_subcommands_section);
        }
        page += &hand.rest.replace(EXIT_STATUSES_MARK, &exit_statuses_roff());
        page.into_bytes()
    }

    /// Where a hand-written section wants the exit statuses of `EXIT_STATUSES`.
    const EXIT_STATUSES_MARK: &str =
        ".\\\" The statuses follow, made from EXIT_STATUSES in src/error.rs.\n";

    /// Each exit status as a roff paragraph: the code in bold, then its meaning, `backticks`
    /// made bold too.
    fn exit_statuses_roff() -> String {
        EXIT_STATUSES
            .iter()
            .map(|status| {
                let meaning = status
                    .meaning
                    .replace('\\', "\\e")
                    .split('`')
                    .enumerate()
                    .map(|(i, part)| match i % 2 {
                        1 => format!("\\fB{}\\fR", part.replace('-', "\\-")),
                        _ => part.to_string(),
                    })
                    .collect::<String>();
                format!(".TP\n.B {}\n{meaning}\n", status.code())
            })
            .collect()
    }

    /// The README's table of exit statuses.
    fn exit_statuses_markdown() -> String {
        let mut table = String::from("| code | meaning | retry? |\n|---|---|---|\n");
        for status in &EXIT_STATUSES {
            let retry = match status.kind {
                None => "",
                Some(Kind::Temporary) => "yes",
                Some(_) => "no",
            };
            let meaning = status.meaning.replace('|', "\\|");
            table += &format!("| {} | {meaning} | {retry} |\n", status.code());
        }
        table
    }

    #[test]
    fn the_readme_lists_every_exit_status() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let start = readme
            .find("| code | meaning | retry? |\n")
            .expect("the table's header");
        let end = start
            + readme[start..]
                .find("\n\n")
                .expect("a blank line after the table")
            + 1;
        let table = exit_statuses_markdown();
        if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
            std::fs::write(
                &path,
                format!("{}{table}{}", &readme[..start], &readme[end..]),
            )
            .unwrap();
            return;
        }
        assert_eq!(
            &readme[start..end],
            table,
            "README.md's exit statuses are stale; regenerate with: SNAPSHOTS=overwrite cargo test generate"
        );
    }

    #[test]
    fn every_exit_status_a_man_page_names_exists() {
        let known: Vec<String> = EXIT_STATUSES.iter().map(|s| s.code().to_string()).collect();
        for (page, text) in SECTIONS {
            let Some(start) = text.find(".SH EXIT STATUS") else {
                continue;
            };
            let section = &text[start..];
            let section = &section[..section[1..].find(".SH ").map_or(section.len(), |e| e + 1)];
            for code in section.lines().filter_map(|line| line.strip_prefix(".B ")) {
                assert!(
                    known.iter().any(|k| k == code.trim()),
                    "{page}: exit status {code}"
                );
            }
        }
    }

    /// A hand-written file split the way `SECTIONS` describes.
    struct Sections<'a> {
        description: &'a str,
        synopsis: Option<&'a str>,
        rest: &'a str,
    }

    impl<'a> Sections<'a> {
        fn parse(text: &'a str) -> Self {
            // Where the first `.SH` line starts, or the end.
            let next_section = |text: &str| {
                if text.starts_with(".SH ") {
                    0
                } else {
                    text.find("\n.SH ").map_or(text.len(), |at| at + 1)
                }
            };
            let (description, mut rest) = text.split_at(next_section(text));
            let mut synopsis = None;
            if let Some(after) = rest.strip_prefix(".SH SYNOPSIS\n") {
                let end = next_section(after);
                synopsis = Some(&after[..end]);
                rest = &after[end..];
            }
            Sections {
                description,
                synopsis,
                rest,
            }
        }
    }

    #[test]
    fn man_pages_are_fresh() {
        assert_all_fresh(
            man_pages()
                .into_iter()
                .map(|(file, roff)| check_fresh(&file, &roff))
                .collect(),
        );
    }

    #[test]
    fn every_page_has_its_hand_written_sections_and_every_section_file_a_page() {
        let pages: Vec<String> = man_pages().into_iter().map(|(file, _)| file).collect();
        for (name, text) in SECTIONS {
            assert!(
                pages.contains(&format!("man/{name}.1")),
                "man/sections/{name}.roff belongs to no command"
            );
            assert!(text.contains(".SH SEE ALSO\n"), "{name}: no SEE ALSO");
        }
        for page in &pages {
            let name = page.trim_start_matches("man/").trim_end_matches(".1");
            assert!(
                SECTIONS.iter().any(|(known, _)| *known == name),
                "{page} has no hand-written sections: write man/sections/{name}.roff \
                 (at least a SEE ALSO) and list it in SECTIONS"
            );
        }
    }

    #[test]
    fn the_main_page_documents_what_the_code_does() {
        let (_, page) = man_pages().into_iter().next().unwrap();
        let page = String::from_utf8(page).unwrap();
        for code in [0, 64, 65, 66, 67, 69, 70, 75, 76, 77, 78] {
            assert!(page.contains(&format!(".B {code}\n")), "exit status {code}");
        }
        // A key is documented where a .TP item's tag names it: `.B key` or `.BR key ", " other`.
        let tags: Vec<&str> = page
            .lines()
            .zip(page.lines().skip(1))
            .filter(|(item, _)| *item == ".TP")
            .map(|(_, tag)| tag)
            .collect();
        let documented = |key: &str| {
            tags.iter()
                .any(|tag| tag.starts_with(".B") && tag.split(' ').skip(1).any(|word| word == key))
        };
        for key in AccountKey::ALL
            .map(AccountKey::name)
            .into_iter()
            .chain(["default"])
        {
            assert!(documented(key), "configuration key {key}");
        }
    }

    #[test]
    fn accounts_complete_from_the_configuration_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "default = \"work\"\n[accounts.work]\nserver = \"smtp://h.example\"\n\
             [accounts.alerts]\nextends = \"work\"\n",
        )
        .unwrap();
        let named = path.to_string_lossy().into_owned();
        let var = |key: &str| (key == "SMTPSEND_CONFIG").then(|| named.clone());
        assert_eq!(crate::config::account_names(&var), ["alerts", "work"]);

        let home = dir.path().to_string_lossy().into_owned();
        let var = |key: &str| (key == "HOME").then(|| home.clone());
        assert!(crate::config::account_names(&var).is_empty(), "no file");
        std::fs::write(&path, "[accounts.a]\nsevrer = \"x\"\n").unwrap();
        let var = |key: &str| (key == "SMTPSEND_CONFIG").then(|| named.clone());
        assert!(crate::config::account_names(&var).is_empty(), "bad file");
    }

    #[test]
    fn the_account_arguments_complete_account_names() {
        let mut command = Cli::command();
        command.build();
        let completes_accounts =
            |arg: &clap::Arg| arg.get::<clap_complete::ArgValueCandidates>().is_some();
        let send = command.get_arguments().find(|a| a.get_id() == "account");
        assert!(send.is_some_and(completes_accounts), "--account");
        for path in [&["login"][..], &["logout"], &["check"], &["config", "show"]] {
            let mut sub = &command;
            for name in path {
                sub = sub.find_subcommand(name).unwrap();
            }
            let account = sub.get_arguments().find(|a| a.get_id() == "account");
            assert!(account.is_some_and(completes_accounts), "{path:?}");
        }
    }
}
