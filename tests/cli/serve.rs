//! `smtpsend serve`: the real binary listening, a client speaking SMTP to it, and the real
//! server upstream receiving what it relays. Durable acceptance, the open-relay guard, the
//! local logins, SIGHUP and SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use super::sendmail::configured;
use super::support::*;

/// A running `serve`, killed when dropped.
struct Relay {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Relay {
    fn start(sandbox: &Sandbox, host: &str, extra: &[&str]) -> Relay {
        let port = closed_port();
        let relay = Relay::spawn(sandbox, &format!("{host}:{port}"), extra, port);
        eventually("the relay listens", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        relay
    }

    fn spawn(sandbox: &Sandbox, listen: &str, extra: &[&str], port: u16) -> Relay {
        let log = sandbox.path(&format!("serve-{}.log", closed_port()));
        let child = sandbox
            .command()
            .args(["serve", "--listen", listen])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Relay { child, port, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn connect(&self) -> Smtp {
        Smtp::connect(self.port)
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: a signal to our own child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn eventually(what: &str, done: impl Fn() -> bool) {
    eventually_or(what, done, String::new);
}

/// `eventually`, saying `context()` (the relay's log) when it never happens.
fn eventually_or(what: &str, done: impl Fn() -> bool, context: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never: {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

trait Io: Read + Write {}
impl<T: Read + Write> Io for T {}

/// An SMTP client that says one command and reads its whole reply.
struct Smtp {
    io: BufReader<Box<dyn Io>>,
}

impl Smtp {
    fn connect(port: u16) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Smtp::over(Box::new(stream))
    }

    fn over(stream: Box<dyn Io>) -> Smtp {
        let mut smtp = Smtp {
            io: BufReader::new(stream),
        };
        let greeting = smtp.reply();
        assert!(greeting.starts_with("220 "), "{greeting}");
        smtp
    }

    /// The lines of one reply, joined with CRLF.
    fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            self.io.read_line(&mut line).unwrap();
            reply.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return reply;
            }
        }
    }

    fn say(&mut self, command: &str) -> String {
        let stream = self.io.get_mut();
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        stream.flush().unwrap();
        self.reply()
    }

    /// MAIL, RCPT, DATA and the message; the final reply.
    fn send(&mut self, from: &str, to: &str, message: &str) -> String {
        assert!(self.say(&format!("MAIL FROM:<{from}>")).starts_with("250"));
        let rcpt = self.say(&format!("RCPT TO:<{to}>"));
        if !rcpt.starts_with("250") {
            return rcpt;
        }
        assert!(self.say("DATA").starts_with("354"));
        self.say(&format!("{message}\r\n."))
    }

    fn starttls(self, pki: &Pki) -> Smtp {
        let plain = self.io.into_inner();
        let name = "localhost".try_into().unwrap();
        let connection = rustls::ClientConnection::new(pki.client_config(), name).unwrap();
        Smtp {
            io: BufReader::new(Box::new(rustls::StreamOwned::new(connection, plain))),
        }
    }
}

const MESSAGE: &str =
    "From: app@example.org\r\nTo: bob@example.net\r\nSubject: from serve\r\n\r\n..dot\r\nbody";

fn outbox_files(sandbox: &Sandbox) -> Vec<String> {
    std::fs::read_dir(sandbox.path("data/smtpsend/outbox"))
        .map(|dir| {
            dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A hash of few rounds: an unoptimised test build checks it at once.
fn quick_hash(password: &str) -> String {
    let hash = pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(password.as_bytes(), b"salt", 1000);
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    format!(
        "pbkdf2-sha256$1000${}${}",
        b64.encode(b"salt"),
        b64.encode(hash)
    )
}

fn append_config(sandbox: &Sandbox, text: &str) {
    let path = sandbox.path("config/smtpsend/config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str(text);
    std::fs::write(path, config).unwrap();
}

#[test]
fn serve_accepts_a_message_and_relays_it_upstream() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    let mut smtp = relay.connect();
    let ehlo = smtp.say("EHLO app.example");
    for extension in ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 36700160", "DSN"] {
        assert!(ehlo.contains(extension), "{ehlo}");
    }
    let reply = smtp.send("app@example.org", "bob@example.net", MESSAGE);
    assert!(reply.starts_with("250 2.0.0 Ok: queued as "), "{reply}");
    assert!(smtp.say("QUIT").starts_with("221"));
    eventually("the message reaches the server", || {
        server.messages().len() == 1
    });
    let received = server.only_message();
    assert_eq!(received.from, "app@example.org");
    assert_eq!(received.recipients, ["bob@example.net"]);
    let body = received
        .parsed()
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(body, ".dot\nbody\n");
    eventually("the outbox is empty", || outbox_files(&sandbox).is_empty());
    let log = relay.log();
    assert!(log.contains("accepted id="), "{log}");
    assert!(
        log.contains("from=<app@example.org> to=<bob@example.net>"),
        "{log}"
    );
    eventually("the relayed line is logged", || {
        relay.log().contains("result=\"250")
    });
    assert!(!relay.log().contains(PASSWORD));
}

#[test]
fn a_message_is_on_disk_before_its_250_and_survives_a_kill() {
    let sandbox = Sandbox::new();
    let port = closed_port();
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!("default = \"up\"\n[accounts.up]\nserver = \"smtp+plain://127.0.0.1:{port}\"\n"),
    );
    let mut relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    let mut smtp = relay.connect();
    let reply = smtp.send("app@example.org", "bob@example.net", MESSAGE);
    assert!(reply.starts_with("250 "), "{reply}");
    let files = outbox_files(&sandbox);
    assert!(files.iter().any(|f| f.ends_with(".eml")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".json")), "{files:?}");
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
    // The server comes back; a new relay delivers what the killed one took.
    let server = MailServer::start_on(port);
    let _relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    eventually("the message reaches the server", || {
        server.messages().len() == 1
    });
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
    eventually("the outbox is empty", || outbox_files(&sandbox).is_empty());
}

#[test]
fn another_machines_client_must_log_in_over_starttls() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    // Without a certificate and a user, an address others reach is refused at start.
    let run =
        run(sandbox
            .command()
            .args(["serve", "--listen", &format!("0.0.0.0:{}", closed_port())]));
    run.assert_code(78);
    assert!(run.stderr.contains("STARTTLS"), "{}", run.stderr);
    let pki = Pki::localhost();
    append_config(
        &sandbox,
        &format!(
            "[serve]\ntls_cert = \"{}\"\ntls_key = \"{}\"\nrelay_domains = [\"example.net\"]\n\
             [serve.users.grafana]\npassword_hash = \"{}\"\naccount = \"relay\"\n",
            pki.cert_file.display(),
            pki.key_file.display(),
            quick_hash("s3cret"),
        ),
    );
    let relay = Relay::start(&sandbox, "0.0.0.0", &[]);
    let mut smtp = relay.connect();
    let ehlo = smtp.say("EHLO app.example");
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert!(smtp.say("MAIL FROM:<app@example.org>").starts_with("530 "));
    let plain = |password: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("\0grafana\0{password}"))
    };
    let early = smtp.say(&format!("AUTH PLAIN {}", plain("s3cret")));
    assert!(early.starts_with("538 "), "{early}");
    assert!(smtp.say("STARTTLS").starts_with("220 "));
    let mut smtp = smtp.starttls(&pki);
    let ehlo = smtp.say("EHLO app.example");
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    assert!(
        smtp.say(&format!("AUTH PLAIN {}", plain("guess")))
            .starts_with("535 ")
    );
    assert!(
        smtp.say(&format!("AUTH PLAIN {}", plain("s3cret")))
            .starts_with("235 ")
    );
    let elsewhere = smtp.send("app@example.org", "eve@elsewhere.org", MESSAGE);
    assert!(elsewhere.starts_with("554 5.7.1"), "{elsewhere}");
    assert!(smtp.say("RSET").starts_with("250"));
    let reply = smtp.send("app@example.org", "bob@example.net", MESSAGE);
    assert!(reply.starts_with("250 "), "{reply}");
    eventually("the message reaches the server", || {
        server.messages().len() == 1
    });
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
    let log = relay.log();
    assert!(log.contains("login=grafana"), "{log}");
    assert!(log.contains("failed login as \"grafana\""), "{log}");
    assert!(!log.contains("guess") && !log.contains("s3cret"), "{log}");
}

#[test]
fn sighup_reads_the_configuration_again_and_sigterm_stops() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let mut relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    append_config(&sandbox, "[serve]\nmax_recipients = 1\n");
    relay.signal(libc::SIGHUP);
    eventually("the reload is said", || relay.log().contains("read again"));
    let mut smtp = relay.connect();
    assert!(smtp.say("MAIL FROM:<app@example.org>").starts_with("250"));
    assert!(smtp.say("RCPT TO:<a@example.net>").starts_with("250"));
    assert!(smtp.say("RCPT TO:<b@example.net>").starts_with("452 4.5.3"));
    relay.signal(libc::SIGTERM);
    // The open transaction goes on; after it, the session is told to come back later.
    assert!(smtp.say("DATA").starts_with("354"));
    assert!(smtp.say(&format!("{MESSAGE}\r\n.")).starts_with("250 "));
    assert!(
        smtp.say("MAIL FROM:<app@example.org>")
            .starts_with("421 4.3.2")
    );
    let status = relay.child.wait().unwrap();
    assert!(status.success(), "{status:?}: {}", relay.log());
    assert!(TcpStream::connect(("127.0.0.1", relay.port)).is_err());
}

#[test]
fn sigterm_tells_an_idle_session_421_at_once() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let mut relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    let mut idle = relay.connect();
    assert!(idle.say("EHLO app.example").starts_with("250"));
    let asked = Instant::now();
    relay.signal(libc::SIGTERM);
    let reply = idle.reply();
    assert!(reply.starts_with("421 4.3.2"), "{reply}");
    let status = relay.child.wait().unwrap();
    assert!(status.success(), "{status:?}: {}", relay.log());
    // Not the minute of grace a transaction would get.
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    assert!(TcpStream::connect(("127.0.0.1", relay.port)).is_err());
}

#[test]
fn hash_password_reads_standard_input_and_prints_a_hash() {
    let sandbox = Sandbox::new();
    let run = run_with_stdin(
        sandbox.command().args(["serve", "--hash-password"]),
        Some(b"s3cret\n"),
    );
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("pbkdf2-sha256$600000$"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("s3cret"));
    let empty = run_with_stdin(
        sandbox.command().args(["serve", "--hash-password"]),
        Some(b"\n"),
    );
    empty.assert_code(64);
}

#[test]
fn a_bad_serve_table_is_a_configuration_error_naming_the_key() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    append_config(
        &sandbox,
        "[serve.users.grafana]\npassword_hash = \"s3cret\"\n",
    );
    let run = run(sandbox.command().args(["serve"]));
    run.assert_code(78);
    assert!(
        run.stderr.contains("users.grafana.password_hash"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--hash-password"), "{}", run.stderr);
}

#[test]
fn a_permanent_refusal_upstream_is_reported_to_bounce_to() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    append_config(&sandbox, "[serve]\nbounce_to = \"admin@example.net\"\n");
    let relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    let mut smtp = relay.connect();
    // Taken: the relay cannot know yet what the server will say.
    let reply = smtp.send("app@example.org", "refused-user@example.net", MESSAGE);
    assert!(reply.starts_with("250 "), "{reply}");
    eventually_or(
        "the notice reaches the server",
        || !server.messages().is_empty(),
        || relay.log(),
    );
    let notice = server.only_message();
    assert_eq!(notice.from, "admin@example.net");
    assert_eq!(notice.recipients, ["admin@example.net"]);
    let text = notice.parsed().body_text(0).unwrap().into_owned();
    assert!(text.contains("<refused-user@example.net>"), "{text}");
    assert!(text.contains("5.1.1"), "{text}");
    let log = relay.log();
    assert!(log.contains("dead letter"), "{log}");
}

#[test]
fn a_client_on_a_unix_socket_is_logged_in_as_its_local_user() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let me = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let me = String::from_utf8(me.stdout).unwrap().trim().to_string();
    append_config(
        &sandbox,
        &format!(
            "[serve.users.\"{me}\"]\npassword_hash = \"{}\"\naccount = \"relay\"\n",
            quick_hash("never typed")
        ),
    );
    let socket = sandbox.path("smtp.sock");
    let relay = Relay::spawn(&sandbox, socket.to_str().unwrap(), &[], 0);
    eventually("the relay listens", || {
        std::os::unix::net::UnixStream::connect(&socket).is_ok()
    });
    let stream = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    let mut smtp = Smtp::over(Box::new(stream));
    assert!(smtp.say("EHLO app.example").contains("AUTH PLAIN LOGIN"));
    let reply = smtp.send("nobody@elsewhere.example", "bob@example.net", MESSAGE);
    assert!(reply.starts_with("250 "), "{reply}");
    eventually("the message reaches the server", || {
        server.messages().len() == 1
    });
    let log = relay.log();
    assert!(log.contains(&format!("login={me}")), "{log}");
    assert!(log.contains("client=unix uid="), "{log}");
    drop(relay);
}

#[test]
fn the_upstream_servers_size_limit_is_announced_and_kept_to() {
    let upstream = ScriptedServer::start(script([
        greeted_with("250-test\r\n250 SIZE 1000\r\n"),
        listen(),
    ]));
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path("config/smtpsend")).unwrap();
    sandbox.write(
        "config/smtpsend/config.toml",
        format!(
            "default = \"up\"\n[accounts.up]\nserver = \"smtp+plain://127.0.0.1:{}\"\n",
            upstream.port
        ),
    );
    let relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    eventually_or(
        "the relay announces the upstream server's SIZE",
        || {
            relay
                .connect()
                .say("EHLO app.example")
                .contains("SIZE 1000\r\n")
        },
        || relay.log(),
    );
    let mut smtp = relay.connect();
    let big = smtp.say("MAIL FROM:<app@example.org> SIZE=5000");
    assert!(big.starts_with("552 5.3.4"), "{big}");
}

#[test]
fn direct_relays_within_the_session_and_answers_with_the_servers_reply() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    let relay = Relay::start(&sandbox, "127.0.0.1", &["--direct"]);
    let mut smtp = relay.connect();
    let reply = smtp.send("app@example.org", "bob@example.net", MESSAGE);
    assert!(
        reply.starts_with("250 2.0.0 Ok: relayed (250 2.0.0 Ok: queued as TEST42)"),
        "{reply}"
    );
    // Already there when the client hears its 250.
    assert_eq!(server.only_message().recipients, ["bob@example.net"]);
    assert!(smtp.say("RSET").starts_with("250"));
    let refused = smtp.send("app@example.org", "refused-x@example.net", MESSAGE);
    assert!(refused.starts_with("554 "), "{refused}");
    assert!(smtp.say("RSET").starts_with("250"));
    let deferred = smtp.send("app@example.org", "deferred-x@example.net", MESSAGE);
    assert!(deferred.starts_with("451 "), "{deferred}");
    assert!(outbox_files(&sandbox).is_empty());
    assert!(relay.log().contains("result=\"250"), "{}", relay.log());
}

#[test]
fn too_many_clients_and_an_idle_one_are_told_421() {
    let server = MailServer::start(Encryption::StartTls);
    let sandbox = configured(&server);
    append_config(&sandbox, "[serve]\nmax_connections = 1\nidle_timeout = 1\n");
    let relay = Relay::start(&sandbox, "127.0.0.1", &[]);
    // The probe of `start` may still hold the one slot for a moment.
    std::thread::sleep(Duration::from_millis(200));
    let mut first = relay.connect();
    assert!(first.say("NOOP").starts_with("250"));
    let second = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
    let mut line = String::new();
    BufReader::new(second).read_line(&mut line).unwrap();
    assert!(line.starts_with("421 4.7.0"), "{line}");
    // Left idle past idle_timeout, the first is let go with a 421 of its own.
    let idle = first.reply();
    assert!(idle.starts_with("421 4.4.2"), "{idle}");
    eventually("the slot is free again", || {
        let stream = TcpStream::connect(("127.0.0.1", relay.port)).unwrap();
        let mut greeting = String::new();
        BufReader::new(stream).read_line(&mut greeting).unwrap();
        greeting.starts_with("220 ")
    });
}
