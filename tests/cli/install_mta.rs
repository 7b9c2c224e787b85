//! `smtpsend install-mta --root DIR`: the four links, again without change, and nothing at all
//! when another program owns one of the paths.

use std::path::{Path, PathBuf};

use crate::support::*;

const LINKS: [&str; 4] = [
    "usr/sbin/sendmail",
    "usr/lib/sendmail",
    "usr/bin/mail",
    "usr/bin/mailx",
];

fn binary() -> PathBuf {
    std::fs::canonicalize(env!("CARGO_BIN_EXE_smtpsend")).unwrap()
}

fn install(sandbox: &Sandbox, root: &Path, extra: &[&str]) -> Run {
    run(sandbox
        .command()
        .arg("install-mta")
        .arg("--root")
        .arg(root)
        .args(extra))
}

fn nothing_at(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_err()
}

#[test]
fn a_fresh_install_links_all_four_and_a_second_run_changes_nothing() {
    let sandbox = Sandbox::new();
    let root = sandbox.path("root");
    let run = install(&sandbox, &root, &[]);
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 4, "{}", run.stdout);
    for link in LINKS {
        let path = root.join(link);
        assert_eq!(std::fs::read_link(&path).unwrap(), binary(), "{link}");
        assert!(
            run.stdout.contains(&path.display().to_string()),
            "{}",
            run.stdout
        );
    }
    let again = install(&sandbox, &root, &[]);
    again.assert_code(0);
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
    for link in LINKS {
        assert_eq!(std::fs::read_link(root.join(link)).unwrap(), binary());
    }
}

#[test]
fn a_dry_run_creates_nothing() {
    let sandbox = Sandbox::new();
    let root = sandbox.path("root");
    let run = install(&sandbox, &root, &["--dry-run"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout.matches("would link").count(),
        4,
        "{}",
        run.stdout
    );
    assert!(nothing_at(&root), "not even the directories");
}

#[test]
fn another_mta_at_one_path_refuses_all_and_creates_none() {
    let sandbox = Sandbox::new();
    let root = sandbox.path("root");
    std::fs::create_dir_all(root.join("usr/sbin")).unwrap();
    let postfix = root.join("usr/sbin/sendmail");
    std::fs::write(&postfix, b"\x7fELF postfix").unwrap();
    let run = install(&sandbox, &root, &[]);
    run.assert_code(73);
    assert!(
        run.stderr.contains(&postfix.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("a file"), "{}", run.stderr);
    assert_eq!(std::fs::read(&postfix).unwrap(), b"\x7fELF postfix");
    for link in &LINKS[1..] {
        assert!(nothing_at(&root.join(link)), "{link} was created");
    }
}

#[test]
fn an_alternatives_link_is_named_with_where_it_points() {
    let sandbox = Sandbox::new();
    let root = sandbox.path("root");
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink("/etc/alternatives/mail", root.join("usr/bin/mail")).unwrap();
    // One of the four is ours already; that does not make the others fine.
    std::fs::create_dir_all(root.join("usr/lib")).unwrap();
    std::os::unix::fs::symlink(binary(), root.join("usr/lib/sendmail")).unwrap();
    let run = install(&sandbox, &root, &[]);
    run.assert_code(73);
    assert!(
        run.stderr
            .contains("usr/bin/mail is a link to /etc/alternatives/mail"),
        "{}",
        run.stderr
    );
    for link in ["usr/sbin/sendmail", "usr/bin/mailx"] {
        assert!(nothing_at(&root.join(link)), "{link} was created");
    }
}
