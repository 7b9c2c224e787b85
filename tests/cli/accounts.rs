//! Accounts from the configuration file, precedence, the keyring's absence, `check`, `login`,
//! `config show` and `config import-msmtprc`, against the real in-process server.

use crate::support::*;

/// Writes `config.toml` where smtpsend looks for it by default.
pub(crate) fn write_config(sandbox: &Sandbox, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    let path = sandbox.write("config/smtpsend/config.toml", text);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn account_toml(name: &str, server: &MailServer, from: &str) -> String {
    format!(
        "[accounts.{name}]\nserver = \"smtp://localhost:{port}\"\nuser = \"{USER}\"\nfrom = \"{from}\"\n\
         ca_file = \"{ca}\"\npassword_command = \"echo '{PASSWORD}'\"\ntimeout = 10\n",
        port = server.port,
        ca = server.ca_file().display(),
    )
}

#[test]
fn the_default_account_needs_no_flags_at_all() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n\n{}",
            account_toml("work", &server, "Me <me@example.org>")
        ),
    );
    let run = run(sandbox
        .command()
        .args(["-t", "bob@example.net", "-s", "hi", "-m", "body"]));
    run.assert_code(0);
    let received = server.only_message();
    assert_eq!(received.from, "me@example.org");
    assert_eq!(server.logins(), [(USER.to_string(), true)]);
}

#[test]
fn flags_beat_environment_which_beats_the_account() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n{}",
            account_toml("work", &server, "account@example.org")
        ),
    );
    run(sandbox
        .command()
        .env("SMTPSEND_FROM", "env@example.org")
        .args(["-t", "bob@example.net", "-m", "x"]))
    .assert_code(0);
    run(sandbox
        .command()
        .env("SMTPSEND_FROM", "env@example.org")
        .args(["-f", "flag@example.org", "-t", "bob@example.net", "-m", "x"]))
    .assert_code(0);
    let senders: Vec<String> = server.messages().into_iter().map(|m| m.from).collect();
    assert_eq!(senders, ["env@example.org", "flag@example.org"]);
}

#[test]
fn the_account_is_chosen_by_name_or_by_the_sender_address() {
    let sandbox = Sandbox::new();
    let first = MailServer::start(Encryption::StartTls);
    let second = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"first\"\n{}\n{}",
            account_toml("first", &first, "one@example.org"),
            account_toml("second", &second, "two@example.org")
        ),
    );
    run(sandbox
        .command()
        .args(["--account", "second", "-t", "bob@example.net", "-m", "x"]))
    .assert_code(0);
    run(sandbox.command().args([
        "-f",
        "Two <two@example.org>",
        "-t",
        "bob@example.net",
        "-m",
        "x",
    ]))
    .assert_code(0);
    run(sandbox.command().args(["-t", "bob@example.net", "-m", "x"])).assert_code(0);
    assert_eq!(second.messages().len(), 2);
    assert_eq!(first.messages().len(), 1);

    let run =
        run(sandbox
            .command()
            .args(["--account", "third", "-t", "bob@example.net", "-m", "x"]));
    run.assert_code(78);
    assert!(
        run.stderr.contains("no account \"third\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("first, second"), "{}", run.stderr);
}

#[test]
fn a_broken_configuration_names_file_line_and_key() {
    let sandbox = Sandbox::new();
    let path = write_config(
        &sandbox,
        "[accounts.a]\nserver = \"smtp://h.example\"\ntimeout = \"soon\"\n",
    );
    let run =
        run(sandbox
            .command()
            .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "x"]));
    run.assert_code(78);
    let expected = format!("smtpsend: {}:3: timeout: ", path.display());
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
}

#[test]
fn a_world_readable_password_is_refused() {
    let sandbox = Sandbox::new();
    let path = write_config(
        &sandbox,
        "[accounts.a]\nserver = \"smtp://h.example\"\npassword = \"pw\"\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run =
        run(sandbox
            .command()
            .args(["-f", "a@example.org", "-t", "b@example.org", "-m", "x"]));
    run.assert_code(78);
    assert!(
        run.stderr.contains("can be read by others"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
}

#[test]
fn without_any_password_source_the_error_names_them_all_and_the_keyring_problem() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let config = account_toml("work", &server, "me@example.org")
        .replace(&format!("password_command = \"echo '{PASSWORD}'\"\n"), "");
    write_config(&sandbox, &format!("default = \"work\"\n{config}"));
    let run = run(sandbox.command().args(["-t", "bob@example.net", "-m", "x"]));
    run.assert_code(78);
    for source in [
        "--password-command",
        "SMTPSEND_PASSWORD_FILE",
        "password_command",
        "keyring",
        "D-Bus",
    ] {
        assert!(run.stderr.contains(source), "{source}: {}", run.stderr);
    }
    assert!(server.messages().is_empty());
}

#[test]
fn check_describes_the_server_and_tries_recipients() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n{}",
            account_toml("work", &server, "me@example.org")
        ),
    );
    let checked = run(sandbox
        .command()
        .args(["check", "--rcpt", "bob@example.net"]));
    checked.assert_code(0);
    for row in [
        "server       localhost:",
        "greeting     220",
        "tls          TLSv1.",
        "certificate ",
        "days)",
        "extensions   ",
        "auth         PLAIN as alice@example.org: accepted",
        "rcpt         <bob@example.net>: 250",
        "result       ok",
    ] {
        assert!(
            checked.stdout.contains(row),
            "missing {row:?} in\n{}",
            checked.stdout
        );
    }
    assert!(server.messages().is_empty(), "check sends nothing");

    let run = run(sandbox
        .command()
        .args(["check", "--rcpt", "refused@example.net", "--json"]));
    run.assert_code(67);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["status"], "failed");
    assert_eq!(report["recipients"][0]["accepted"], false);
    assert!(report["tls"]["certificate"]["days_left"].as_i64().unwrap() > 300);
    assert!(server.messages().is_empty());
}

#[test]
fn check_explains_a_refused_login() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let config = account_toml("work", &server, "me@example.org").replace(PASSWORD, "wrong");
    write_config(&sandbox, &format!("default = \"work\"\n{config}"));
    let run = run(sandbox.command().arg("check"));
    run.assert_code(77);
    assert!(
        run.stdout.contains("as alice@example.org: refused"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("535"), "{}", run.stderr);
}

// With a real Secret Service, login's check with the server and what it stores are tested in
// tests/postfix (the keyring scenarios); here there is none.
#[test]
fn login_without_a_secret_service_says_why() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n{}",
            account_toml("work", &server, "me@example.org")
        ),
    );
    let input = format!("{PASSWORD}\n");
    let run = run_with_stdin(
        sandbox.command().args(["login", "--password-stdin"]),
        Some(input.as_bytes()),
    );
    run.assert_code(69);
    assert!(
        run.stderr.contains("no D-Bus session bus"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("password_command"),
        "names the alternatives: {}",
        run.stderr
    );
}

#[test]
fn config_show_gives_each_value_and_its_origin_but_no_secret() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n{}",
            account_toml("work", &server, "me@example.org")
        ),
    );
    let run = run(sandbox
        .command()
        .env("SMTPSEND_USER", "other@example.org")
        .args(["config", "show", "--timeout", "7"]));
    run.assert_code(0);
    assert_eq!(shown(&run.stdout, "account").0, "work", "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("smtp://localhost:{}", server.port)),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(account work)"), "{}", run.stdout);
    assert!(run.stdout.contains("other@example.org"), "{}", run.stdout);
    assert!(
        run.stdout.contains("(environment SMTPSEND_USER)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("7 s"), "{}", run.stdout);
    assert!(run.stdout.contains("(command line)"), "{}", run.stdout);
    assert!(run.stdout.contains("password_command"), "{}", run.stdout);
}

#[test]
fn config_show_gives_the_tls_and_proxy_keys_and_their_origins() {
    let sandbox = Sandbox::new();
    let pin = format!("sha256//{}=", "A".repeat(43));
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n[accounts.work]\nserver = \"smtps://mail.example.org\"\n\
             tls_pin = \"{pin}\"\nclient_cert = \"/etc/me.pem\"\n\
             proxy = \"socks5h://127.0.0.1:9050\"\n"
        ),
    );
    let run = run(sandbox.command().env("SMTPSEND_TLS_MIN", "1.3").args([
        "config",
        "show",
        "--tls-server-name",
        "mx.example.org",
    ]));
    run.assert_code(0);
    assert_eq!(
        shown(&run.stdout, "tls_pin"),
        (pin.as_str(), "(account work)")
    );
    assert_eq!(
        shown(&run.stdout, "client_cert"),
        ("/etc/me.pem", "(account work)")
    );
    assert_eq!(
        shown(&run.stdout, "tls_min"),
        ("1.3", "(environment SMTPSEND_TLS_MIN)")
    );
    assert_eq!(
        shown(&run.stdout, "tls_server_name"),
        ("mx.example.org", "(command line)")
    );
    assert_eq!(
        shown(&run.stdout, "proxy"),
        ("socks5h://127.0.0.1:9050", "(account work)")
    );
    assert_eq!(shown(&run.stdout, "tls_pin_only").0, "(not set)");
}

/// The value and origin of one row of `config show`.
fn shown<'a>(stdout: &'a str, key: &str) -> (&'a str, &'a str) {
    let line = stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix(key)
                .filter(|rest| rest.starts_with(' '))
                .map(str::trim_start)
        })
        .unwrap_or_else(|| panic!("no {key} row: {stdout}"));
    match line.split_once("  ") {
        Some((value, origin)) => (value, origin.trim_start()),
        None => (line, ""),
    }
}

/// Issue "a newcomer's first hour": on a fresh machine `config show` says what is unset and
/// where each value would come from, instead of failing for want of a server.
#[test]
fn config_show_on_a_fresh_machine_says_what_is_unset_and_where_it_would_come_from() {
    let sandbox = Sandbox::new();
    let run = run(sandbox.command().args(["config", "show"]));
    run.assert_code(0);
    assert_eq!(run.stderr, "");
    let (value, origin) = shown(&run.stdout, "account");
    assert_eq!(value, "(none)");
    assert!(
        origin.contains(&format!(
            "no configuration file {}",
            sandbox.path("config/smtpsend/config.toml").display()
        )),
        "{origin}"
    );
    for (key, source) in [
        ("server", "SMTPSEND_SERVER"),
        ("user", "SMTPSEND_USER"),
        ("from", "SMTPSEND_FROM"),
        ("ca_file", "SMTPSEND_CA_FILE"),
        ("tls_pin", "SMTPSEND_TLS_PIN"),
        ("tls_pin_only", "SMTPSEND_TLS_PIN_ONLY"),
        ("tls_min", "SMTPSEND_TLS_MIN"),
        ("tls_server_name", "SMTPSEND_TLS_SERVER_NAME"),
        ("client_cert", "SMTPSEND_CLIENT_CERT"),
        ("client_key", "SMTPSEND_CLIENT_KEY"),
        ("proxy", "SMTPSEND_PROXY"),
        ("queue", "SMTPSEND_QUEUE"),
        ("log", "SMTPSEND_LOG"),
        ("aliases", "SMTPSEND_ALIASES"),
        ("local_domain", "SMTPSEND_LOCAL_DOMAIN"),
    ] {
        let (value, origin) = shown(&run.stdout, key);
        assert_eq!(value, "(not set)", "{key}");
        assert!(
            origin.starts_with("(would come from ") && origin.contains(source),
            "{key}: {origin}"
        );
    }
    assert_eq!(shown(&run.stdout, "timeout"), ("60 s", "(default)"));
}

#[test]
fn config_show_gives_the_sendmail_keys_and_the_variables_that_override_them() {
    let sandbox = Sandbox::new();
    write_config(
        &sandbox,
        "[accounts.work]\nserver = \"smtp://mail.example.org\"\nfrom = \"me@example.org\"\n\
         queue = \"on-failure\"\nlog = \"/var/log/smtpsend.log\"\naliases = \"/etc/aliases\"\n\
         local_domain = \"example.org\"\n\n[accounts.home]\nserver = \"smtp://mail.home.example\"\n",
    );
    for args in [
        &["config", "show", "work"][..],
        &["config", "show", "--account", "work"],
    ] {
        let run = run(sandbox.command().args(args));
        run.assert_code(0);
        assert_eq!(shown(&run.stdout, "account").0, "work", "{args:?}");
        for (key, value) in [
            ("from", "me@example.org"),
            ("queue", "on-failure"),
            ("log", "/var/log/smtpsend.log"),
            ("aliases", "/etc/aliases"),
            ("local_domain", "example.org"),
        ] {
            assert_eq!(
                shown(&run.stdout, key),
                (value, "(account work)"),
                "{args:?}"
            );
        }
    }
    // SMTPSEND_ACCOUNT picks the account as it does for a send; the argument wins over it.
    let chosen = run(sandbox
        .command()
        .env("SMTPSEND_ACCOUNT", "home")
        .args(["config", "show"]));
    assert_eq!(shown(&chosen.stdout, "account").0, "home");
    let argument = run(sandbox
        .command()
        .env("SMTPSEND_ACCOUNT", "home")
        .args(["config", "show", "work"]));
    assert_eq!(shown(&argument.stdout, "account").0, "work");

    let overridden = run(sandbox
        .command()
        .env("SMTPSEND_QUEUE", "never")
        .env("SMTPSEND_LOG", "syslog")
        .env("SMTPSEND_ALIASES", "root: admin@example.com")
        .env("SMTPSEND_LOCAL_DOMAIN", "example.net")
        .env("SMTPSEND_FROM", "other@example.org")
        .args(["config", "show", "--account", "work"]));
    overridden.assert_code(0);
    for (key, value, variable) in [
        ("from", "other@example.org", "SMTPSEND_FROM"),
        ("queue", "never", "SMTPSEND_QUEUE"),
        ("log", "syslog", "SMTPSEND_LOG"),
        ("aliases", "root: admin@example.com", "SMTPSEND_ALIASES"),
        ("local_domain", "example.net", "SMTPSEND_LOCAL_DOMAIN"),
    ] {
        assert_eq!(
            shown(&overridden.stdout, key),
            (value, format!("(environment {variable})").as_str())
        );
    }
    let bad = run(sandbox
        .command()
        .env("SMTPSEND_QUEUE", "sometimes")
        .args(["config", "show"]));
    bad.assert_code(78);
    assert!(bad.stderr.contains("SMTPSEND_QUEUE"), "{}", bad.stderr);
}

#[test]
fn an_imported_msmtp_configuration_sends() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    let msmtprc = sandbox.write(
        "msmtprc",
        format!(
            "defaults\ntls on\ntls_trust_file {ca}\nlogfile {log}\n\n\
             account work\nhost localhost\nport {port}\nfrom me@example.org\nauth on\n\
             user {USER}\npasswordeval \"echo '{PASSWORD}'\"\n\naccount default : work\n",
            ca = server.ca_file().display(),
            port = server.port,
            log = sandbox.path("msmtp.log").display(),
        ),
    );
    let imported = run(sandbox
        .command()
        .args(["config", "import-msmtprc"])
        .arg(&msmtprc));
    imported.assert_code(0);
    assert!(
        imported.stderr.contains("logfile") && imported.stderr.contains("carried over as log"),
        "notes are listed: {}",
        imported.stderr
    );
    let config = write_config(&sandbox, &imported.stdout);
    run(sandbox.command().arg("--config").arg(&config).args([
        "-t",
        "bob@example.net",
        "-m",
        "imported",
    ]))
    .assert_code(0);
    assert_eq!(server.only_message().from, "me@example.org");
    // msmtp's logfile is smtpsend's delivery log now.
    let log = std::fs::read_to_string(sandbox.path("msmtp.log")).unwrap();
    assert!(
        log.contains("from=<me@example.org> to=<bob@example.net>") && log.contains(" exit=0"),
        "{log}"
    );
}

#[test]
fn check_and_config_into_a_closed_pipe_end_quietly() {
    let sandbox = Sandbox::new();
    let server = MailServer::start(Encryption::StartTls);
    write_config(
        &sandbox,
        &format!(
            "default = \"work\"\n{}",
            account_toml("work", &server, "me@example.org")
        ),
    );
    assert_quiet_into_a_closed_pipe(sandbox.command().arg("check"), 0);
    assert_quiet_into_a_closed_pipe(sandbox.command().args(["check", "--json"]), 0);
    assert_quiet_into_a_closed_pipe(sandbox.command().args(["config", "show"]), 0);
    let msmtprc = sandbox.write(
        "msmtprc",
        "account work\nhost localhost\nfrom me@example.org\n\naccount default : work\n",
    );
    assert_quiet_into_a_closed_pipe(
        sandbox
            .command()
            .args(["config", "import-msmtprc"])
            .arg(&msmtprc),
        0,
    );
    assert!(server.messages().is_empty());
}
