//! `smtpsend install-mta`: this binary as the system's MTA, by symbolic links to it where
//! programs look for sendmail and mail. All or nothing: every path is looked at first, and
//! one that another MTA or mailer owns stops the command before anything is created. It never
//! removes or replaces a file it did not create.

use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, io_reason};
use crate::terminal::escape;

/// Where the links go, below `/` or `--root`.
const LINKS: [&str; 4] = [
    "usr/sbin/sendmail",
    "usr/lib/sendmail",
    "usr/bin/mail",
    "usr/bin/mailx",
];

/// What stands at a path now.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Nothing,
    /// A symbolic link that resolves to this binary.
    Ours,
    /// Anything else, described.
    Other(String),
}

pub fn run(root: Option<&Path>, dry_run: bool) -> Result<(), Error> {
    let binary = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|err| {
            Error::new(
                Kind::Internal,
                format!(
                    "install-mta: cannot tell where this binary is: {}",
                    io_reason(&err)
                ),
            )
        })?;
    let root = root.unwrap_or(Path::new("/"));
    let paths: Vec<PathBuf> = LINKS.iter().map(|link| root.join(link)).collect();
    let found: Vec<Found> = paths.iter().map(|path| inspect(path, &binary)).collect();
    let owned: Vec<String> = paths
        .iter()
        .zip(&found)
        .filter_map(|(path, found)| match found {
            Found::Other(what) => Some(format!("{} is {what}", path.display())),
            _ => None,
        })
        .collect();
    if !owned.is_empty() {
        return Err(Error::new(
            Kind::CantCreate,
            escape(&format!(
                "install-mta: created nothing, another program owns {}",
                owned.join("; ")
            )),
        )
        .with_hint("remove that MTA or mailer (or move its files aside), then run this again"));
    }
    let missing: Vec<&PathBuf> = paths
        .iter()
        .zip(&found)
        .filter_map(|(path, found)| (*found == Found::Nothing).then_some(path))
        .collect();
    let target = escape(&binary.display().to_string());
    if missing.is_empty() {
        println!("every link already points to {target}; nothing to do");
        return Ok(());
    }
    let mut created: Vec<&Path> = Vec::new();
    for path in missing {
        let shown = escape(&path.display().to_string());
        if dry_run {
            println!("would link {shown} -> {target}");
            continue;
        }
        if let Err(err) = create_link(path, &binary) {
            // All or nothing: what this run made goes again.
            for made in created {
                let _ = std::fs::remove_file(made);
            }
            return Err(Error::new(
                Kind::CantCreate,
                format!("install-mta: cannot create {shown}: {}", io_reason(&err)),
            ));
        }
        println!("linked {shown} -> {target}");
        created.push(path);
    }
    Ok(())
}

/// What is at `path`, without following a final symbolic link except to see where it leads.
fn inspect(path: &Path, binary: &Path) -> Found {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Found::Nothing,
        Err(err) => return Found::Other(format!("unreadable ({})", io_reason(&err))),
    };
    if !metadata.is_symlink() {
        return Found::Other(
            if metadata.is_dir() {
                "a directory"
            } else if metadata.is_file() {
                "a file"
            } else {
                "a special file"
            }
            .to_string(),
        );
    }
    let target = std::fs::read_link(path).unwrap_or_default();
    match std::fs::canonicalize(path) {
        Ok(resolved) if resolved == binary => Found::Ours,
        Ok(resolved) if resolved == target => {
            Found::Other(format!("a link to {}", target.display()))
        }
        Ok(resolved) => Found::Other(format!(
            "a link to {}, which is {}",
            target.display(),
            resolved.display()
        )),
        Err(_) => Found::Other(format!(
            "a link to {}, which does not exist",
            target.display()
        )),
    }
}

fn create_link(path: &Path, binary: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::os::unix::fs::symlink(binary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_stands_at_a_path_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("smtpsend");
        std::fs::write(&binary, b"").unwrap();
        let at = |name: &str| dir.path().join(name);
        assert_eq!(inspect(&at("none"), &binary), Found::Nothing);
        std::os::unix::fs::symlink(&binary, at("ours")).unwrap();
        std::os::unix::fs::symlink(at("ours"), at("ours-twice")).unwrap();
        assert_eq!(inspect(&at("ours"), &binary), Found::Ours);
        assert_eq!(inspect(&at("ours-twice"), &binary), Found::Ours);
        std::fs::write(at("postfix"), b"#!").unwrap();
        assert_eq!(
            inspect(&at("postfix"), &binary),
            Found::Other("a file".into())
        );
        std::os::unix::fs::symlink("/etc/alternatives/nothing-here", at("alt")).unwrap();
        assert_eq!(
            inspect(&at("alt"), &binary),
            Found::Other("a link to /etc/alternatives/nothing-here, which does not exist".into())
        );
        std::os::unix::fs::symlink(at("postfix"), at("to-postfix")).unwrap();
        let Found::Other(what) = inspect(&at("to-postfix"), &binary) else {
            panic!("a link elsewhere is another's");
        };
        assert!(what.starts_with("a link to "), "{what}");
    }
}
