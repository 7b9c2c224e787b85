//! Built-in OAuth2 through the binary, against a scripted token endpoint and a scripted SMTP
//! server on loopback, for what the real servers of tests/oauth2 will not do on demand: a
//! server that refuses a token with an error JSON in its 334 challenge, and a 10 KB token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::support::*;

type Log = Arc<Mutex<Vec<String>>>;

/// An HTTP endpoint answering each request with the next body (status 200 or 400).
fn token_endpoint(responses: Vec<(u16, String)>) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let seen = log.clone();
    std::thread::spawn(move || {
        for (status, body) in responses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut first, mut length) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if first.is_empty() {
                    first = line.trim_end().to_string();
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body_in = vec![0; length];
            let _ = reader.read_exact(&mut body_in);
            seen.lock()
                .unwrap()
                .push(format!("{first} {}", String::from_utf8_lossy(&body_in)));
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, log)
}

/// An SMTP server for two connections: the first refuses the token with an error challenge,
/// the second accepts whatever token comes and takes the message. Records every line.
fn refusing_then_accepting() -> (u16, Log) {
    refusing_with_then_accepting(None)
}

/// The same, the first connection refusing with `reply` at once (no challenge) when given.
fn refusing_with_then_accepting(reply: Option<&'static str>) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let heard = log.clone();
    std::thread::spawn(move || {
        for connection in 0..2 {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            let mut hear = || {
                let mut line = String::new();
                lines.read_line(&mut line).unwrap_or(0);
                heard
                    .lock()
                    .unwrap()
                    .push(format!("{connection}: {}", line.trim_end()));
                line
            };
            let mut say = |text: &str| out.write_all(text.as_bytes()).is_ok();
            say("220 test ESMTP\r\n");
            hear();
            say("250-test\r\n250 AUTH XOAUTH2 OAUTHBEARER\r\n");
            hear();
            if let (0, Some(reply)) = (connection, reply) {
                say(reply);
                hear();
                say("221 bye\r\n");
                continue;
            }
            if connection == 0 {
                let json = BASE64.encode(
                    r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#,
                );
                say(&format!("334 {json}\r\n"));
                hear();
                say("535 5.7.8 Username and Password not accepted\r\n");
                hear();
                say("221 bye\r\n");
                continue;
            }
            say("235 2.7.0 Accepted\r\n");
            for reply in ["250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 go\r\n"] {
                hear();
                say(reply);
            }
            while hear().trim_end() != "." {}
            say("250 2.0.0 Ok: queued as X\r\n");
            hear();
            say("221 bye\r\n");
        }
    });
    (port, log)
}

fn config(sandbox: &Sandbox, token_port: u16, smtp_port: u16) {
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            r#"default = "work"
[accounts.work]
server = "smtp+plain://localhost:{smtp_port}"
user = "alice@example.org"
from = "alice@example.org"
oauth2_provider = "custom"
oauth2_client_id = "test-client"
oauth2_token_url = "http://127.0.0.1:{token_port}/token"
oauth2_device_authorization_url = "http://127.0.0.1:{token_port}/device"
oauth2_scopes = ["smtp"]
oauth2_token_store = "file"
"#
        ),
    );
}

#[test]
fn a_refused_token_is_refreshed_once_and_a_10_kb_token_goes_through_whole() {
    let sandbox = Sandbox::new();
    let big = format!("ya29.{}", "B".repeat(10 * 1024));
    let (token_port, requests) = token_endpoint(vec![
        (
            200,
            r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"http://127.0.0.1/device","expires_in":600,"interval":1}"#.into(),
        ),
        (
            200,
            r#"{"access_token":"first-token","token_type":"Bearer","expires_in":3600,"refresh_token":"refresh-one"}"#.into(),
        ),
        (
            200,
            format!(r#"{{"access_token":"{big}","token_type":"Bearer","expires_in":3600,"refresh_token":"refresh-two"}}"#),
        ),
    ]);
    let (smtp_port, heard) = refusing_then_accepting();
    config(&sandbox, token_port, smtp_port);

    let login = run(sandbox
        .command()
        .args(["login", "work", "--device", "--no-verify"]));
    login.assert_code(0);
    assert!(
        login.stderr.contains("enter the code WDJB-MJHT"),
        "{}",
        login.stderr
    );

    let send = run(sandbox.command().args([
        "-t",
        "bob@example.org",
        "-s",
        "refused then fine",
        "-m",
        "hi",
        "-v",
    ]));
    send.assert_code(0);
    let heard = heard.lock().unwrap().clone();
    let auth = |token: &str| {
        BASE64.encode(format!(
            "user=alice@example.org\x01auth=Bearer {token}\x01\x01"
        ))
    };
    assert!(
        heard.contains(&format!("0: AUTH XOAUTH2 {}", auth("first-token"))),
        "{heard:?}"
    );
    assert!(
        heard.contains(&format!("1: AUTH XOAUTH2 {}", auth(&big))),
        "{heard:?}"
    );
    // The error JSON of the challenge is shown, decoded; then the refresh and a new connection.
    assert!(
        send.stderr.contains(r#"the server refused the token: {"schemes":"bearer","scope":"https://mail.google.com/","status":"401"}"#),
        "{}",
        send.stderr
    );
    assert!(
        send.stderr.contains("getting a new one and trying again"),
        "{}",
        send.stderr
    );
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(
        requests[2].contains("grant_type=refresh_token&refresh_token=refresh-one"),
        "{requests:?}"
    );
    // The rotated refresh token is what is stored now; no token in any output.
    let state = std::fs::read_dir(sandbox.path("state/smtpsend/oauth2"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let stored = std::fs::read_to_string(state).unwrap();
    assert!(stored.contains("\"refresh-two\"") && stored.contains(&big));
    for output in [&login.stdout, &login.stderr, &send.stdout, &send.stderr] {
        for secret in ["first-token", "refresh-one", "refresh-two", &big[..40]] {
            assert!(!output.contains(secret), "{secret} shown: {output}");
        }
    }
}

#[test]
fn a_refused_token_whose_refresh_fails_ends_with_the_login_to_run() {
    let sandbox = Sandbox::new();
    let (token_port, _) = token_endpoint(vec![
        (
            200,
            r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"http://127.0.0.1/device","expires_in":600,"interval":1}"#.into(),
        ),
        (
            200,
            r#"{"access_token":"first-token","token_type":"Bearer","expires_in":3600,"refresh_token":"refresh-one"}"#.into(),
        ),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#.into(),
        ),
    ]);
    let (smtp_port, heard) = refusing_then_accepting();
    config(&sandbox, token_port, smtp_port);
    sandbox.write(
        "config/smtpsend/config.toml",
        std::fs::read_to_string(sandbox.path("config/smtpsend/config.toml"))
            .unwrap()
            .replace("\"custom\"", "\"google\""),
    );
    run(sandbox
        .command()
        .args(["login", "work", "--device", "--no-verify"]))
    .assert_code(0);
    let send = run(sandbox
        .command()
        .args(["-t", "bob@example.org", "-m", "hi"]));
    send.assert_code(77);
    assert!(send.stderr.contains("invalid_grant"), "{}", send.stderr);
    assert!(send.stderr.contains("7 days"), "{}", send.stderr);
    assert!(
        send.stderr.contains("run `smtpsend login work`"),
        "{}",
        send.stderr
    );
    // One connection only: no second AUTH without a new token.
    assert!(heard.lock().unwrap().iter().all(|l| l.starts_with("0: ")));
}

#[test]
fn send_as_denied_names_the_from_address() {
    let sandbox = Sandbox::new();
    let server = ScriptedServer::start(script([
        greeted(),
        envelope_accepted(),
        vec![
            Act::HearData,
            Act::Say(
                "554 5.2.252 SendAsDenied; alice@example.org not allowed to send as boss@example.org\r\n",
            ),
        ],
        listen(),
    ]));
    let run = run(sandbox
        .command()
        .args(send_args("smtp+plain", server.port))
        .args(["-f", "boss@example.org", "-t", "b@example.org", "-m", "hi"]));
    run.assert_code(65);
    assert!(run.stderr.contains("554 5.2.252"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: the From address is not the signed-in mailbox"),
        "{}",
        run.stderr
    );
}

/// A `$BROWSER` that does what a browser and a person would: it reads the authorize URL, then
/// visits the loopback redirect, first with a stray request and a wrong state (which must be
/// turned away), then with the right one.
const BROWSER: &str = r#"#!/bin/bash
url=$1
printf '%s\n' "$url" >"$BROWSER_OUT"
port=$(sed -E 's/.*redirect_uri=http%3A%2F%2F(127\.0\.0\.1|localhost)%3A([0-9]+).*/\2/' <<<"$url")
state=$(sed -E 's/.*[?&]state=([^&]*).*/\1/' <<<"$url")
get() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    IFS= read -r status <&3
    printf '%s\n' "$status" >>"$BROWSER_OUT.pages"
    cat <&3 >>"$BROWSER_OUT.bodies"
    exec 3>&-
}
get /favicon.ico
get "/?code=c0de&state=not-$state"
get "/?code=c0de&state=$state"
: >"$BROWSER_OUT.done"
"#;

#[test]
fn the_code_flow_uses_pkce_s256_and_a_checked_state_on_loopback() {
    use sha2::Digest;
    let sandbox = Sandbox::new();
    let (token_port, requests) = token_endpoint(vec![(
        200,
        r#"{"access_token":"code-token","token_type":"Bearer","expires_in":3600,"refresh_token":"code-refresh"}"#.into(),
    )]);
    config(&sandbox, token_port, closed_port());
    let path = sandbox.path("config/smtpsend/config.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "oauth2_scopes",
        &format!("oauth2_authorize_url = \"http://127.0.0.1:{token_port}/auth\"\noauth2_scopes"),
    );
    std::fs::write(&path, text).unwrap();
    let browser = sandbox.write("browser.sh", BROWSER);
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = sandbox.path("browser.out");
    let login = run(sandbox
        .command()
        .args(["login", "work", "--no-verify"])
        .env("BROWSER", &browser)
        .env("BROWSER_OUT", &out));
    login.assert_code(0);
    let url = std::fs::read_to_string(&out).unwrap();
    // The address is printed whatever the browser does.
    assert!(login.stderr.contains(url.trim()), "{}", login.stderr);
    let param = |text: &str, name: &str| {
        text.split(['?', '&', ' ', '\n'])
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(String::from)
            .unwrap_or_default()
    };
    assert_eq!(param(&url, "code_challenge_method"), "S256");
    assert_eq!(param(&url, "response_type"), "code");
    assert_eq!(param(&url, "scope"), "smtp");
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let exchange = &requests[0];
    assert!(
        exchange.contains("grant_type=authorization_code"),
        "{exchange}"
    );
    assert!(exchange.contains("code=c0de"), "{exchange}");
    assert_eq!(param(exchange, "redirect_uri"), param(&url, "redirect_uri"));
    let verifier = param(exchange, "code_verifier");
    assert!(verifier.len() >= 43, "{exchange}");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    assert_eq!(param(&url, "code_challenge"), challenge);
    // The stray request and the wrong state were turned away; the right one got the page.
    // The browser may still be writing down the last page when smtpsend has its code.
    let done = sandbox.path("browser.out.done");
    let waited = Instant::now();
    while !done.exists() && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pages = std::fs::read_to_string(format!("{}.pages", out.display())).unwrap();
    let statuses: Vec<_> = pages
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["404", "400", "200"], "{pages}");
    let bodies = std::fs::read_to_string(format!("{}.bodies", out.display())).unwrap();
    assert!(bodies.contains("You can close this tab"), "{bodies}");
    assert!(!login.stdout.contains("code-token") && !login.stderr.contains("code-refresh"));
}

#[test]
fn login_flags_fit_the_account() {
    let sandbox = Sandbox::new();
    config(&sandbox, closed_port(), closed_port());
    let run_login = |args: &[&str]| run(sandbox.command().arg("login").args(args));
    let stdin = run_login(&["work", "--password-stdin"]);
    stdin.assert_code(64);
    assert!(
        stdin.stderr.contains("signs in with OAuth2"),
        "{}",
        stdin.stderr
    );
    let plain = Sandbox::new();
    let device = run(plain.command().args([
        "login",
        "--server",
        "smtp://localhost",
        "--user",
        "u",
        "--device",
    ]));
    device.assert_code(64);
    assert!(
        device
            .stderr
            .contains("only for an account with oauth2_provider"),
        "{}",
        device.stderr
    );
    let both = run_login(&["work", "--device", "--no-browser"]);
    both.assert_code(64);
}

#[test]
fn a_provider_named_in_the_environment_alone_brings_its_server_and_mechanism() {
    let sandbox = Sandbox::new();
    let show = run(sandbox
        .command()
        .args(["config", "show"])
        .env("SMTPSEND_OAUTH2_PROVIDER", "google")
        .env("SMTPSEND_OAUTH2_CLIENT_ID", "id.apps.googleusercontent.com")
        .env("SMTPSEND_OAUTH2_TOKEN_STORE", "file")
        .env("SMTPSEND_USER", "me@gmail.com"));
    show.assert_code(0);
    assert!(
        show.stdout.contains("smtps://smtp.gmail.com:465"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("xoauth2"), "{}", show.stdout);
    assert!(show.stdout.contains("needs login"), "{}", show.stdout);
}

#[test]
fn an_endpoint_in_the_clear_off_loopback_is_refused() {
    let sandbox = Sandbox::new();
    config(&sandbox, 1, 1);
    let path = sandbox.path("config/smtpsend/config.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("http://127.0.0.1:1/token", "http://login.example.com/token");
    std::fs::write(&path, text).unwrap();
    let run = run(sandbox.command().args(["check", "work"]));
    run.assert_code(78);
    assert!(run.stderr.contains("oauth2_token_url"), "{}", run.stderr);
    assert!(run.stderr.contains("not https://"), "{}", run.stderr);
}

#[test]
fn a_token_endpoint_out_of_reach_is_a_temporary_failure_and_the_message_waits() {
    let sandbox = Sandbox::new();
    // After these two answers the endpoint is gone; the access token is too short-lived to use.
    let (token_port, _) = token_endpoint(vec![
        (
            200,
            r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"http://127.0.0.1/device","expires_in":600,"interval":1}"#.into(),
        ),
        (
            200,
            r#"{"access_token":"short","token_type":"Bearer","expires_in":30,"refresh_token":"r"}"#
                .into(),
        ),
    ]);
    config(&sandbox, token_port, closed_port());
    run(sandbox
        .command()
        .args(["login", "work", "--device", "--no-verify"]))
    .assert_code(0);
    std::thread::sleep(Duration::from_millis(100));
    let send = run(sandbox.command().args([
        "-t",
        "bob@example.org",
        "-s",
        "later",
        "-m",
        "hi",
        "--queue",
    ]));
    send.assert_code(75);
    assert!(
        send.stderr
            .contains("refreshing the access token: no answer from"),
        "{}",
        send.stderr
    );
    assert!(send.stderr.contains("queued as"), "{}", send.stderr);
    let list = run(sandbox.command().args(["queue", "list"]));
    assert!(
        list.stdout.contains("later") || list.stdout.contains("bob@example.org"),
        "{}",
        list.stdout
    );
}

#[test]
fn the_microsoft_preset_asks_for_smtp_send_with_offline_access_on_a_localhost_redirect() {
    let sandbox = Sandbox::new();
    let (token_port, requests) = token_endpoint(vec![(
        200,
        r#"{"access_token":"ms-token","token_type":"Bearer","expires_in":3600,"refresh_token":"ms-refresh"}"#.into(),
    )]);
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            r#"[accounts.work]
user = "me@example.com"
oauth2_provider = "microsoft"
oauth2_client_id = "00000000-0000-0000-0000-000000000000"
# The preset's endpoints, pointed at this test.
oauth2_authorize_url = "http://127.0.0.1:{token_port}/authorize"
oauth2_token_url = "http://127.0.0.1:{token_port}/token"
oauth2_token_store = "file"
"#
        ),
    );
    let show = run(sandbox.command().args(["config", "show", "work"]));
    assert!(
        show.stdout.contains("smtp://smtp.office365.com:587"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("xoauth2"), "{}", show.stdout);
    let browser = sandbox.write("browser.sh", BROWSER);
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = sandbox.path("browser.out");
    let login = run(sandbox
        .command()
        .args(["login", "work", "--no-verify"])
        .env("BROWSER", &browser)
        .env("BROWSER_OUT", &out));
    login.assert_code(0);
    let url = std::fs::read_to_string(&out).unwrap();
    assert!(
        url.contains("scope=https%3A%2F%2Foutlook.office.com%2FSMTP.Send+offline_access"),
        "{url}"
    );
    let redirect = url
        .split('&')
        .find_map(|p| p.strip_prefix("redirect_uri="))
        .unwrap()
        .trim();
    assert!(
        redirect.starts_with("http%3A%2F%2Flocalhost%3A") && !redirect.ends_with("%2F"),
        "{redirect}"
    );
    assert!(requests.lock().unwrap()[0].contains(&format!("redirect_uri={redirect}")));
}

#[test]
fn a_token_refused_with_535_5_7_3_or_454_4_7_0_is_refreshed_once() {
    for refusal in [
        "535 5.7.3 Authentication unsuccessful\r\n",
        "454 4.7.0 Temporary authentication failure\r\n",
    ] {
        let sandbox = Sandbox::new();
        let (token_port, requests) = token_endpoint(vec![
            (
                200,
                r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"http://127.0.0.1/device","expires_in":600,"interval":1}"#.into(),
            ),
            (
                200,
                r#"{"access_token":"first","token_type":"Bearer","expires_in":3600,"refresh_token":"r1"}"#.into(),
            ),
            (
                200,
                r#"{"access_token":"second","token_type":"Bearer","expires_in":3600,"refresh_token":"r2"}"#.into(),
            ),
        ]);
        let (smtp_port, heard) = refusing_with_then_accepting(Some(refusal));
        config(&sandbox, token_port, smtp_port);
        run(sandbox
            .command()
            .args(["login", "work", "--device", "--no-verify"]))
        .assert_code(0);
        let send = run(sandbox
            .command()
            .args(["-t", "bob@example.org", "-m", "hi"]));
        send.assert_code(0);
        let auth = |token: &str| {
            BASE64.encode(format!(
                "user=alice@example.org\x01auth=Bearer {token}\x01\x01"
            ))
        };
        let heard = heard.lock().unwrap().clone();
        assert!(
            heard.contains(&format!("0: AUTH XOAUTH2 {}", auth("first"))),
            "{heard:?}"
        );
        assert!(
            heard.contains(&format!("1: AUTH XOAUTH2 {}", auth("second"))),
            "{heard:?}"
        );
        assert_eq!(requests.lock().unwrap().len(), 3, "{refusal}");
    }
}

#[test]
fn a_token_refused_with_a_bare_535_5_7_8_is_not_refreshed() {
    let sandbox = Sandbox::new();
    let (token_port, requests) = token_endpoint(vec![
        (
            200,
            r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"http://127.0.0.1/device","expires_in":600,"interval":1}"#.into(),
        ),
        (
            200,
            r#"{"access_token":"first","token_type":"Bearer","expires_in":3600,"refresh_token":"r1"}"#.into(),
        ),
    ]);
    let (smtp_port, heard) =
        refusing_with_then_accepting(Some("535 5.7.8 Error: authentication failed\r\n"));
    config(&sandbox, token_port, smtp_port);
    run(sandbox
        .command()
        .args(["login", "work", "--device", "--no-verify"]))
    .assert_code(0);
    let send = run(sandbox
        .command()
        .args(["-t", "bob@example.org", "-m", "hi"]));
    send.assert_code(77);
    assert_eq!(requests.lock().unwrap().len(), 2);
    assert!(heard.lock().unwrap().iter().all(|l| l.starts_with("0: ")));
}
