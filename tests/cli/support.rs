//! Test support: the binary with a clean environment, certificates made at test time, a real
//! SMTP server (mailin-embedded) that records what it received, an implicit-TLS front for it,
//! and a scripted server for the faults a real server will not produce on demand.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use mailin_embedded::response::{self, Response};
use mailin_embedded::{AuthMechanism, Handler, Server, SslConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};

pub const USER: &str = "alice@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh directory per test, with HOME and XDG_* pointed into it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// The binary with no inherited SMTPSEND_* settings and stdin closed.
    pub fn command(&self) -> Command {
        self.command_for(env!("CARGO_BIN_EXE_smtpsend"))
    }

    /// Any program with the sandbox's environment, for wrappers around the binary.
    pub fn command_for(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        for (key, _) in std::env::vars() {
            if key.starts_with("SMTPSEND_") {
                command.env_remove(key);
            }
        }
        // No Secret Service unless a test starts one: the keyring's absence is the common case,
        // and the developer's own keyring must never be reached. D-Bus clients fall back to
        // $XDG_RUNTIME_DIR/bus when DBUS_SESSION_BUS_ADDRESS is unset, so that points here too.
        let runtime = self.path("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        // No terminal type either, as under cron or CI: a test that wants one sets TERM itself.
        command
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("TERM")
            .env_remove("NO_COLOR")
            .env_remove("BROWSER")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_RUNTIME_DIR", runtime)
            .stdin(Stdio::null());
        command
    }
}

/// The result of running the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn run(command: &mut Command) -> Run {
    run_with_stdin(command, None)
}

pub fn run_with_stdin(command: &mut Command, stdin: Option<&[u8]>) -> Run {
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // A command that fails before reading its input closes the pipe early; that is fine.
        if let Err(err) = pipe.write_all(input) {
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs the binary with its standard output a pipe whose reader is gone before it writes a byte
/// (`| head -c0`), and asserts it ends with `code` and says nothing: no abort, no panic.
pub fn assert_quiet_into_a_closed_pipe(command: &mut Command, code: i32) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = command
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{command:?}: {stderr}");
    assert!(stderr.is_empty(), "{command:?}: {stderr}");
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A CA and a server certificate signed by it, or by an intermediate CA it signed, written as
/// PEM files.
pub struct Pki {
    /// Holds the PEM files; removed when the Pki is dropped.
    _dir: tempfile::TempDir,
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// The chain a server sends: its certificate, then any intermediate.
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub key_der: Vec<u8>,
    /// A client certificate the CA signed (or its intermediate), and its key (mode 0600).
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
    ca_der: rustls::pki_types::CertificateDer<'static>,
}

impl Pki {
    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn localhost() -> Self {
        Pki::for_names(&["localhost"], true)
    }

    /// A server certificate for other names only.
    pub fn for_names(names: &[&str], with_loopback_ip: bool) -> Self {
        Pki::build(names, with_loopback_ip, None)
    }

    /// A certificate for localhost signed by an intermediate CA with these key usages.
    pub fn through_intermediate(key_usages: Vec<KeyUsagePurpose>) -> Self {
        Pki::build(&["localhost"], true, Some(key_usages))
    }

    fn build(
        names: &[&str],
        with_loopback_ip: bool,
        intermediate: Option<Vec<KeyUsagePurpose>>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = |name: &str| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            (params, KeyPair::generate().unwrap())
        };
        let (ca_params, ca_key) = ca("smtpsend test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let mut issuer = Issuer::new(ca_params, ca_key);
        let mut intermediates = Vec::new();
        if let Some(key_usages) = intermediate {
            let (mut params, key) = ca("smtpsend test intermediate CA");
            params.key_usages = key_usages;
            intermediates.push(params.signed_by(&key, &issuer).unwrap().der().clone());
            issuer = Issuer::new(params, key);
        }

        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if with_loopback_ip {
            params
                .subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        }
        let cert = params.signed_by(&key, &issuer).unwrap();

        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "smtpsend test client");
        client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params.signed_by(&client_key, &issuer).unwrap();
        let client_cert_file = dir.path().join("client.pem");
        let client_key_file = dir.path().join("client-key.pem");
        std::fs::write(&client_cert_file, client.pem()).unwrap();
        std::fs::write(&client_key_file, client_key.serialize_pem()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&client_key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

        let ca_file = dir.path().join("ca.pem");
        let cert_file = dir.path().join("cert.pem");
        let key_file = dir.path().join("key.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        Pki {
            ca_file,
            cert_file,
            key_file,
            chain: std::iter::once(cert.der().clone())
                .chain(intermediates)
                .collect(),
            key_der: key.serialize_der(),
            client_cert_file,
            client_key_file,
            ca_der: ca_cert.der().clone(),
            _dir: dir,
        }
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server_config_speaking(rustls::DEFAULT_VERSIONS)
    }

    /// A server configuration that speaks only these TLS versions.
    pub fn server_config_speaking(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(versions)
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(self.chain.clone(), key)
                .unwrap(),
        )
    }

    /// A server configuration that refuses a client without a certificate this CA signed.
    pub fn server_config_requiring_client_cert(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let clients = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots.into(),
            provider.clone(),
        )
        .build()
        .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(clients)
                .with_single_cert(self.chain.clone(), key)
                .unwrap(),
        )
    }

    /// A client configuration that trusts this CA only.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        Arc::new(
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    /// The server's public-key pin, `sha256//BASE64` of its SubjectPublicKeyInfo.
    pub fn pin(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        let (_, cert) = x509_parser::parse_x509_certificate(&self.chain[0]).unwrap();
        let digest = sha2::Sha256::digest(cert.public_key().raw);
        format!(
            "sha256//{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    }
}

/// A message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parsable message")
    }
}

/// What the real server saw, shared with its connection handlers.
#[derive(Debug, Default)]
pub struct Seen {
    pub messages: Vec<Received>,
    pub logins: Vec<(String, bool)>,
}

/// The handler of the in-process server. Recipients whose local part starts with `refused`
/// get 550, with `deferred` 450; everything else is accepted.
#[derive(Clone)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    from: String,
    recipients: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, from: &str) -> Response {
        self.from = from.to_string();
        self.recipients.clear();
        self.data.clear();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("refused") {
            return Response::custom(550, "5.1.1 Recipient address rejected".into());
        }
        if to.starts_with("deferred") {
            return Response::custom(450, "4.2.1 Mailbox busy, try later".into());
        }
        self.recipients.push(to.to_string());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.seen.lock().unwrap().messages.push(Received {
            from: self.from.clone(),
            recipients: self.recipients.clone(),
            data: std::mem::take(&mut self.data),
        });
        Response::custom(250, "2.0.0 Ok: queued as TEST42".into())
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.check_login(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check_login(user, password)
    }
}

impl Recorder {
    /// A recorder and the record it shares with every connection's clone of it.
    fn new() -> (Arc<Mutex<Seen>>, Self) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let recorder = Recorder {
            seen: seen.clone(),
            from: String::new(),
            recipients: Vec::new(),
            data: Vec::new(),
        };
        (seen, recorder)
    }

    fn check_login(&mut self, user: &str, password: &str) -> Response {
        let ok = user == USER && password == PASSWORD;
        self.seen
            .lock()
            .unwrap()
            .logins
            .push((user.to_string(), ok));
        if ok {
            response::AUTH_OK
        } else {
            Response::custom(535, "5.7.8 Error: authentication failed".into())
        }
    }
}

/// How the real server is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    None,
    StartTls,
    /// Implicit TLS: a TLS front that forwards to a plain server.
    Implicit,
}

pub struct MailServer {
    pub port: u16,
    seen: Arc<Mutex<Seen>>,
    pub pki: Option<Pki>,
}

impl MailServer {
    /// A server with AUTH PLAIN and LOGIN, and TLS as asked with a certificate for localhost.
    pub fn start(tls: Encryption) -> Self {
        let pki = (tls != Encryption::None).then(Pki::localhost);
        Self::start_with(tls, pki)
    }

    pub fn start_with(tls: Encryption, pki: Option<Pki>) -> Self {
        install_crypto_provider();
        let (seen, recorder) = Recorder::new();
        if let (Encryption::Implicit, Some(certificates)) = (tls, &pki) {
            let port = implicit_tls_server(certificates.server_config(), recorder);
            return MailServer { port, seen, pki };
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Self::serve(tls, pki, listener, seen, recorder)
    }

    /// An implicit-TLS server with a TLS configuration of the test's own.
    /// `port` 0 is any free port.
    pub fn implicit_with_config(pki: Pki, config: Arc<rustls::ServerConfig>, port: u16) -> Self {
        install_crypto_provider();
        let (seen, recorder) = Recorder::new();
        let port = implicit_tls_server_on(port, config, recorder);
        MailServer {
            port,
            seen,
            pki: Some(pki),
        }
    }

    /// A plain server (no TLS, no AUTH) on a port chosen earlier, e.g. one a send found closed.
    pub fn start_on(port: u16) -> Self {
        let (seen, recorder) = Recorder::new();
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        Self::serve(Encryption::None, None, listener, seen, recorder)
    }

    fn serve(
        tls: Encryption,
        pki: Option<Pki>,
        listener: TcpListener,
        seen: Arc<Mutex<Seen>>,
        recorder: Recorder,
    ) -> Self {
        let port = listener.local_addr().unwrap().port();
        let mut server = Server::new(recorder);
        server.with_name("mx.test").with_tcp_listener(listener);
        if let (Encryption::StartTls, Some(pki)) = (tls, &pki) {
            // Like real submission servers, AUTH only once the connection is encrypted.
            server
                .with_auth(AuthMechanism::Plain)
                .with_auth(AuthMechanism::Login)
                .with_ssl(SslConfig::SelfSigned {
                    cert_path: pki.cert_file.to_string_lossy().into_owned(),
                    key_path: pki.key_file.to_string_lossy().into_owned(),
                })
                .unwrap();
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        MailServer { port, seen, pki }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.seen.lock().unwrap().messages.clone()
    }

    pub fn logins(&self) -> Vec<(String, bool)> {
        self.seen.lock().unwrap().logins.clone()
    }

    pub fn ca_file(&self) -> &Path {
        &self.pki.as_ref().expect("a TLS server").ca_file
    }

    /// Waits briefly for a message the client has already been told is accepted.
    pub fn only_message(&self) -> Received {
        let messages = self.messages();
        assert_eq!(messages.len(), 1, "expected exactly one message");
        messages.into_iter().next().unwrap()
    }
}

/// mailin-embedded speaks STARTTLS only, so implicit TLS runs mailin's protocol engine over a
/// rustls stream accepted here; returns the port.
fn implicit_tls_server(config: Arc<rustls::ServerConfig>, recorder: Recorder) -> u16 {
    implicit_tls_server_on(0, config, recorder)
}

fn implicit_tls_server_on(port: u16, config: Arc<rustls::ServerConfig>, recorder: Recorder) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (config, recorder) = (config.clone(), recorder.clone());
            std::thread::spawn(move || implicit_tls_session(config, client, recorder));
        }
    });
    port
}

fn implicit_tls_session(config: Arc<rustls::ServerConfig>, client: TcpStream, recorder: Recorder) {
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let remote = client.peer_addr().unwrap().ip();
    let mut tls = BufReader::new(rustls::StreamOwned::new(connection, client));
    let mut builder = mailin::SessionBuilder::new("mx.test");
    builder
        .enable_auth(AuthMechanism::Plain)
        .enable_auth(AuthMechanism::Login);
    let mut session = builder.build(remote, recorder);
    session.tls_active();
    let reply = |tls: &mut BufReader<_>, response: &Response| {
        let stream: &mut rustls::StreamOwned<_, _> = tls.get_mut();
        response
            .write_to(stream)
            .and_then(|()| stream.flush())
            .is_ok()
    };
    if !reply(&mut tls, &session.greeting()) {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        if tls.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        // A client that showed a certificate the server verified may log in with EXTERNAL
        // (RFC 4422 appendix A), which mailin does not know: it is offered after EHLO and
        // taken as a login of the test user.
        let certified = tls.get_ref().conn.peer_certificates().is_some();
        let command = String::from_utf8_lossy(&line).to_ascii_uppercase();
        if certified && command.starts_with("AUTH EXTERNAL") {
            use base64::Engine;
            let plain =
                base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
            session.process(format!("AUTH PLAIN {plain}\r\n").as_bytes());
            let stream: &mut rustls::StreamOwned<_, _> = tls.get_mut();
            if stream
                .write_all(b"235 2.7.0 EXTERNAL accepted\r\n")
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
            continue;
        }
        let response = session.process(&line);
        if certified && command.starts_with("EHLO") {
            let mut said = Vec::new();
            response.write_to(&mut said).unwrap();
            let said = String::from_utf8_lossy(&said)
                .replace("AUTH PLAIN LOGIN", "AUTH PLAIN LOGIN EXTERNAL");
            let stream: &mut rustls::StreamOwned<_, _> = tls.get_mut();
            if stream
                .write_all(said.as_bytes())
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
            continue;
        }
        match response.action {
            mailin::Action::NoReply => {}
            mailin::Action::Close => {
                reply(&mut tls, &response);
                return;
            }
            _ => {
                if !reply(&mut tls, &response) {
                    return;
                }
            }
        }
    }
}

/// One step of a scripted server's part in the dialogue.
pub enum Act {
    /// Send these bytes as they are (include the CRLF).
    Say(&'static str),
    /// Read one command line from the client.
    Hear,
    /// Read the message data up to and including the final dot.
    HearData,
    /// Read this many bytes of message data, then stop reading.
    HearBytes(usize),
    /// Read a `BDAT n LAST` line and the n bytes of message after it (RFC 3030).
    HearChunk,
    Pause(Duration),
    /// Close the connection.
    Hang,
}

// Pieces of scripts, put together with `script`.

pub const GREETING: &str = "220 test ESMTP\r\n";
pub const EHLO_REPLY: &str = "250-test\r\n250 8BITMIME\r\n";

/// The greeting, the EHLO and this reply to it.
pub fn greeted_with(ehlo_reply: &'static str) -> Vec<Act> {
    vec![Act::Say(GREETING), Act::Hear, Act::Say(ehlo_reply)]
}

/// The greeting and an EHLO reply offering 8BITMIME only.
pub fn greeted() -> Vec<Act> {
    greeted_with(EHLO_REPLY)
}

/// MAIL and one RCPT accepted, then DATA answered with 354.
pub fn envelope_accepted() -> Vec<Act> {
    vec![
        Act::Hear,
        Act::Say("250 2.1.0 Ok\r\n"),
        Act::Hear,
        Act::Say("250 2.1.5 Ok\r\n"),
        Act::Hear,
        Act::Say("354 go\r\n"),
    ]
}

/// The message data read in full, accepted, then QUIT.
pub fn data_accepted() -> Vec<Act> {
    vec![
        Act::HearData,
        Act::Say("250 2.0.0 Ok: queued as X\r\n"),
        Act::Hear,
        Act::Say("221 bye\r\n"),
    ]
}

/// Commands read after the script's point of interest, so that anything the client sends
/// anyway is recorded and can be asserted on.
pub fn listen() -> Vec<Act> {
    vec![Act::Hear, Act::Hear, Act::Hear]
}

/// A whole successful dialogue for one recipient, after this EHLO reply.
pub fn happy(ehlo_reply: &'static str) -> Vec<Act> {
    script([
        greeted_with(ehlo_reply),
        envelope_accepted(),
        data_accepted(),
    ])
}

pub fn script<const N: usize>(parts: [Vec<Act>; N]) -> Vec<Act> {
    parts.into_iter().flatten().collect()
}

/// A server that plays one script on its first connection and records what the client sent.
pub struct ScriptedServer {
    pub port: u16,
    heard: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
}

impl ScriptedServer {
    pub fn start(script: Vec<Act>) -> Self {
        Self::start_on(0, script)
    }

    /// The script on a given port (0 for any); the port is free again after the connection.
    pub fn start_on(port: u16, script: Vec<Act>) -> Self {
        Self::serve(port, vec![script], None)
    }

    /// One script for each connection, in the order they come, each played to its end (and
    /// the client gone) before the next connection is taken; what every one heard in one list.
    pub fn start_sessions(scripts: Vec<Vec<Act>>) -> Self {
        Self::serve(0, scripts, None)
    }

    /// `start_sessions` over implicit TLS (`smtps://`), with `pki`'s certificate.
    pub fn start_tls(pki: &Pki, scripts: Vec<Vec<Act>>) -> Self {
        install_crypto_provider();
        Self::serve(0, scripts, Some(pki.server_config()))
    }

    fn serve(port: u16, scripts: Vec<Vec<Act>>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (heard_by_server, connections_seen) = (heard.clone(), connections.clone());
        std::thread::spawn(move || {
            for script in scripts {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                *connections_seen.lock().unwrap() += 1;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let closer = stream.try_clone().unwrap();
                let hang = move || {
                    let _ = closer.shutdown(Shutdown::Both);
                };
                match &tls {
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
                            return;
                        };
                        let stream = rustls::StreamOwned::new(connection, stream);
                        play(stream, hang, script, &heard_by_server);
                    }
                    None => play(stream, hang, script, &heard_by_server),
                }
            }
        });
        ScriptedServer {
            port,
            heard,
            connections,
        }
    }

    /// Every line the client sent, message data included.
    pub fn heard(&self) -> Vec<String> {
        self.heard.lock().unwrap().clone()
    }

    pub fn heard_command(&self, verb: &str) -> bool {
        self.heard()
            .iter()
            .any(|line| line.to_ascii_uppercase().starts_with(verb))
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    /// The message data after DATA, dot-stuffing undone, once the client has said QUIT.
    pub fn data(&self) -> Vec<u8> {
        for _ in 0..100 {
            if self
                .heard()
                .last()
                .is_some_and(|l| l.eq_ignore_ascii_case("QUIT"))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let heard = self.heard();
        let start = heard.iter().position(|l| l == "DATA").expect("DATA") + 1;
        let end = start
            + heard[start..]
                .iter()
                .position(|l| l == ".")
                .expect("the dot");
        heard[start..end]
            .iter()
            .flat_map(|line| {
                let line = line.strip_prefix('.').unwrap_or(line);
                [line.as_bytes(), b"\r\n"].concat()
            })
            .collect()
    }
}

/// Quoted-printable decoded as RFC 2045 section 6.7 says, to the octet.
pub fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < input.len() {
        match input[at] {
            b'=' if input[at + 1..].starts_with(b"\r\n") => at += 3,
            b'=' if at + 2 < input.len() => {
                let hex = std::str::from_utf8(&input[at + 1..at + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                at += 3;
            }
            byte => {
                out.push(byte);
                at += 1;
            }
        }
    }
    out
}

/// Plays `script` over `stream`, plain or TLS; `hang` drops the connection under it.
fn play(
    stream: impl Read + Write,
    hang: impl FnOnce(),
    script: Vec<Act>,
    heard: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream);
    for act in script {
        match act {
            Act::Say(text) => {
                let writer = reader.get_mut();
                if writer
                    .write_all(text.as_bytes())
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
            Act::Hear => {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                heard.lock().unwrap().push(line.trim_end().to_string());
            }
            Act::HearData => loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let done = line == ".\r\n";
                heard.lock().unwrap().push(line.trim_end().to_string());
                if done {
                    break;
                }
            },
            Act::HearBytes(count) => {
                let mut buf = vec![0u8; count];
                let _ = reader.read_exact(&mut buf);
                heard
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
            }
            Act::HearChunk => {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let size: usize = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let mut chunk = vec![0u8; size];
                let _ = reader.read_exact(&mut chunk);
                let mut heard = heard.lock().unwrap();
                heard.push(line.trim_end().to_string());
                heard.push(String::from_utf8_lossy(&chunk).into_owned());
            }
            Act::Pause(duration) => std::thread::sleep(duration),
            Act::Hang => {
                hang();
                return;
            }
        }
    }
    // Keep the connection open until the client leaves.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// The common arguments of a send to `port` on localhost.
pub fn send_args(url_scheme: &str, port: u16) -> Vec<String> {
    vec![
        "--server".into(),
        format!("{url_scheme}://localhost:{port}"),
        "--timeout".into(),
        "10".into(),
    ]
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback port that either forwards to a server or hangs up at once, switched by the test:
/// how a server "goes down and comes back" while the address a message was queued for stays.
pub struct Gate {
    pub port: u16,
    open: Arc<Mutex<bool>>,
}

impl Gate {
    pub fn to(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(Mutex::new(false));
        let is_open = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !*is_open.lock().unwrap() {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    continue;
                };
                pump(client.try_clone().unwrap(), server.try_clone().unwrap());
                pump(server, client);
            }
        });
        Gate { port, open }
    }

    pub fn set_open(&self, open: bool) {
        *self.open.lock().unwrap() = open;
    }
}

/// Copies one direction until it ends, then closes the other side for writing.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}
