//! `smtpsend init`: the scripted form against the real in-process server, the account it
//! writes used by the next send, an existing commented file kept, and never a prompt without a
//! terminal.

use crate::support::*;

const ADDRESS: &str = "me@example.org";

fn init(sandbox: &Sandbox, server: &MailServer, scheme: &str, extra: &[&str]) -> Run {
    run(sandbox
        .command()
        .env("SMTPSEND_CA_FILE", server.ca_file())
        .args(["init", ADDRESS, "--user", USER, "--no-login", "--server"])
        .arg(format!("{scheme}://localhost:{}", server.port))
        .args(extra))
}

fn config_path(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox.path("config/smtpsend/config.toml")
}

#[test]
fn the_account_init_writes_is_what_the_next_send_uses() {
    for (encryption, scheme) in [
        (Encryption::StartTls, "smtp"),
        (Encryption::Implicit, "smtps"),
    ] {
        let sandbox = Sandbox::new();
        let server = MailServer::start(encryption);
        let run_init = init(&sandbox, &server, scheme, &[]);
        run_init.assert_code(0);
        assert!(
            run_init
                .stdout
                .contains(&format!("found localhost:{}", server.port))
                && run_init.stdout.contains("AUTH PLAIN LOGIN"),
            "{}",
            run_init.stdout
        );
        // Probed, never logged in: no secret was asked for or sent.
        assert!(server.logins().is_empty());
        assert!(server.messages().is_empty());

        let path = config_path(&sandbox);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("default = \"example\"\n"), "{text}");
        assert!(text.contains("[accounts.example]\n"), "{text}");

        let sent = run(sandbox
            .command()
            .env("SMTPSEND_CA_FILE", server.ca_file())
            .env("SMTPSEND_PASSWORD", PASSWORD)
            .args(["-t", "bob@example.net", "-s", "first", "-m", "hello"]));
        sent.assert_code(0);
        let received = server.only_message();
        assert_eq!(received.from, ADDRESS);
        assert_eq!(received.recipients, ["bob@example.net"]);
        assert_eq!(server.logins(), [(USER.to_string(), true)]);
    }
}

#[test]
fn an_existing_commented_file_is_kept_and_a_name_never_replaced() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let original = "# Accounts, by hand.\ndefault = \"work\"  # keep\n\n[accounts.work]\n\
                    server = \"smtps://mail.work.example\"   # aligned\nuser = \"w@work.example\"\n";
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    let path = sandbox.write("config/smtpsend/config.toml", original);
    init(&sandbox, &server, "smtp", &["--name", "home"]).assert_code(0);
    let text = std::fs::read_to_string(&path).unwrap();
    let added = text
        .strip_prefix(original)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(added.starts_with("\n# me@example.org: found through --server\n[accounts.home]\n"));
    // The default stays, so the next send still goes through `work`.
    let shown = run(sandbox.command().args(["config", "show"]));
    shown.assert_code(0);
    assert!(shown.stdout.contains("work"), "{}", shown.stdout);

    let again = init(&sandbox, &server, "smtp", &["--name", "work"]);
    again.assert_code(64);
    assert!(again.stderr.contains("\"work\"") && again.stderr.contains("--name"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn without_a_terminal_nothing_is_asked_and_the_missing_flags_are_named() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let url = format!("smtp://localhost:{}", server.port);
    // No --no-login: the password could only be asked for on a terminal.
    for ci in ["true", ""] {
        let refused = run(sandbox
            .command()
            .env("CI", ci)
            .args(["init", ADDRESS, "--server", &url, "--user", USER]));
        refused.assert_code(64);
        assert!(refused.stderr.contains("--no-login"), "{}", refused.stderr);
    }
    let no_address = run(sandbox.command().args(["init", "--no-login"]));
    no_address.assert_code(64);
    assert!(
        no_address.stderr.contains("init ADDRESS"),
        "{}",
        no_address.stderr
    );
    // Nothing was probed or written.
    assert!(!config_path(&sandbox).exists());
    // A service that gives each account its own user name needs --user.
    let ses = run(sandbox.command().args([
        "init",
        ADDRESS,
        "--provider",
        "ses",
        "--region",
        "eu-west-1",
        "--no-login",
        "--timeout",
        "1",
    ]));
    ses.assert_code(64);
    assert!(ses.stderr.contains("--user"), "{}", ses.stderr);
    let plain = run(sandbox.command().args([
        "init",
        ADDRESS,
        "--server",
        "smtp+plain://mail.example.org",
        "--no-login",
    ]));
    plain.assert_code(64);
    assert!(plain.stderr.contains("without TLS"), "{}", plain.stderr);
}
