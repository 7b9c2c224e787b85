//! What `serve` does with what a local client sends: its logins checked against the hashed
//! passwords of `[serve.users]`, and each message stored in the outbox (written and fsynced)
//! before the 250, noted in the delivery log, and the delivery woken.

use crate::compose::{Composed, Envelope};
use crate::content::Content;
use crate::credentials::Secret;
use crate::delivery_log;
use crate::error::{Error, Kind};
use crate::outbox::{Outbox, Route};
use crate::route;
use crate::sendmail;
use crate::settings::ServerSettings;
use crate::smtp_server::Receiver;
use crate::submit::{self, Transcript};
use crate::terminal::{escape, print_warning};

use super::Setup;

/// One client's session: what it may log in as and where its mail goes.
pub struct Intake<'a> {
    pub setup: &'a Setup,
    pub outbox: &'a Outbox,
    pub peer: &'a str,
    /// On a unix socket, the peer's user when it is a local user of `[serve.users]`: logged in
    /// by what the kernel says of it, without a password.
    pub peer_login: Option<&'a str>,
    /// Tells the delivery that a message waits.
    pub wake: &'a dyn Fn(),
}

impl Receiver for Intake<'_> {
    fn authenticate(&self, user: &str, password: &Secret) -> bool {
        let good = self.setup.serve.users.get(user).is_some_and(|local| {
            self.setup
                .checked
                .verify(user, &local.password_hash, password)
        });
        if !good {
            // The user name only: a mistyped password is often someone's real one.
            print_warning(&format!(
                "{}: failed login as {:?}",
                self.peer,
                escape(user)
            ));
        }
        good
    }

    /// A relay that says 250 has taken the message: so only once the outbox has it on disk. A
    /// failure to store it is temporary for the client (451), which will try again.
    fn receive(
        &self,
        message: &[u8],
        envelope: &Envelope,
        login: Option<&str>,
    ) -> Result<String, Error> {
        let login = login.or(self.peer_login);
        let message_id = sendmail::header_envelope(message)
            .ok()
            .and_then(|header| header.message_id)
            .unwrap_or_default();
        let composed = Composed {
            envelope: envelope.clone(),
            message_id,
            content: Content::from_bytes(message.to_vec()),
        };
        let account = self.setup.account_for(login, &envelope.from);
        if let Some(servers) = &self.setup.direct {
            return self.relay_now(&composed, servers.get(&account), account.as_deref());
        }
        let route = Route {
            account,
            config: self.setup.config_path.clone(),
            ..Route::default()
        };
        let entry = self.outbox.accept(&composed, route).map_err(|error| {
            print_warning(&format!(
                "{}: message not taken: {}",
                self.peer, error.message
            ));
            Error::new(Kind::Temporary, "cannot store the message now")
        })?;
        delivery_log::accepted(&self.setup.log, &entry.id, self.peer, login, &composed);
        (self.wake)();
        Ok(format!("Ok: queued as {}", entry.id))
    }
}

impl Intake<'_> {
    /// `--direct`: the message submitted now, and the upstream server's verdict the client's
    /// reply; nothing is kept, so a temporary failure is the client's to retry (451).
    fn relay_now(
        &self,
        message: &Composed,
        server: Option<&ServerSettings>,
        account: Option<&str>,
    ) -> Result<String, Error> {
        let server =
            server.ok_or_else(|| Error::new(Kind::Config, "no server for this account"))?;
        let mut transcript = Transcript::new(false);
        let delivery = match route::session_options(server, &mut transcript) {
            Ok(options) => submit::submit(message, &options, &mut transcript),
            Err(error) => return Err(error),
        };
        let error = delivery.failure.as_ref().map(|(_, error)| error.clone());
        delivery_log::note(
            Some(&self.setup.log),
            account,
            message,
            &delivery,
            error.as_ref(),
        );
        match error {
            // A protocol error leaves it unknown whether the server took the message: the
            // client is told to try again, as the outbox would.
            Some(error) if error.kind == Kind::Protocol => Err(Error {
                kind: Kind::Temporary,
                ..error
            }),
            Some(error) => Err(error),
            None => Ok(format!(
                "Ok: relayed ({})",
                delivery
                    .final_reply
                    .map(|reply| reply.one_line())
                    .unwrap_or_default()
            )),
        }
    }
}
