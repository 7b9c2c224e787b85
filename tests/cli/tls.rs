//! What the server's TLS is held to beyond the trust anchors: public-key pins (with and
//! without the chain), the lowest version, the name verified, and that a queued message keeps
//! them. Each test asserts on what the server received.

use std::process::Command;

use crate::accounts::write_config;
use crate::support::*;

const OTHER_PIN: &str = "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A send over implicit TLS to `port` at `host`, the password in the environment.
fn send_to(sandbox: &Sandbox, host: &str, port: u16) -> Command {
    let mut command = sandbox.command();
    command
        .arg("--server")
        .arg(format!("smtps://{host}:{port}"))
        .args([
            "--timeout",
            "10",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
        ])
        .args(["-s", "pinned", "-m", "body", "--user", USER])
        .env("SMTPSEND_PASSWORD", PASSWORD);
    command
}

/// `text` holds `what`, or the test fails showing all of it.
fn says(text: &str, what: impl AsRef<str>) {
    assert!(text.contains(what.as_ref()), "{text}");
}

fn implicit() -> MailServer {
    MailServer::start(Encryption::Implicit)
}

fn pin_of(server: &MailServer) -> String {
    server.pki.as_ref().unwrap().pin()
}

#[test]
fn check_prints_the_pin_and_a_send_with_it_delivers() {
    let sandbox = Sandbox::new();
    let server = implicit();
    let pin = pin_of(&server);
    let check = run(sandbox
        .command()
        .args(["check", "--server"])
        .arg(format!("smtps://localhost:{}", server.port))
        .arg("--ca-file")
        .arg(server.ca_file()));
    check.assert_code(0);
    says(&check.stdout, format!("tls_pin = \"{pin}\""));
    run(send_to(&sandbox, "localhost", server.port)
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--tls-pin", OTHER_PIN, "--tls-pin", &pin]))
    .assert_code(0);
    assert_eq!(server.only_message().recipients, ["b@example.org"]);
}

#[test]
fn a_wrong_pin_is_exit_69_naming_the_pin_seen_and_sends_nothing() {
    let sandbox = Sandbox::new();
    let server = implicit();
    let run = run(send_to(&sandbox, "localhost", server.port)
        .arg("--ca-file")
        .arg(server.ca_file())
        .env("SMTPSEND_TLS_PIN", OTHER_PIN));
    run.assert_code(69);
    says(&run.stderr, pin_of(&server));
    says(&run.stderr, "smtpsend check");
    assert!(server.messages().is_empty());
}

#[test]
fn pin_only_trusts_a_key_whose_ca_is_not_trusted() {
    let sandbox = Sandbox::new();
    let server = implicit();
    let pin = pin_of(&server);
    // Without --ca-file the test CA is unknown: the pin alone is not enough ...
    let chained = run(send_to(&sandbox, "localhost", server.port).args(["--tls-pin", &pin]));
    chained.assert_code(69);
    says(&chained.stderr, "unknown authority");
    // ... unless it replaces the chain.
    run(send_to(&sandbox, "localhost", server.port).args(["--tls-pin", &pin, "--tls-pin-only"]))
        .assert_code(0);
    assert_eq!(server.messages().len(), 1);
    let wrong = run(send_to(&sandbox, "localhost", server.port).args([
        "--tls-pin",
        OTHER_PIN,
        "--tls-pin-only",
    ]));
    wrong.assert_code(69);
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn pin_only_without_a_pin_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let run = run(send_to(&sandbox, "localhost", closed_port()).arg("--tls-pin-only"));
    run.assert_code(64);
    says(&run.stderr, "--tls-pin");
}

#[test]
fn tls_min_1_3_refuses_a_server_of_tls_1_2_only() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let config = pki.server_config_speaking(&[&rustls::version::TLS12]);
    let server = MailServer::implicit_with_config(pki, config, 0);
    let refused = run(send_to(&sandbox, "localhost", server.port)
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--tls-min", "1.3"]));
    refused.assert_code(69);
    assert!(server.messages().is_empty());
    run(send_to(&sandbox, "localhost", server.port)
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--tls-min", "1.2", "--json"]))
    .assert_code(0);
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn tls_min_below_1_2_is_refused_by_name() {
    let sandbox = Sandbox::new();
    let run = run(send_to(&sandbox, "localhost", closed_port()).args(["--tls-min", "1.0"]));
    run.assert_code(64);
    says(&run.stderr, "only TLS 1.2 and 1.3");
}

#[test]
fn tls_server_name_verifies_another_name_than_the_address_connected_to() {
    let sandbox = Sandbox::new();
    // A certificate for localhost only, not for 127.0.0.1.
    let pki = Pki::for_names(&["localhost"], false);
    let config = pki.server_config_speaking(rustls::DEFAULT_VERSIONS);
    let server = MailServer::implicit_with_config(pki, config, 0);
    let by_address = run(send_to(&sandbox, "127.0.0.1", server.port)
        .arg("--ca-file")
        .arg(server.ca_file()));
    by_address.assert_code(69);
    says(&by_address.stderr, "not valid for this host name");
    run(send_to(&sandbox, "127.0.0.1", server.port)
        .arg("--ca-file")
        .arg(server.ca_file())
        .args(["--tls-server-name", "localhost"]))
    .assert_code(0);
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn the_account_keys_set_the_same() {
    let sandbox = Sandbox::new();
    let pki = Pki::for_names(&["localhost"], false);
    let pin = pki.pin();
    let config = pki.server_config_speaking(rustls::ALL_VERSIONS);
    let server = MailServer::implicit_with_config(pki, config, 0);
    write_config(
        &sandbox,
        &format!(
            "default = \"a\"\n[accounts.a]\nserver = \"smtps://127.0.0.1:{}\"\n\
             from = \"a@example.org\"\nuser = \"{USER}\"\n\
             password_command = \"echo '{PASSWORD}'\"\nca_file = \"{}\"\n\
             tls_pin = \"{pin}\"\ntls_min = 1.3\ntls_server_name = \"localhost\"\n",
            server.port,
            server.ca_file().display(),
        ),
    );
    run(sandbox
        .command()
        .args(["-t", "b@example.org", "-s", "s", "-m", "body"]))
    .assert_code(0);
    assert_eq!(server.messages().len(), 1);
    write_config(
        &sandbox,
        "default = \"a\"\n[accounts.a]\nserver = \"smtps://localhost\"\n\ntls_pin = [\"sha256//short\"]\n",
    );
    let bad = run(sandbox
        .command()
        .args(["-t", "b@example.org", "-m", "body"]));
    bad.assert_code(78);
    says(&bad.stderr, "config.toml:5: tls_pin:");
}

#[test]
fn a_queued_message_is_flushed_with_the_pins_it_was_sent_with() {
    let sandbox = Sandbox::new();
    let pki = Pki::localhost();
    let pin = pki.pin();
    let port = closed_port();
    for (subject, pins) in [("right", pin.as_str()), ("wrong", OTHER_PIN)] {
        run(send_to(&sandbox, "localhost", port)
            .arg("--ca-file")
            .arg(&pki.ca_file)
            .args([
                "--queue",
                "--tls-pin",
                pins,
                "-H",
                &format!("X-Pin: {subject}"),
            ]))
        .assert_code(75);
    }
    let config = pki.server_config_speaking(rustls::DEFAULT_VERSIONS);
    let server = MailServer::implicit_with_config(pki, config, port);
    let flush = run(sandbox
        .command()
        .args(["queue", "flush", "--now"])
        .env("SMTPSEND_PASSWORD", PASSWORD));
    assert_ne!(flush.code, 0, "{}", flush.stderr);
    let subjects: Vec<String> = server
        .messages()
        .iter()
        .map(|m| m.parsed().header_raw("X-Pin").unwrap().trim().to_string())
        .collect();
    assert_eq!(subjects, ["right"]);
}

/// A server that takes only clients with a certificate the test CA signed.
fn requiring_client_cert() -> MailServer {
    let pki = Pki::localhost();
    let config = pki.server_config_requiring_client_cert();
    MailServer::implicit_with_config(pki, config, 0)
}

/// A send to `server` with its CA trusted and no login of its own.
fn certified_send(sandbox: &Sandbox, server: &MailServer) -> Command {
    let mut command = sandbox.command();
    command
        .arg("--server")
        .arg(format!("smtps://localhost:{}", server.port))
        .arg("--ca-file")
        .arg(server.ca_file())
        .args([
            "--timeout",
            "10",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
        ])
        .args(["-s", "certified", "-m", "body"]);
    command
}

#[test]
fn a_client_certificate_logs_in_with_external_when_no_user_is_given() {
    let sandbox = Sandbox::new();
    let server = requiring_client_cert();
    let pki = server.pki.as_ref().unwrap();
    let run = run(certified_send(&sandbox, &server)
        .arg("--client-cert")
        .arg(&pki.client_cert_file)
        .arg("--client-key")
        .arg(&pki.client_key_file)
        .arg("--json"));
    run.assert_code(0);
    says(&run.stdout, "EXTERNAL");
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(server.only_message().recipients, ["b@example.org"]);
}

#[test]
fn without_the_client_certificate_the_server_refuses_and_nothing_is_sent() {
    let sandbox = Sandbox::new();
    let server = requiring_client_cert();
    let run = run(certified_send(&sandbox, &server)
        .args(["--user", USER])
        .env("SMTPSEND_PASSWORD", PASSWORD));
    run.assert_code(69);
    says(&run.stderr, "--client-cert");
    assert!(server.messages().is_empty());
}

#[test]
fn auth_external_from_the_account_and_a_key_others_can_read_is_warned_about() {
    let sandbox = Sandbox::new();
    let server = requiring_client_cert();
    let pki = server.pki.as_ref().unwrap();
    // Certificate and key in one file, readable by all.
    let both = sandbox.write(
        "both.pem",
        [
            std::fs::read(&pki.client_cert_file).unwrap(),
            std::fs::read(&pki.client_key_file).unwrap(),
        ]
        .concat(),
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&both, std::fs::Permissions::from_mode(0o644)).unwrap();
    write_config(
        &sandbox,
        &format!(
            "default = \"a\"\n[accounts.a]\nserver = \"smtps://localhost:{}\"\n\
             from = \"a@example.org\"\nca_file = \"{}\"\nclient_cert = \"{}\"\n\
             auth = \"external\"\nuser = \"{USER}\"\n",
            server.port,
            server.ca_file().display(),
            both.display(),
        ),
    );
    let check = run(sandbox.command().arg("check"));
    check.assert_code(0);
    says(&check.stdout, "EXTERNAL as alice@example.org: accepted");
    says(&check.stdout, "smtpsend test client");
    says(&check.stderr, "can be read by others");
    run(sandbox
        .command()
        .args(["-t", "b@example.org", "-m", "body"]))
    .assert_code(0);
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn auth_external_without_a_certificate_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let run = run(send_to(&sandbox, "localhost", closed_port()).args(["--auth", "external"]));
    run.assert_code(64);
    says(&run.stderr, "client certificate");
}
