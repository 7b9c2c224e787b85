//! SCRAM (RFC 5802, RFC 7677) against a server that checks the client's proof the RFC's way,
//! with channel binding on TLS 1.3 (RFC 9266) and TLS 1.2 (RFC 5929).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::support::*;

const PASSWORD: &str = "pencil, with a comma";
const SALT: &[u8] = b"salt of the test";

type Log = Arc<Mutex<Vec<String>>>;

/// How the server plays its part.
#[derive(Clone, Copy)]
enum Server {
    Honest,
    /// Sends a server signature made with the wrong key.
    Impostor,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Answers one SCRAM-SHA-256 exchange started by `auth` (`AUTH MECH initial-response`);
/// `binding` is what the channel binds to. Gives what to say last.
fn scram_server<S: Read + Write>(
    io: &mut BufReader<S>,
    auth: &str,
    binding: &[u8],
    mode: Server,
    hear: &mut dyn FnMut(&mut BufReader<S>) -> String,
) -> &'static str {
    let say = |io: &mut BufReader<S>, text: String| {
        let stream = io.get_mut();
        stream.write_all(text.as_bytes()).unwrap();
        stream.flush().unwrap();
    };
    let first = String::from_utf8(BASE64.decode(auth.split(' ').nth(2).unwrap()).unwrap()).unwrap();
    let (header, bare) = match first.match_indices(",,").next() {
        Some((at, _)) => (&first[..at + 2], &first[at + 2..]),
        None => return "501 bad\r\n",
    };
    let nonce = bare.split(",r=").nth(1).unwrap();
    let server_first = format!("r={nonce}server-part,s={},i=4096", BASE64.encode(SALT));
    say(io, format!("334 {}\r\n", BASE64.encode(&server_first)));
    let last = String::from_utf8(BASE64.decode(hear(io).trim_end()).unwrap()).unwrap();
    let (without_proof, proof) = last.rsplit_once(",p=").unwrap();
    let mut channel = header.as_bytes().to_vec();
    if header.starts_with("p=") {
        channel.extend_from_slice(binding);
    }
    if !without_proof.starts_with(&format!("c={},", BASE64.encode(channel))) {
        return "535 5.7.8 channel binding differs\r\n";
    }
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let salted = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(PASSWORD.as_bytes(), SALT, 4096);
    let stored_key = Sha256::digest(hmac(&salted, b"Client Key"));
    let signature = hmac(&stored_key, auth_message.as_bytes());
    let client_key: Vec<u8> = BASE64
        .decode(proof)
        .unwrap()
        .iter()
        .zip(&signature)
        .map(|(p, s)| p ^ s)
        .collect();
    if Sha256::digest(&client_key) != stored_key {
        return "535 5.7.8 Error: authentication failed\r\n";
    }
    let server_key = match mode {
        Server::Honest => hmac(&salted, b"Server Key"),
        Server::Impostor => hmac(b"not the key", b"Server Key"),
    };
    let verifier = hmac(&server_key, auth_message.as_bytes());
    say(
        io,
        format!(
            "334 {}\r\n",
            BASE64.encode(format!("v={}", BASE64.encode(verifier)))
        ),
    );
    if hear(io) != "\r\n" {
        return "";
    }
    "235 2.7.0 Authentication successful\r\n"
}

/// A server offering `mechanisms` that takes one message after SCRAM, over TLS when `tls`
/// (implicit, TLS 1.2 only when `tls12`); every line it hears is logged.
fn server(mechanisms: &'static str, mode: Server, tls: Option<(&Pki, bool)>) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let heard = log.clone();
    let config = tls.map(|(pki, tls12)| {
        let mut config = (*pki.server_config()).clone();
        if tls12 {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let key = rustls::pki_types::PrivateKeyDer::Pkcs8(pki.key_der.clone().into());
            config = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS12])
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(pki.chain.clone(), key)
                .unwrap();
        }
        (Arc::new(config), tls12, pki.chain[0].to_vec())
    });
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        match config {
            None => dialogue(BufReader::new(stream), mechanisms, mode, &heard, |_| {
                Vec::new()
            }),
            Some((config, tls12, certificate)) => {
                let connection = rustls::ServerConnection::new(config).unwrap();
                let tls = rustls::StreamOwned::new(connection, stream);
                dialogue(BufReader::new(tls), mechanisms, mode, &heard, |tls| {
                    if tls12 {
                        Sha256::digest(&certificate).to_vec()
                    } else {
                        tls.get_ref()
                            .conn
                            .export_keying_material(
                                [0u8; 32],
                                b"EXPORTER-Channel-Binding",
                                Some(b""),
                            )
                            .unwrap()
                            .to_vec()
                    }
                })
            }
        }
    });
    (port, log)
}

fn dialogue<S: Read + Write>(
    mut io: BufReader<S>,
    mechanisms: &str,
    mode: Server,
    log: &Log,
    binding: impl Fn(&BufReader<S>) -> Vec<u8>,
) {
    let mut hear = |io: &mut BufReader<S>| {
        let mut line = String::new();
        let shown = match io.read_line(&mut line).unwrap_or(0) {
            0 => "<closed>",
            _ => line.trim_end(),
        };
        log.lock().unwrap().push(shown.to_string());
        line
    };
    let say = |io: &mut BufReader<S>, text: &str| {
        let stream = io.get_mut();
        let _ = stream
            .write_all(text.as_bytes())
            .and_then(|()| stream.flush());
    };
    say(&mut io, "220 test ESMTP\r\n");
    hear(&mut io);
    say(&mut io, &format!("250-test\r\n250 AUTH {mechanisms}\r\n"));
    let auth = hear(&mut io);
    let binding = binding(&io);
    let last = scram_server(&mut io, auth.trim_end(), &binding, mode, &mut hear);
    if last.is_empty() {
        return;
    }
    say(&mut io, last);
    if !last.starts_with("235") {
        hear(&mut io);
        say(&mut io, "221 bye\r\n");
        return;
    }
    for reply in ["250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 go\r\n"] {
        hear(&mut io);
        say(&mut io, reply);
    }
    while !matches!(hear(&mut io).trim_end(), "." | "") {}
    say(&mut io, "250 2.0.0 Ok: queued as X\r\n");
    hear(&mut io);
    say(&mut io, "221 bye\r\n");
}

/// A send as alice with `password`, -v and --json.
fn send_with(password: &str, scheme: &str, port: u16, pki: Option<&Pki>, extra: &[&str]) -> Run {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command
        .args(send_args(scheme, port))
        .args([
            "--user",
            "alice",
            "-f",
            "a@example.org",
            "-t",
            "b@example.org",
        ])
        .args(["-m", "hi", "-v", "--json"])
        .args(extra)
        .env("SMTPSEND_PASSWORD", password);
    if let Some(pki) = pki {
        command.arg("--ca-file").arg(&pki.ca_file);
    }
    run(&mut command)
}

fn send(scheme: &str, port: u16, pki: Option<&Pki>, extra: &[&str]) -> Run {
    send_with(PASSWORD, scheme, port, pki, extra)
}

fn first_message(log: &Log) -> String {
    let heard = log.lock().unwrap().clone();
    let auth = heard.iter().find(|l| l.starts_with("AUTH ")).expect("AUTH");
    String::from_utf8(BASE64.decode(auth.split(' ').nth(2).unwrap()).unwrap()).unwrap()
}

#[test]
fn auto_prefers_scram_sha_256_plus_bound_to_tls_1_3() {
    let pki = Pki::localhost();
    let offered = "PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS";
    let (port, log) = server(offered, Server::Honest, Some((&pki, false)));
    let sent = send("smtps", port, Some(&pki), &[]);
    sent.assert_code(0);
    assert!(first_message(&log).starts_with("p=tls-exporter,,n=alice,r="));
    assert!(
        sent.stdout.contains(r#""mechanism":"SCRAM-SHA-256-PLUS""#),
        "{}",
        sent.stdout
    );
    assert!(
        sent.stderr.contains("AUTH SCRAM-SHA-256-PLUS <redacted>"),
        "{}",
        sent.stderr
    );
    let heard = log.lock().unwrap().clone();
    for line in heard
        .iter()
        .filter(|l| !l.is_empty() && !l.starts_with("AUTH"))
    {
        if line.len() > 40 && BASE64.decode(line).is_ok() {
            assert!(
                !sent.stderr.contains(line.as_str()),
                "the proof shows: {}",
                sent.stderr
            );
        }
    }
    assert!(!sent.stderr.contains(PASSWORD));
}

#[test]
fn tls_1_2_binds_to_the_server_certificate() {
    let pki = Pki::localhost();
    let (port, log) = server(
        "SCRAM-SHA-256 SCRAM-SHA-256-PLUS",
        Server::Honest,
        Some((&pki, true)),
    );
    send("smtps", port, Some(&pki), &[]).assert_code(0);
    assert!(first_message(&log).starts_with("p=tls-server-end-point,,"));
}

#[test]
fn without_plus_on_offer_the_client_says_it_could_bind() {
    let pki = Pki::localhost();
    let (port, log) = server("PLAIN SCRAM-SHA-256", Server::Honest, Some((&pki, false)));
    send("smtps", port, Some(&pki), &[]).assert_code(0);
    assert!(first_message(&log).starts_with("y,,n=alice,r="));
}

#[test]
fn scram_by_name_on_loopback_in_the_clear_binds_nothing() {
    let (port, log) = server("PLAIN SCRAM-SHA-256", Server::Honest, None);
    send("smtp+plain", port, None, &["--auth", "scram-sha-256"]).assert_code(0);
    assert!(first_message(&log).starts_with("n,,n=alice,r="));
}

#[test]
fn a_server_that_cannot_prove_it_knows_the_password_gets_nothing_more() {
    let pki = Pki::localhost();
    let (port, log) = server("SCRAM-SHA-256-PLUS", Server::Impostor, Some((&pki, false)));
    let sent = send("smtps", port, Some(&pki), &[]);
    sent.assert_code(77);
    assert!(
        sent.stderr.contains("SCRAM signature is wrong"),
        "{}",
        sent.stderr
    );
    std::thread::sleep(Duration::from_millis(200));
    let heard = log.lock().unwrap().clone();
    // EHLO, AUTH, the proof: then the client went away without a word.
    assert_eq!(heard.len(), 4, "{heard:?}");
    assert_eq!(heard[3], "<closed>", "{heard:?}");
}

#[test]
fn a_wrong_password_is_refused() {
    let (port, _log) = server("SCRAM-SHA-256", Server::Honest, None);
    let sent = send_with("wrong", "smtp+plain", port, None, &[]);
    sent.assert_code(77);
}
