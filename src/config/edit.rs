//! Adding an account to the configuration file, as `smtpsend init` does: the file and its
//! directory are made (0600, 0700) when missing; an existing file keeps every byte of its
//! comments and layout (toml_edit), gets one `[accounts.NAME]` table at its end, and
//! `default = "NAME"` only when it had no default. An account of that name is never replaced.
//! The file is written whole or not at all (`files::write_atomically`); a symbolic link (a
//! dotfiles repository) is written through to the file it names, and stays a link.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use super::AccountKey;
use crate::error::{Error, Kind, io_reason};
use crate::files::{self, WriteFailure};

/// An account to add: its name, a comment written above its table, and its keys in order.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub comment: Option<String>,
    pub keys: Vec<(AccountKey, String)>,
}

/// What adding the account did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The file written (the link's target when the path was a link).
    pub path: PathBuf,
    pub created: bool,
    pub made_default: bool,
}

/// The file's current text, None when it does not exist yet.
fn read(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::config(format!(
            "cannot read the configuration file {}: {}",
            path.display(),
            io_reason(&err)
        ))),
    }
}

/// The error when the name is taken, or the file cannot take a new account: said before
/// anything is asked for, and again (the file may have changed) before writing.
pub fn check_free(path: &Path, name: &str) -> Result<(), Error> {
    match read(path)? {
        Some(text) => edited(
            &text,
            path,
            &NewAccount {
                name: name.to_string(),
                comment: None,
                keys: Vec::new(),
            },
        )
        .map(|_| ()),
        None => Ok(()),
    }
}

/// The text with the account added, and whether it became the default. The existing text is
/// validated as smtpsend reads it first: an account is not added to a file that cannot be used.
pub fn edited(text: &str, path: &Path, account: &NewAccount) -> Result<(String, bool), Error> {
    let config = super::parse(text, path)?;
    if config.accounts.contains_key(&account.name) {
        return Err(Error::usage(format!(
            "{} already has an account {:?}; it is left as it is",
            path.display(),
            account.name
        ))
        .with_hint("choose another name with --name NAME"));
    }
    let mut document: DocumentMut = text
        .parse()
        .map_err(|err| Error::config(format!("{}: {err}", path.display())))?;
    let made_default = document.get("default").is_none();
    let last_position = document
        .iter()
        .filter_map(|(_, item)| item.as_table())
        .flat_map(|table| {
            std::iter::once(table.position()).chain(
                table
                    .iter()
                    .filter_map(|(_, item)| item.as_table().map(Table::position)),
            )
        })
        .flatten()
        .max()
        .unwrap_or(0);
    let accounts = document.entry("accounts").or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    let Some(accounts) = accounts.as_table_mut() else {
        return Err(Error::config(format!(
            "{}: `accounts` is not written as [accounts.NAME] tables; add the account by hand",
            path.display()
        )));
    };
    let mut table = Table::new();
    for (key, text) in &account.keys {
        table.insert(key.name(), value(text.as_str()));
    }
    let separator = if text.trim().is_empty() || text.ends_with("\n\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let comment = account
        .comment
        .as_ref()
        .map(|c| {
            c.lines()
                .map(|line| format!("# {line}\n"))
                .collect::<String>()
        })
        .unwrap_or_default();
    table
        .decor_mut()
        .set_prefix(format!("{separator}{comment}"));
    table.set_position(Some(last_position + 1));
    accounts.insert(&account.name, Item::Table(table));
    if made_default {
        document.insert("default", value(account.name.as_str()));
    }
    let written = document.to_string();
    // What is written must read back as smtpsend reads it, with the new account in it.
    let reread = super::parse(&written, path)?;
    if !reread.accounts.contains_key(&account.name) {
        return Err(Error::new(
            Kind::Internal,
            "the edited configuration lost the new account",
        ));
    }
    Ok((written, made_default))
}

/// Adds the account to the file at `path`, creating it (and its directory) when missing.
pub fn add_account(path: &Path, account: &NewAccount) -> Result<Added, Error> {
    let path = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|err| {
                Error::new(
                    Kind::CantCreate,
                    format!(
                        "{}: a link to nothing usable: {}",
                        path.display(),
                        io_reason(&err)
                    ),
                )
            })?
        }
        _ => path.to_path_buf(),
    };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(Error::new(
            Kind::CantCreate,
            format!("{}: not a file name", path.display()),
        ));
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let existing = read(&path)?;
    let created = existing.is_none();
    if created {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|err| {
                Error::new(
                    Kind::CantCreate,
                    format!("cannot create {}: {}", dir.display(), io_reason(&err)),
                )
            })?;
    }
    let (text, made_default) = edited(existing.as_deref().unwrap_or(""), &path, account)?;
    files::write_atomically(dir, name, &mut |file| file.write_all(text.as_bytes())).map_err(
        |failure| match failure {
            WriteFailure::Create(at, err) => Error::new(
                Kind::CantCreate,
                format!("cannot create {}: {}", at.display(), io_reason(&err)),
            ),
            WriteFailure::Write(at, err) => Error::new(
                Kind::IoError,
                format!("cannot write {}: {}", at.display(), io_reason(&err)),
            ),
        },
    )?;
    Ok(Added {
        path,
        created,
        made_default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn account(name: &str) -> NewAccount {
        NewAccount {
            name: name.into(),
            comment: Some("me@example.com: found by DNS SRV _submissions._tcp.example.com".into()),
            keys: vec![
                (AccountKey::Server, "smtps://mail.example.com:465".into()),
                (AccountKey::User, "me@example.com".into()),
                (AccountKey::From, "me@example.com".into()),
            ],
        }
    }

    const COMMENTED: &str = "\
# My mail accounts.   (keep this)
default = \"work\"   # the usual one

[accounts.work]
server   = \"smtp://mail.work.example\"   # aligned on purpose
user     = \"me@work.example\"
# from = \"old@work.example\"

[accounts.old]
extends = \"work\"
user = 'other@work.example'
";

    #[test]
    fn an_existing_file_keeps_every_byte_and_gets_the_table_at_its_end() {
        let path = Path::new("config.toml");
        let (text, made_default) = edited(COMMENTED, path, &account("example")).unwrap();
        assert!(!made_default);
        let added = text
            .strip_prefix(COMMENTED)
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(
            added,
            "\n# me@example.com: found by DNS SRV _submissions._tcp.example.com\n\
             [accounts.example]\n\
             server = \"smtps://mail.example.com:465\"\n\
             user = \"me@example.com\"\n\
             from = \"me@example.com\"\n"
        );
        let config = crate::config::parse(&text, path).unwrap();
        assert_eq!(config.default.as_deref(), Some("work"));
        assert_eq!(config.accounts.len(), 3);
    }

    #[test]
    fn without_a_default_it_becomes_the_default() {
        let path = Path::new("config.toml");
        let original = "# no default here\n[accounts.a]\nserver = \"smtps://a.example\"\n";
        let (text, made_default) = edited(original, path, &account("new")).unwrap();
        assert!(made_default);
        // The only change outside the new table is the one line naming the default.
        let without = text.replacen("default = \"new\"\n", "", 1);
        assert!(without.starts_with(original), "{text}");
        let config = crate::config::parse(&text, path).unwrap();
        assert_eq!(config.default.as_deref(), Some("new"));
        // An empty file gets the default and the table, nothing else.
        let (text, _) = edited("", path, &account("new")).unwrap();
        assert!(
            text.starts_with("default = \"new\"\n# me@example.com"),
            "{text}"
        );
    }

    #[test]
    fn an_account_of_that_name_is_never_replaced() {
        let err = edited(COMMENTED, Path::new("c.toml"), &account("work")).unwrap_err();
        assert_eq!(err.kind, Kind::Usage);
        assert!(err.message.contains("\"work\""), "{}", err.message);
        assert!(err.hint.unwrap().contains("--name"));
        // A file smtpsend cannot read is not added to.
        let err = edited(
            "[accounts.x]\nsevrer = 1\n",
            Path::new("c.toml"),
            &account("y"),
        );
        assert_eq!(err.unwrap_err().kind, Kind::Config);
    }

    #[test]
    fn a_new_file_and_its_directory_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smtpsend/config.toml");
        let added = add_account(&path, &account("example")).unwrap();
        assert!(added.created && added.made_default);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let again = add_account(&path, &account("example")).unwrap_err();
        assert_eq!(again.kind, Kind::Usage);
        let second = add_account(&path, &account("second")).unwrap();
        assert!(!second.created && !second.made_default);
    }

    #[test]
    fn a_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles.toml");
        std::fs::write(&real, COMMENTED).unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        add_account(&link, &account("example")).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::read_to_string(&real)
                .unwrap()
                .starts_with(COMMENTED)
        );
    }
}
