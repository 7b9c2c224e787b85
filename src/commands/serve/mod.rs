//! `smtpsend serve`: an SMTP listener for programs that speak only SMTP. Each client gets a
//! thread of its own, up to `[serve] max_connections`; its session is `smtp_server`'s, what it
//! sends is stored in the outbox before the 250 (`intake`), and the outbox is delivered by
//! `queue flush` in a child process (`deliver`). Where it listens and the signals it answers are
//! `listen`'s. SIGHUP reads the configuration file again for the sessions that start after it;
//! the listening sockets stay as they are.

mod deliver;
mod intake;
mod listen;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::address::parse_mailbox;
use crate::cli::{self, ServeArgs};
use crate::config::serve::{ListenAddr, Serve};
use crate::config::{self, Config, LogTarget};
use crate::credentials::{self, CheckedLogins, PasswordHash};
use crate::dirs;
use crate::error::{Error, Kind};
use crate::outbox::Outbox;
use crate::settings::{self, Environment, ServerSettings};
use crate::smtp_server::{self, AuthRule, DataBudget, End, Limits, Policy, Stream};
use crate::terminal::{outln, print_warning};
use crate::trust;
use listen::{Client, ClientStream, Listener, Sessions, Signals};

/// How long SIGTERM waits for the sessions still open to finish their transactions.
const GRACE: Duration = Duration::from_secs(60);

/// What the sessions work with; read again on SIGHUP.
pub struct Setup {
    config: Option<Config>,
    serve: Serve,
    /// `--config`, kept with each entry so its delivery reads the same file.
    config_path: Option<PathBuf>,
    /// `--account`: for mail that neither a login nor its sender assigns.
    account: Option<String>,
    tls: Option<Arc<rustls::ServerConfig>>,
    hostname: String,
    /// The delivery log: SMTPSEND_LOG, standard error without it.
    log: LogTarget,
    log_setting: String,
    /// Local logins already checked; forgotten with the configuration on SIGHUP.
    checked: CheckedLogins,
    /// `--direct`: each account's server, by account name (None: the default), for relaying
    /// within the session; None without `--direct`.
    direct: Option<HashMap<Option<String>, ServerSettings>>,
}

impl Setup {
    fn load(args: &ServeArgs, env: &Environment) -> Result<Setup, Error> {
        let config = config::load(args.config.as_deref(), env.var)?;
        let serve = config.as_ref().map(|c| c.serve.clone()).unwrap_or_default();
        // The upstream server must be known now, not when the first message is delivered.
        let mut connection = cli::connection_from_environment()?;
        connection.config.clone_from(&args.config);
        let (_, default_server) = settings::resolve_with_config(
            config.as_ref(),
            args.account.as_deref(),
            &connection,
            None,
            env,
        )?;
        let direct = match args.direct {
            false => None,
            true => {
                let mut servers = HashMap::from([(None, default_server)]);
                for name in config.iter().flat_map(|c| c.accounts.keys()) {
                    let (_, server) = settings::resolve_with_config(
                        config.as_ref(),
                        Some(name),
                        &connection,
                        None,
                        env,
                    )?;
                    servers.insert(Some(name.clone()), server);
                }
                Some(servers)
            }
        };
        let tls = match (&serve.tls_cert, &serve.tls_key) {
            (Some(cert), Some(key)) => Some(trust::listener_tls_config(cert, key)?),
            _ => None,
        };
        let hostname = serve
            .hostname
            .clone()
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
        let log_setting = (env.var)("SMTPSEND_LOG")
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| "stderr".into());
        Ok(Setup {
            config,
            serve,
            config_path: args.config.clone(),
            account: args.account.clone(),
            tls,
            hostname,
            log: LogTarget::parse(&log_setting),
            log_setting,
            checked: CheckedLogins::default(),
            direct,
        })
    }

    /// The account a message goes out through: the local login's, else `--account`, else
    /// the one whose `from` is the sender, else the default (None: the default at delivery,
    /// or the server the environment names).
    fn account_for(&self, login: Option<&str>, sender: &str) -> Option<String> {
        let by_login = login
            .and_then(|login| self.serve.users.get(login))
            .and_then(|user| user.account.clone());
        by_login.or_else(|| self.account.clone()).or_else(|| {
            let sender = parse_mailbox(sender, "MAIL FROM").ok();
            let config = self.config.as_ref()?;
            let account = config.select(None, sender.as_ref()).ok().flatten()?;
            Some(account.name.clone())
        })
    }

    fn log_setting(&self) -> &str {
        &self.log_setting
    }

    /// What a session on a listener allows; `local` when only this machine can reach it.
    fn policy(&self, local: bool, message_size: usize) -> Policy {
        Policy {
            hostname: self.hostname.clone(),
            limits: Limits {
                message_size,
                recipients: self.serve.max_recipients,
                commands: self.serve.max_commands,
            },
            auth: if local {
                AuthRule::Optional
            } else {
                AuthRule::Required
            },
            tls: self.tls.clone(),
            relay_domains: self.serve.relay_domains.clone(),
            stop: None,
            memory: None,
            busy: None,
        }
    }
}

/// The setup the next session takes.
pub struct Shared {
    setup: RwLock<Arc<Setup>>,
    /// The upstream server's SIZE once learnt (`deliver::learn_size`); 0 until then.
    upstream_size: AtomicUsize,
    /// The memory all sessions' message data may take together.
    memory: Arc<DataBudget>,
}

impl Shared {
    pub fn setup(&self) -> Arc<Setup> {
        match self.setup.read() {
            Ok(setup) => Arc::clone(&setup),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn set_upstream_size(&self, size: usize) {
        self.upstream_size.store(size, Ordering::SeqCst);
    }

    /// The largest message a session takes: `[serve] max_message_size`, or less when the
    /// upstream server said so (RFC 1870).
    fn message_size(&self, setup: &Setup) -> usize {
        match self.upstream_size.load(Ordering::SeqCst) {
            0 => setup.serve.max_message_size,
            upstream => upstream.min(setup.serve.max_message_size),
        }
    }

    fn replace(&self, setup: Setup) {
        match self.setup.write() {
            Ok(mut current) => *current = Arc::new(setup),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(setup),
        }
    }
}

pub fn run(args: &ServeArgs, env: &Environment) -> Result<(), Error> {
    if args.hash_password {
        return hash_password(env);
    }
    let setup = Setup::load(args, env)?;
    let listeners = open_listeners(args, &setup, env)?;
    listen::prepare(&listeners)?;
    let signals = Signals::register()?;
    let outbox = Arc::new(Outbox::open(env.var)?);
    // Room for two messages of the largest size, and at least 256 MiB for many smaller ones.
    let memory = (2 * setup.serve.max_message_size).max(256 << 20);
    let shared = Arc::new(Shared {
        setup: RwLock::new(Arc::new(setup)),
        upstream_size: AtomicUsize::new(0),
        memory: Arc::new(DataBudget::new(memory)),
    });
    deliver::learn_size(Arc::clone(&shared));
    let wake = deliver::start(Arc::clone(&shared), Outbox::open(env.var)?);
    let sessions = Arc::new(Sessions::default());
    for listener in &listeners {
        eprintln!("smtpsend: listening on {}", listener.describe());
    }
    while !signals.stopping() {
        let ready = listen::wait(&listeners, &signals)?;
        if signals.take_reload() {
            match Setup::load(args, env) {
                Ok(setup) => {
                    shared.replace(setup);
                    deliver::learn_size(Arc::clone(&shared));
                    eprintln!("smtpsend: configuration read again");
                }
                Err(error) => print_warning(&format!(
                    "configuration not read again, the old one stays: {}",
                    error.message
                )),
            }
        }
        for at in ready {
            let listener = &listeners[at];
            loop {
                match listener.accept() {
                    Ok(Some(client)) => {
                        let local = listener.is_local();
                        start_session(client, local, &shared, &outbox, &wake, &sessions, &signals);
                    }
                    Ok(None) => break,
                    // A client that left before it was accepted, or no descriptor to spare:
                    // the others are still served.
                    Err(err) => {
                        print_warning(&format!("accept on {}: {err}", listener.describe()));
                        break;
                    }
                }
            }
        }
    }
    for listener in &listeners {
        listener.remove();
    }
    drop(listeners);
    let started = Instant::now();
    while sessions.count() > 0 && started.elapsed() < GRACE {
        // Again and again: a session whose transaction just ended is idle now.
        sessions.shut_idle();
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("smtpsend: stopped");
    Ok(())
}

/// `--listen`, else what systemd passed, else `[serve] listen`, else 127.0.0.1:2525. Refused
/// when a listener others can reach would not require a login (RFC 6409 section 4.3: never
/// an open relay).
fn open_listeners(
    args: &ServeArgs,
    setup: &Setup,
    env: &Environment,
) -> Result<Vec<Listener>, Error> {
    let passed = match args.listen.is_empty() {
        true => Listener::from_systemd(env.var)?,
        false => Vec::new(),
    };
    let listeners = if passed.is_empty() {
        let default = [ListenAddr::loopback_default()];
        let addresses = match (&args.listen[..], &setup.serve.listen[..]) {
            ([], []) => &default[..],
            ([], configured) => configured,
            (named, _) => named,
        };
        addresses
            .iter()
            .map(Listener::bind)
            .collect::<Result<Vec<_>, _>>()?
    } else {
        passed
    };
    for listener in &listeners {
        if !listener.is_local() && (setup.tls.is_none() || setup.serve.users.is_empty()) {
            listeners.iter().for_each(Listener::remove);
            return Err(Error::config(format!(
                "{} can be reached from other machines, so it takes mail only from local \
                 users logged in over STARTTLS",
                listener.describe()
            ))
            .with_hint(
                "set [serve] tls_cert, tls_key and a [serve.users.NAME] (its password_hash \
                 from `smtpsend serve --hash-password`), or listen on 127.0.0.1, [::1] or a \
                 unix socket",
            ));
        }
    }
    Ok(listeners)
}

/// A thread for the client, or a 421 when there are as many as allowed (RFC 5321 section
/// 3.1: a server that cannot take a client now says so in its greeting).
fn start_session(
    client: Client,
    local: bool,
    shared: &Arc<Shared>,
    outbox: &Arc<Outbox>,
    wake: &Sender<()>,
    sessions: &Arc<Sessions>,
    signals: &Signals,
) {
    let setup = shared.setup();
    let message_size = shared.message_size(&setup);
    if sessions.count() >= setup.serve.max_connections {
        refuse(client, &setup.hostname);
        return;
    }
    let (id, busy) = match sessions.add(&client) {
        Ok(added) => added,
        Err(err) => return print_warning(&format!("{}: {err}", client.peer)),
    };
    let (outbox, wake, open) = (Arc::clone(outbox), wake.clone(), Arc::clone(sessions));
    let memory = Arc::clone(&shared.memory);
    let stop = signals.stop_flag();
    let spawned = std::thread::Builder::new()
        .name("smtp-session".into())
        .spawn(move || {
            let mut policy = setup.policy(local, message_size);
            policy.memory = Some(memory);
            policy.busy = Some(busy);
            session(client, policy, &setup, &outbox, &wake, stop);
            open.remove(id);
        });
    if let Err(err) = spawned {
        sessions.remove(id);
        print_warning(&format!("cannot start a session: {err}"));
    }
}

fn refuse(client: Client, hostname: &str) {
    use std::io::Write;
    let reply = format!("421 4.7.0 {hostname} too many connections, try again later\r\n");
    let timeout = Some(Duration::from_secs(1));
    let _ = match client.stream {
        ClientStream::Tcp(mut s) => s
            .set_write_timeout(timeout)
            .and_then(|()| s.write_all(reply.as_bytes())),
        ClientStream::Unix(mut s) => s
            .set_write_timeout(timeout)
            .and_then(|()| s.write_all(reply.as_bytes())),
    };
    print_warning(&format!("{}: refused: too many connections", client.peer));
}

fn session(
    client: Client,
    mut policy: Policy,
    setup: &Setup,
    outbox: &Outbox,
    wake: &Sender<()>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    // RFC 5321 section 4.5.3.2: a client idle this long is let go.
    let idle = Some(setup.serve.idle_timeout);
    let stream: std::io::Result<Box<dyn Stream>> = match client.stream {
        ClientStream::Tcp(s) => s
            .set_nonblocking(false)
            .and_then(|()| s.set_read_timeout(idle))
            .and_then(|()| s.set_write_timeout(idle))
            .and_then(|()| s.set_nodelay(true))
            .map(|()| Box::new(s) as Box<dyn Stream>),
        ClientStream::Unix(s) => s
            .set_nonblocking(false)
            .and_then(|()| s.set_read_timeout(idle))
            .and_then(|()| s.set_write_timeout(idle))
            .map(|()| Box::new(s) as Box<dyn Stream>),
    };
    let stream = match stream {
        Ok(stream) => stream,
        Err(err) => return print_warning(&format!("{}: {err}", client.peer)),
    };
    policy.stop = Some(stop);
    let peer_login = client
        .peer_uid
        .and_then(dirs::user_name)
        .filter(|name| setup.serve.users.contains_key(name));
    let intake = intake::Intake {
        setup,
        outbox,
        peer: &client.peer,
        peer_login: peer_login.as_deref(),
        wake: &|| {
            let _ = wake.send(());
        },
    };
    match smtp_server::serve(stream, &policy, &intake) {
        Ok(End::Quit) => {}
        Ok(End::Closed(why)) => print_warning(&format!("{}: closed: {why}", client.peer)),
        Err(error) => print_warning(&format!("{}: {}", client.peer, error.message)),
    }
}

/// `--hash-password`: a password from standard input (or asked for twice on the terminal),
/// its hash on standard output, for `[serve.users.NAME] password_hash`.
fn hash_password(env: &Environment) -> Result<(), Error> {
    let secret = if env.stdin_is_terminal {
        if !env.can_prompt {
            return Err(Error::usage("no terminal to ask for the password on")
                .with_hint("pipe it in: `pass show relay | smtpsend serve --hash-password`"));
        }
        let first = credentials::prompt_password("Password for the local login: ")?;
        let again = credentials::prompt_password("The same again: ")?;
        if first.expose() != again.expose() {
            return Err(Error::usage("the two passwords differ"));
        }
        first
    } else {
        credentials::read_stdin_password()?
    };
    if secret.expose().is_empty() {
        return Err(Error::new(Kind::Usage, "the password is empty"));
    }
    outln!("{}", PasswordHash::new(&secret));
    Ok(())
}
