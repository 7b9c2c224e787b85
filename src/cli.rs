//! The command-line definition: clap types and value parsers, nothing else.
//!
//! House rules: every short flag is spelled out (`short = 't'`), every `value_name` is UPPERCASE,
//! the first doc line of a flag is its short help and later paragraphs its long help. Flag names
//! follow mailx (`-s -c -b -a`) and sendmail (`-f`) so muscle memory carries over. Nothing here
//! reads files, the environment (beyond clap's own `env` fallbacks) or the network: turning these
//! values into something usable is `settings`' job.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueHint};

use crate::config;
use crate::config::serve::ListenAddr;
use crate::error;
use crate::server::{AuthChoice, Security};
use crate::trust::{self, Pin, TlsVersion};

mod rich;

pub use rich::RichArgs;

const EXAMPLES: &str = "\
Examples:
  Send a one-line note:
    smtpsend --server smtp://mail.example.com --user me@example.com \\
      -f me@example.com -t bob@example.com -s 'Hello' -m 'See you at noon.'
  Mail a report from a script, the body on stdin and the password from a secret file:
    SMTPSEND_SERVER=smtps://mail.example.com SMTPSEND_USER=ci@example.com \\
    SMTPSEND_PASSWORD_FILE=/run/secrets/smtp \\
      ./build-report | smtpsend -f ci@example.com -t team@example.com -s 'Nightly build' -a log.txt
  See the whole SMTP dialogue, or exactly what would be sent:
    smtpsend -v ...        smtpsend --dry-run ...";

/// Send mail from the command line over an authenticated, encrypted SMTP submission.
///
/// smtpsend composes a MIME message from its arguments, files or standard input and submits it
/// to a mail server over STARTTLS or implicit TLS, reporting the server's reply. Every recipient
/// on -t, -c, -b and the command line gets the message; Bcc recipients never appear in it.
#[derive(Debug, Parser)]
#[command(
    name = "smtpsend",
    version,
    after_help = format!("{EXAMPLES}\n\n{}", error::exit_status_summary()),
    after_long_help = format!("{EXAMPLES}\n\n{}", error::exit_status_list()),
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up an account from an e-mail address: find its server, check it, store the secret.
    ///
    /// The submission server is found without guessing, in this order: a built-in table of the
    /// big providers (by the address's domain, or --provider), the domain's SRV records
    /// (_submissions._tcp before _submission._tcp, RFC 6186 and RFC 8314), then its
    /// autoconfiguration document over HTTPS (autoconfig.DOMAIN, then DOMAIN/.well-known).
    /// --server skips the search. Only servers with TLS are taken; one outside the address's
    /// domain is shown with a warning and taken only when confirmed (or --yes). The server is
    /// checked (TLS, EHLO, the AUTH offered) before any secret is asked for; the password is then
    /// checked with the server and stored in the OS keyring, or an OAuth2 provider's sign-in is
    /// started. The account is added to the configuration file, whose comments and layout are
    /// kept; an account of the same name is never replaced.
    Init(InitArgs),
    /// Store an account's password in the OS keyring, after checking it with the server.
    ///
    /// The password is asked for without echo, or read from standard input with
    /// --password-stdin. It is stored under the service `smtpsend:HOST` and the user name, so
    /// every later send to that server as that user finds it.
    ///
    /// For an account with oauth2_provider: sign in with OAuth2 instead (a browser tab, or
    /// --device, or --no-browser) and store the grant's tokens (see OAUTH2 below).
    Login(LoginArgs),
    /// Remove an account's password from the OS keyring (OAuth2: revoke the sign-in, then
    /// forget it).
    Logout(LogoutArgs),
    /// Connect, show TLS, the certificate and the server's extensions, and try AUTH; send nothing.
    ///
    /// With --rcpt, also try MAIL FROM and RCPT TO for each address, then RSET. The exit status
    /// says what failed, with the same codes as a send.
    Check(CheckArgs),
    /// Show or import configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Read a complete message on standard input and send it, as /usr/sbin/sendmail does.
    ///
    /// This is also what runs when the binary is called `sendmail` (a symlink), so cron, git
    /// send-email, mailx, mutt, PHP and monitoring tools send through smtpsend. The server comes
    /// from the configuration file or the environment. Honoured: -t (recipients from To, Cc and
    /// Bcc, plus any given), -i and -oi (a lone dot does not end the input), -f/-r ADDR (the
    /// envelope sender), -F NAME (the full name for a missing From), -N DSN-NOTIFY, -V ENVID,
    /// -bm (the default), -bs (an SMTP dialogue on standard input and output), -v. Accepted and
    /// ignored: -oem -oee -oep -oeq -oew -odi -odb -odq -om -oQ -Am -Ac -B -O -G -h -L -U. The
    /// long options of the main command (--account, --server, --ca-file, --user,
    /// --password-command, --config, --timeout, --json) may follow too. Bcc headers are removed;
    /// Date, Message-ID and From are added when missing; line endings become CRLF; nothing else
    /// is changed.
    #[command(disable_help_flag = true)]
    Sendmail {
        #[command(flatten)]
        args: HandParsed,
    },
    /// Send the body on standard input as `mail -s SUBJECT ADDR...` does (bsd-mailx, mailutils).
    ///
    /// This is also what runs when the binary is called `mail` or `mailx` (a symlink), so
    /// smartd, Nagios, Icinga 2, fail2ban and unattended-upgrades send through smtpsend. It only
    /// sends: with no ADDR it is a usage error. Honoured: -s SUBJECT, -c ADDR and -b ADDR
    /// (comma-separated lists; Bcc stays out of the message), -r FROM (`addr` or `Name <addr>`:
    /// the From and the envelope sender), -a ARG (an existing file is attached; `Name: value`
    /// is a header field, From included), -E (an empty body is not sent), -v. Accepted and
    /// ignored: -n -i -d -N. The long options of `smtpsend sendmail` may follow. The message
    /// goes through sendmail mode, which adds From, Date and Message-ID and completes local
    /// names such as `root`. A lone dot ends the body only when typed at a terminal.
    #[command(disable_help_flag = true)]
    Mail {
        #[command(flatten)]
        args: HandParsed,
    },
    /// Make this binary the system's MTA: sendmail, mail and mailx as symbolic links to it.
    ///
    /// Creates /usr/sbin/sendmail, /usr/lib/sendmail, /usr/bin/mail and /usr/bin/mailx, and
    /// their missing directories. A link that already leads to this binary is left as it is.
    /// Anything else at one of those paths (another MTA's file, an alternatives link) belongs to
    /// another program: then nothing is created, each such path is named, and the exit status
    /// is 73.
    InstallMta {
        /// Create the links below this directory instead of / (for packages and tests).
        #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
        root: Option<PathBuf>,
        /// Print the links that would be created, and create none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Send every message file in a directory over one connection.
    ///
    /// Each regular file in DIR, in name order, is a complete RFC 5322 message, treated as
    /// `sendmail -t` treats one: recipients from To, Cc and Bcc, Bcc removed, Date, Message-ID
    /// and From added when missing. All go through one authenticated session, each message's
    /// commands pipelined, so hundreds of messages cost little more than one. One line per file
    /// reports what happened; a message refused stays where it is, one delivered is left too
    /// (the directory is the caller's).
    Batch {
        /// The directory of message files.
        #[arg(value_name = "DIR", value_hint = ValueHint::DirPath)]
        dir: PathBuf,
        #[command(flatten)]
        options: SendmailOptions,
    },
    /// The outbox: messages kept after a temporary failure, and dead letters.
    ///
    /// A send with --queue (or an account with queue = "on-failure", or sendmail mode) keeps a
    /// message the server could not take right now; `smtpsend queue flush` from cron or a
    /// systemd timer delivers it later, backing off from a minute to four hours between tries.
    /// After five days, or a permanent refusal, it becomes a dead letter, kept and listed;
    /// `smtpsend queue retry` queues it again.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Run a local SMTP relay for programs that speak only SMTP, durable before it says yes.
    ///
    /// Listens on 127.0.0.1:2525 (or each --listen, or the sockets systemd passes with socket
    /// activation, or the [serve] listen of the configuration file). EHLO offers PIPELINING,
    /// 8BITMIME, SMTPUTF8, SIZE (the upstream server's when it is smaller than [serve]
    /// max_message_size) and DSN, and STARTTLS when [serve] has tls_cert and tls_key. A
    /// message is answered 250 only once it and its envelope are fsynced into the outbox; it is
    /// then delivered upstream through the account of the local login, else --account, else the
    /// one whose `from` is the sender, else the default, with the outbox's retries and dead
    /// letters (see `smtpsend queue`). A permanent refusal upstream becomes a bounce to [serve]
    /// bounce_to, or a dead letter and a log line. With --direct, nothing is kept: the upstream
    /// server's reply is the client's.
    ///
    /// Never an open relay: on a loopback address or a unix socket AUTH is optional; on any
    /// other address local AUTH (PLAIN or LOGIN, after STARTTLS, against the hashed passwords of
    /// [serve.users.NAME]) is required before MAIL, and the program refuses to start without a
    /// certificate and a user. On a unix socket, a client whose user is a [serve.users.NAME] is
    /// logged in as it. Recipients are limited to [serve] relay_domains when set.
    ///
    /// One line per accepted and per relayed message goes to SMTPSEND_LOG (a file, `syslog` or
    /// `stderr`), standard error by default. SIGTERM stops accepting and lets the sessions
    /// finish their transactions; SIGHUP reads the configuration file again.
    Serve(ServeArgs),
    /// Print a shell completion script to standard output.
    ///
    /// For example: `smtpsend completions bash > ~/.local/share/bash-completion/completions/smtpsend`
    Completions {
        /// The shell to complete for.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// `smtpsend serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen: ADDRESS:PORT (127.0.0.1:2525, [::1]:2525) or a unix socket's path.
    ///
    /// Repeatable. Without it: the sockets systemd passes (LISTEN_FDS), else the [serve]
    /// listen of the configuration file, else 127.0.0.1:2525.
    #[arg(long, value_name = "ADDR", value_parser = ListenAddr::parse)]
    pub listen: Vec<ListenAddr>,

    /// The account for mail that neither a local login nor its sender assigns to one.
    #[arg(
        long,
        value_name = "NAME",
        env = "SMTPSEND_ACCOUNT",
        add = clap_complete::ArgValueCandidates::new(account_candidates)
    )]
    pub account: Option<String>,

    /// The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml].
    #[arg(long, value_name = "PATH", env = "SMTPSEND_CONFIG", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Relay each message within the session and answer with the upstream server's reply:
    /// no outbox, no retries (a temporary failure upstream is a 451 to the client).
    #[arg(long)]
    pub direct: bool,

    /// Read a password (from standard input, or asked for on the terminal) and print its hash
    /// for [serve.users.NAME] password_hash; listen to nothing.
    #[arg(long, conflicts_with_all = ["listen", "account", "direct"])]
    pub hash_password: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective settings of an account and where each value comes from.
    ///
    /// Every setting is shown, set or not: an unset one with the places it would come from, so
    /// this works on a machine with nothing configured yet.
    Show {
        /// The account; the default account without it.
        #[arg(
            value_name = "ACCOUNT",
            add = clap_complete::ArgValueCandidates::new(account_candidates)
        )]
        account: Option<String>,
        /// The account, as the main command takes it; an ACCOUNT argument wins over it.
        #[arg(
            long = "account",
            value_name = "NAME",
            env = "SMTPSEND_ACCOUNT",
            add = clap_complete::ArgValueCandidates::new(account_candidates)
        )]
        account_flag: Option<String>,
        // Boxed: the flags would make this variant much larger than the other.
        #[command(flatten)]
        connection: Box<ConnectionArgs>,
    },
    /// Convert an msmtp configuration file into smtpsend accounts, printed on standard output.
    ///
    /// Settings smtpsend does not carry over are listed on standard error, never dropped silently.
    ImportMsmtprc {
        /// The msmtp file; ~/.msmtprc (or $XDG_CONFIG_HOME/msmtp/config) without it.
        #[arg(value_name = "PATH", value_hint = ValueHint::FilePath)]
        path: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List the queued messages and the dead letters.
    List,
    /// Show one entry: envelope (Bcc recipients too), times, attempts, where its message is.
    Show {
        #[arg(value_name = "ID")]
        id: String,
        /// Print the stored description as JSON, with the path of the message file.
        #[arg(long)]
        json: bool,
    },
    /// Deliver what is due, one connection per server.
    ///
    /// Silent when all is well and no terminal is watching, so cron mails nothing: it prints
    /// only when a message was deferred, became a dead letter or could not be tried. On a
    /// terminal, or with -v, it says what it delivered and when the next waiting message is due.
    Flush {
        /// Only the messages queued for this account.
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
        /// Try every message now, whatever its next attempt time.
        #[arg(long)]
        now: bool,
        /// Print nothing on success, even on a terminal; what failed still goes to standard error.
        #[arg(short = 'q', long, conflicts_with = "verbose")]
        quiet: bool,
        /// Say what was delivered and what waits, and print the SMTP dialogue on standard
        /// error, secrets replaced by <redacted>.
        #[arg(short = 'v', long)]
        verbose: bool,
    },
    /// Queue dead letters again, due now, for the next flush.
    ///
    /// Each gets a fresh schedule: its attempts and reason are cleared and its five days start
    /// again. Use it once what refused the message has been fixed (a mailbox created, a login
    /// repaired).
    Retry {
        /// The dead letter's id, as `smtpsend queue list` shows it.
        #[arg(value_name = "ID", required_unless_present = "all_dead")]
        id: Option<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "id")]
        all_dead: bool,
    },
    /// Delete a queued message or a dead letter for good.
    Drop {
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The account; the default account without it.
    #[arg(
        value_name = "ACCOUNT",
        add = clap_complete::ArgValueCandidates::new(account_candidates)
    )]
    pub account: Option<String>,

    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    pub password_stdin: bool,

    /// Store the password without checking it with the server first.
    #[arg(long)]
    pub no_verify: bool,

    /// OAuth2 accounts: sign in with the device authorization grant (a code to enter on any
    /// device with a browser), for machines without one.
    #[arg(long, conflicts_with_all = ["no_browser", "password_stdin"])]
    pub device: bool,

    /// OAuth2 accounts: print the sign-in address instead of opening a browser, and read back
    /// the address the browser was sent to.
    #[arg(long, conflicts_with = "password_stdin")]
    pub no_browser: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The e-mail address; asked for on a terminal when not given.
    #[arg(value_name = "ADDRESS")]
    pub address: Option<String>,

    /// The account's name [default: from the address's domain, e.g. `example` for
    /// me@example.com].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The server, instead of searching: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT].
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, conflicts_with = "provider")]
    pub server: Option<String>,

    /// A built-in provider or sending service, for a domain the table does not know (a Google
    /// Workspace or Microsoft 365 domain) or a service chosen by name: ses, sendgrid, mailgun,
    /// postmark, brevo, google, microsoft, ...
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// The region of --provider ses (e.g. eu-west-1) or mailgun (us or eu).
    #[arg(long, value_name = "REGION", requires = "provider")]
    pub region: Option<String>,

    /// The login name [default: what the server's description says, else the address].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Store no password and start no sign-in: only find, check and write the account.
    #[arg(long)]
    pub no_login: bool,

    /// Take a server outside the address's domain without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// OAuth2 providers: the client ID of your own application registration, written into the
    /// account (see smtpsend-login(1)).
    #[arg(long, value_name = "ID")]
    pub oauth2_client_id: Option<String>,

    /// The configuration file to add the account to [default: $XDG_CONFIG_HOME/smtpsend/config.toml].
    #[arg(long, value_name = "PATH", env = "SMTPSEND_CONFIG", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Extra trust anchors (PEM) for the server and the autoconfiguration document.
    #[arg(long, value_name = "PEM", env = "SMTPSEND_CA_FILE", value_hint = ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,

    /// Seconds to wait for each DNS, HTTPS and SMTP answer [default: 15].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The account; the default account without it.
    #[arg(
        value_name = "ACCOUNT",
        add = clap_complete::ArgValueCandidates::new(account_candidates)
    )]
    pub account: Option<String>,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The account; the default account without it.
    #[arg(
        value_name = "ACCOUNT",
        add = clap_complete::ArgValueCandidates::new(account_candidates)
    )]
    pub account: Option<String>,

    /// Also try MAIL FROM and RCPT TO for this address (then RSET); repeatable.
    #[arg(long, value_name = "ADDR")]
    pub rcpt: Vec<String>,

    /// The sender for --rcpt; the account's From address without it [env: SMTPSEND_FROM].
    #[arg(short = 'f', long = "from", value_name = "ADDR")]
    pub from: Option<String>,

    /// Print the SMTP dialogue on standard error, secrets replaced by <redacted>.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Print one JSON object on standard output.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// The words after `sendmail` or `mail`, parsed by hand: their flags do not follow clap's
/// grammar (`-oi`, `-FCronDaemon`, `-sSubject`).
#[derive(Debug, Args)]
pub struct HandParsed {
    /// The flags and the recipients.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    pub words: Vec<OsString>,
}

/// The main command's long options that `sendmail` accepts after its own flags (and `batch`
/// takes).
#[derive(Debug, Parser)]
#[command(name = "smtpsend sendmail", no_binary_name = true)]
pub struct SendmailOptions {
    /// An account from the configuration file.
    #[arg(long, value_name = "NAME", env = "SMTPSEND_ACCOUNT")]
    pub account: Option<String>,

    /// Print one JSON object on standard output.
    #[arg(long)]
    pub json: bool,

    /// Print the SMTP dialogue on standard error, secrets replaced by <redacted>.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Where and how to connect and log in: shared by sending, login, logout, check and config show.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The configuration file [default: $XDG_CONFIG_HOME/smtpsend/config.toml].
    #[arg(
        long,
        value_name = "PATH",
        env = "SMTPSEND_CONFIG",
        value_hint = ValueHint::FilePath,
        help_heading = "Server"
    )]
    pub config: Option<PathBuf>,

    /// The server: smtp://HOST[:PORT] (STARTTLS, 587), smtps://HOST[:PORT] (TLS, 465).
    ///
    /// `smtp+plain://HOST[:PORT]` (port 25) sends without any encryption and must be asked for in
    /// exactly this way. `smtp+unix:///PATH` is an SMTP server on a unix socket of this machine.
    /// The same with `lmtp` (lmtp://, lmtps://, lmtp+plain://, lmtp+unix:///PATH; port 24)
    /// delivers by LMTP (RFC 2033) straight into mailboxes, each recipient answered on its own.
    /// Also taken from SMTPSEND_SERVER when no --server, --host, --port or --tls is given.
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url, help_heading = "Server")]
    pub server: Option<String>,

    /// The server's host name, as an alternative to --server [env: SMTPSEND_HOST].
    #[arg(long, value_name = "HOST", value_hint = ValueHint::Hostname, conflicts_with = "server", help_heading = "Server")]
    pub host: Option<String>,

    /// The server's port; the default follows --tls [env: SMTPSEND_PORT].
    #[arg(
        long,
        value_name = "PORT",
        conflicts_with = "server",
        help_heading = "Server"
    )]
    pub port: Option<u16>,

    /// How the connection is encrypted [env: SMTPSEND_TLS] [default: starttls].
    #[arg(
        long,
        value_name = "MODE",
        conflicts_with = "server",
        help_heading = "Server"
    )]
    pub tls: Option<Security>,

    /// Extra trust anchors (PEM), e.g. a private CA. The system's roots stay trusted.
    #[arg(
        long,
        value_name = "PEM",
        env = "SMTPSEND_CA_FILE",
        value_hint = ValueHint::FilePath,
        help_heading = "Server"
    )]
    pub ca_file: Option<PathBuf>,

    #[command(flatten)]
    pub tls_options: TlsArgs,

    /// Seconds to wait for the connection and for each server reply [default: 60].
    #[arg(
        long,
        value_name = "SECS",
        env = "SMTPSEND_TIMEOUT",
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "Server"
    )]
    pub timeout: Option<u64>,

    /// Seconds the whole send may take, whatever the server does.
    #[arg(
        long,
        value_name = "SECS",
        env = "SMTPSEND_DEADLINE",
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "Server"
    )]
    pub deadline: Option<u64>,

    /// The login name. Without it, smtpsend does not authenticate.
    #[arg(
        long,
        value_name = "NAME",
        env = "SMTPSEND_USER",
        help_heading = "Authentication"
    )]
    pub user: Option<String>,

    /// The SASL mechanism; `auto` picks the strongest the server offers [default: auto].
    ///
    /// `auto` tries SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN,
    /// then LOGIN, from the mechanisms offered after TLS. SCRAM never sends the password and
    /// checks that the server knows it; -PLUS also binds the login to the TLS connection.
    /// With `xoauth2` or `oauthbearer` the password is an OAuth2 access token.
    #[arg(
        long,
        value_name = "MECHANISM",
        env = "SMTPSEND_AUTH",
        help_heading = "Authentication"
    )]
    pub auth: Option<AuthChoice>,

    /// A command whose first line of output is the password, e.g. 'pass show smtp'.
    ///
    /// Run with `sh -c`. Passwords are looked up in this order: --password-command,
    /// SMTPSEND_PASSWORD, the file named by SMTPSEND_PASSWORD_FILE, the account's
    /// oauth2_token_command, the account's password_command, the account's password, the OS
    /// keyring (see `smtpsend login`), then a prompt on the terminal.
    #[arg(
        long,
        value_name = "CMD",
        env = "SMTPSEND_PASSWORD_COMMAND",
        value_hint = ValueHint::CommandString,
        help_heading = "Authentication"
    )]
    pub password_command: Option<String>,

    #[command(flatten)]
    pub reach: ReachArgs,
}

/// How the server is reached beyond its URL: the EHLO name, the IP family, the local address,
/// the proxy.
#[derive(Debug, Args, Default, Clone)]
pub struct ReachArgs {
    /// The name to give the server in EHLO (and HELO) [default: this host's fully qualified
    /// name, else its address as a literal such as [192.0.2.1]].
    ///
    /// Some servers refuse a client whose name is not a fully qualified domain that resolves,
    /// and `smtpsend check` warns when the server seems to dislike the name.
    #[arg(
        long,
        value_name = "NAME",
        env = "SMTPSEND_EHLO_NAME",
        value_parser = crate::reach::parse_hello_name,
        help_heading = "Server"
    )]
    pub ehlo_name: Option<String>,

    /// Connect over IPv4 only [env: SMTPSEND_IP_FAMILY=4].
    ///
    /// Without -4 or -6, a server with addresses of both families is reached by whichever
    /// answers first (Happy Eyeballs, RFC 8305): the first address is tried, and after 250 ms
    /// without an answer the next one of the other family as well.
    #[arg(short = '4', long, conflicts_with = "ipv6", help_heading = "Server")]
    pub ipv4: bool,

    /// Connect over IPv6 only [env: SMTPSEND_IP_FAMILY=6].
    #[arg(short = '6', long, help_heading = "Server")]
    pub ipv6: bool,

    /// The local address to connect from, on a machine with several.
    #[arg(
        long,
        value_name = "ADDR",
        env = "SMTPSEND_SOURCE_ADDRESS",
        help_heading = "Server"
    )]
    pub source_address: Option<std::net::IpAddr>,

    /// Connect through this SOCKS5 proxy: socks5h://HOST[:PORT] (the proxy resolves the
    /// server's name, as Tor needs) or socks5://HOST[:PORT] [default port: 1080].
    ///
    /// Through a proxy the EHLO name is `localhost` unless --ehlo-name says otherwise: the
    /// server sees the proxy's address, and this host's name would say who is behind it. A
    /// queued message keeps the proxy and leaves through it, never directly. For Tor:
    /// --proxy socks5h://127.0.0.1:9050.
    #[arg(
        long,
        value_name = "URL",
        env = "SMTPSEND_PROXY",
        value_parser = crate::reach::Proxy::parse,
        help_heading = "Server"
    )]
    pub proxy: Option<crate::reach::Proxy>,
}

/// How the server's certificate is checked and which TLS is spoken, beyond the trust anchors.
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// The server's public key must have this pin (repeatable): sha256//BASE64.
    ///
    /// The SHA-256 of the certificate's SubjectPublicKeyInfo, as curl's --pinnedpubkey writes
    /// it; `smtpsend check` prints the server's. Checked in addition to the certificate chain
    /// and host name, unless --tls-pin-only. A mismatch is exit 69 and sends nothing.
    #[arg(
        long,
        value_name = "PIN",
        env = "SMTPSEND_TLS_PIN",
        value_delimiter = ',',
        value_parser = parse_pin,
        help_heading = "Server"
    )]
    pub tls_pin: Vec<Pin>,

    /// Trust the pinned key alone: no CA chain, host name or validity dates are checked.
    ///
    /// For a server with a self-signed certificate, as msmtp's tls_fingerprint; the handshake
    /// still proves the server holds the pinned key.
    #[arg(
        long,
        env = "SMTPSEND_TLS_PIN_ONLY",
        value_parser = clap::builder::FalseyValueParser::new(),
        help_heading = "Server"
    )]
    pub tls_pin_only: bool,

    /// The lowest TLS version accepted: 1.2 or 1.3 [default: 1.2].
    #[arg(
        long,
        value_name = "VERSION",
        env = "SMTPSEND_TLS_MIN",
        value_parser = parse_tls_version,
        help_heading = "Server"
    )]
    pub tls_min: Option<TlsVersion>,

    /// The name the certificate is verified for and sent in SNI [default: the host].
    ///
    /// For a server reached by IP address or through a tunnel under another name.
    #[arg(
        long,
        value_name = "NAME",
        env = "SMTPSEND_TLS_SERVER_NAME",
        value_hint = ValueHint::Hostname,
        value_parser = trust::parse_server_name,
        help_heading = "Server"
    )]
    pub tls_server_name: Option<String>,

    /// A client certificate (PEM, any intermediates after it), for a server that asks for one.
    ///
    /// With no --user, smtpsend logs in with SASL EXTERNAL when the server offers it (the
    /// certificate is the login); --auth external asks for it explicitly.
    #[arg(
        long,
        value_name = "PEM",
        env = "SMTPSEND_CLIENT_CERT",
        value_hint = ValueHint::FilePath,
        help_heading = "Server"
    )]
    pub client_cert: Option<PathBuf>,

    /// The client certificate's private key (PEM) [default: in the --client-cert file].
    #[arg(
        long,
        value_name = "PEM",
        env = "SMTPSEND_CLIENT_KEY",
        value_hint = ValueHint::FilePath,
        requires = "client_cert",
        help_heading = "Server"
    )]
    pub client_key: Option<PathBuf>,
}

fn parse_pin(value: &str) -> Result<Pin, String> {
    value.parse()
}

fn parse_tls_version(value: &str) -> Result<TlsVersion, String> {
    value.parse()
}

/// Everything the default command (sending) takes.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipients, added to To.
    #[arg(value_name = "RECIPIENT", help_heading = "Message")]
    pub recipients: Vec<String>,

    /// A To recipient; repeatable, and a comma-separated list is accepted.
    ///
    /// Either `addr@example.com` or `Name <addr@example.com>`; quote names that contain commas:
    /// `'"Doe, Jane" <jane@example.com>'`.
    #[arg(
        short = 't',
        long = "to",
        value_name = "ADDR",
        help_heading = "Message"
    )]
    pub to: Vec<String>,

    /// A Cc recipient; repeatable.
    #[arg(
        short = 'c',
        long = "cc",
        value_name = "ADDR",
        help_heading = "Message"
    )]
    pub cc: Vec<String>,

    /// A Bcc recipient; repeatable. Used in the envelope only, never written into the message.
    #[arg(
        short = 'b',
        long = "bcc",
        value_name = "ADDR",
        help_heading = "Message"
    )]
    pub bcc: Vec<String>,

    /// The From address: `Name <addr>` or `addr`; also the envelope sender [env: SMTPSEND_FROM].
    #[arg(
        short = 'f',
        long = "from",
        value_name = "ADDR",
        help_heading = "Message"
    )]
    pub from: Option<String>,

    /// The envelope sender (MAIL FROM), where it differs from --from: bounces go there.
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub envelope_from: Option<String>,

    /// The subject.
    #[arg(short = 's', long, value_name = "TEXT", help_heading = "Message")]
    pub subject: Option<String>,

    /// The Reply-To address.
    #[arg(long, value_name = "ADDR", help_heading = "Message")]
    pub reply_to: Option<String>,

    /// An extra header, 'Name: value'; repeatable. CR or LF in a value is refused.
    ///
    /// Headers smtpsend writes itself from other flags (From, To, Cc, Subject, ...) are refused
    /// with the flag to use instead; Message-ID and Date may be given to replace the generated ones.
    #[arg(
        short = 'H',
        long = "header",
        value_name = "'NAME: VALUE'",
        help_heading = "Message"
    )]
    pub headers: Vec<String>,

    /// The body text.
    #[arg(
        short = 'm',
        long = "body",
        value_name = "TEXT",
        conflicts_with = "body_file",
        help_heading = "Message"
    )]
    pub body: Option<String>,

    /// Read the body text from a file; `-` is standard input.
    ///
    /// Without -m or --body-file the body is read from standard input when it is not a terminal.
    /// On a terminal, the body is typed in and ended with Ctrl-D.
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, help_heading = "Message")]
    pub body_file: Option<PathBuf>,

    /// An HTML alternative to the text body, read from a file; `-` is standard input.
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, help_heading = "Message")]
    pub html: Option<PathBuf>,

    #[command(flatten)]
    pub rich: RichArgs,

    /// Attach a file; repeatable. The content type comes from the extension, then the content.
    ///
    /// `PATH;name=NAME;type=TYPE` sends it under another file name or content type; `-;name=NAME`
    /// attaches standard input (then the body comes from -m or a file). A PATH with `*`, `?` or
    /// `[` that names no file is a glob pattern: every file it matches is attached, and
    /// matching none is an error (66), so a job whose report is missing fails rather than
    /// mailing without it.
    #[arg(
        short = 'a',
        long = "attach",
        value_name = "PATH[;name=NAME][;type=TYPE]",
        allow_hyphen_values = true,
        value_hint = ValueHint::FilePath,
        help_heading = "Message"
    )]
    pub attach: Vec<PathBuf>,

    /// An account from the configuration file; else the one whose `from` matches --from, else
    /// the default account.
    #[arg(
        long,
        value_name = "NAME",
        env = "SMTPSEND_ACCOUNT",
        help_heading = "Server",
        add = clap_complete::ArgValueCandidates::new(account_candidates)
    )]
    pub account: Option<String>,

    /// When some recipients are refused, still send to the accepted ones (default: send nothing).
    #[arg(long, help_heading = "Server")]
    pub allow_partial: bool,

    /// Ask that the message travel over TLS on every hop to the recipient, or not at all.
    ///
    /// MAIL FROM carries REQUIRETLS (RFC 8689): a relay that cannot deliver it over verified TLS
    /// returns it rather than sending it in the clear. A server that does not offer REQUIRETLS,
    /// or a connection without TLS, is exit 69 with nothing sent. Also set by require_tls = true
    /// in the account or SMTPSEND_REQUIRE_TLS=true.
    #[arg(long, conflicts_with = "ignore_tls_policy", help_heading = "Server")]
    pub require_tls: bool,

    /// Add `TLS-Required: No`: relays may deliver without the TLS a recipient's policy asks for.
    ///
    /// RFC 8689 section 5: MTA-STS and DANE failures do not stop the message, e.g. to reach a
    /// postmaster whose certificate has expired. It still goes over TLS to the submission
    /// server. Overrides require_tls in the account.
    #[arg(long, help_heading = "Server")]
    pub ignore_tls_policy: bool,

    /// On a temporary failure, keep the message in the outbox for `smtpsend queue flush`.
    ///
    /// Also set by queue = "on-failure" in the account. The command still exits 75, saying
    /// where the message is.
    #[arg(long, help_heading = "Server")]
    pub queue: bool,

    /// Try to connect up to N more times when the connection fails (1, 2, 4, ... s apart).
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Server")]
    pub retry: u32,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Print nothing on success.
    #[arg(short = 'q', long, conflicts_with_all = ["verbose", "json"], help_heading = "Output")]
    pub quiet: bool,

    /// Print the SMTP dialogue on standard error, secrets replaced by <redacted>.
    #[arg(short = 'v', long, help_heading = "Output")]
    pub verbose: bool,

    /// Print one JSON object on standard output: each recipient's reply, the final reply, TLS, timings.
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Show what would be sent, and connect to nothing.
    ///
    /// On a terminal: the envelope (every RCPT TO, Bcc included), the header decoded, the text
    /// and one line per attachment. `--dry-run=raw`, and any output that is not a terminal, get
    /// the exact bytes instead; `--dry-run=readable` the readable form anywhere.
    #[arg(
        long,
        value_name = "FORM",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "auto",
        conflicts_with = "json",
        help_heading = "Output"
    )]
    pub dry_run: Option<DryRun>,
}

/// The connection settings the environment alone gives (SMTPSEND_USER, SMTPSEND_CA_FILE, ...),
/// as if no flag had been passed; a value clap refuses is an error naming its variable.
pub fn connection_from_environment() -> Result<ConnectionArgs, error::Error> {
    use clap::CommandFactory;
    #[derive(Parser)]
    #[command(no_binary_name = true)]
    struct EnvironmentOnly {
        #[command(flatten)]
        connection: ConnectionArgs,
    }
    EnvironmentOnly::try_parse_from(std::iter::empty::<OsString>())
        .map(|only| only.connection)
        .map_err(|err| {
            variable_error(&err, &EnvironmentOnly::command(), &[])
                .unwrap_or_else(|| error::Error::config(err.to_string()))
        })
}

/// A value clap refused that came from an SMTPSEND_* variable and not from the command line:
/// an error naming the variable, since a script that never passed `--timeout` must be told
/// about SMTPSEND_TIMEOUT. None when the value was on the command line.
pub fn variable_error(
    err: &clap::Error,
    command: &clap::Command,
    argv: &[OsString],
) -> Option<error::Error> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(shown)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = shown.strip_prefix("--")?.split([' ', '=']).next()?;
    let arg = find_argument(command, long)?;
    let variable = arg.get_env()?.to_str()?;
    let given = argv.iter().filter_map(|word| word.to_str()).any(|word| {
        word == format!("--{long}")
            || word.starts_with(&format!("--{long}="))
            || arg.get_short().is_some_and(|short| {
                !word.starts_with("--") && word.starts_with(&format!("-{short}"))
            })
    });
    if given {
        return None;
    }
    let rendered = err.to_string();
    let mut lines = rendered.lines();
    let first = lines.next()?.trim_start_matches("error: ");
    let mut message = format!(
        "{variable}: {}",
        first.replace(&format!(" for '{shown}'"), "")
    );
    if let Some(possible) = lines.find_map(|line| line.trim().strip_prefix("[possible values: ")) {
        message.push_str(&format!(
            " (expected one of {}",
            possible.trim_end_matches(']')
        ));
        message.push(')');
    }
    Some(error::Error::config(message))
}

/// Whether `--json` is among the words before any `--`: then even an error in the command line
/// is one JSON object on standard output, as well as the text on standard error.
pub fn asks_for_json(argv: &[OsString]) -> bool {
    argv.iter()
        .skip(1)
        .take_while(|word| *word != "--")
        .any(|word| word == "--json")
}

/// Prints a usage error of clap's, every password in a URL among `argv` redacted, and with
/// `json` its JSON object too; gives the error for the exit status.
pub fn print_usage_error(err: &clap::Error, argv: &[OsString], json: bool) -> error::Error {
    let words = || argv.iter().filter_map(|word| word.to_str());
    let plain = crate::server::redact_passwords(&err.render().to_string(), words());
    if plain == err.render().to_string() {
        // Nothing to hide: clap prints it, in colour on a terminal.
        let _ = err.print();
    } else {
        eprint!("{plain}");
    }
    let mut lines = plain.lines();
    let first = lines.next().unwrap_or_default();
    let tip = lines.find_map(|line| line.trim().strip_prefix("tip: "));
    let error = error::Error::usage(first.trim_start_matches("error: "))
        .with_hint(tip.unwrap_or("smtpsend --help lists the options"));
    crate::report::json_failure(json, crate::submit::Step::Settings, error)
}

fn find_argument<'c>(command: &'c clap::Command, long: &str) -> Option<&'c clap::Arg> {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| find_argument(sub, long))
        })
}

/// What `--dry-run` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryRun {
    /// Readable on a terminal, raw elsewhere.
    Auto,
    /// The envelope, the decoded header, the text, a line per attachment.
    Readable,
    /// The exact bytes that would be sent.
    Raw,
}

/// What `--account` and the ACCOUNT arguments complete to: the accounts of the configuration
/// file `SMTPSEND_CONFIG` names, else of the default one. A `--config` earlier on the same command
/// line is not seen (a completer gets only the word being completed); an unreadable or invalid
/// file gives no candidates, so the shell falls back to its default.
pub fn account_candidates() -> Vec<clap_complete::CompletionCandidate> {
    let var = |key: &str| std::env::var(key).ok();
    config::account_names(&var)
        .into_iter()
        .map(clap_complete::CompletionCandidate::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn recipients_come_from_flags_and_positionals() {
        let cli = Cli::try_parse_from([
            "smtpsend",
            "-t",
            "a@x.org, B <b@y.org>",
            "-c",
            "c@x.org",
            "-b",
            "d@x.org",
            "e@x.org",
        ])
        .unwrap();
        assert_eq!(cli.send.to, ["a@x.org, B <b@y.org>"]);
        assert_eq!(cli.send.cc, ["c@x.org"]);
        assert_eq!(cli.send.bcc, ["d@x.org"]);
        assert_eq!(cli.send.recipients, ["e@x.org"]);
    }

    #[test]
    fn server_and_host_contradict() {
        let err =
            Cli::try_parse_from(["smtpsend", "--server", "smtp://a", "--host", "b"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn body_and_body_file_contradict() {
        let err = Cli::try_parse_from(["smtpsend", "-m", "x", "--body-file", "y"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn quiet_and_verbose_contradict() {
        let err = Cli::try_parse_from(["smtpsend", "-q", "-v"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn timeout_must_be_positive() {
        assert!(Cli::try_parse_from(["smtpsend", "--timeout", "0"]).is_err());
        let cli = Cli::try_parse_from(["smtpsend", "--timeout", "5"]).unwrap();
        assert_eq!(cli.send.connection.timeout, Some(5));
    }
}
