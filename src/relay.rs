//! One ready message handed on as an MTA would: through sendmail's intake, submitted to its
//! server, kept in the outbox when the server cannot take it now (the caller of sendmail cannot
//! retry), and noted in the delivery log. What `smtpsend sendmail`, a binary called `sendmail`
//! and the mailx personality share; what they print is their own.

use crate::cli::SendmailOptions;
use crate::compose::{Composed, Envelope};
use crate::config::Config;
use crate::delivery_log;
use crate::error::{Error, Kind};
use crate::outbox::{self, policy};
use crate::report;
use crate::route::{self, session_options};
use crate::sendmail::{self, Invocation};
use crate::settings::Environment;
use crate::submit::{self, Delivery, Step, Transcript};

/// One message handed to sendmail mode, with its flags and options: what a binary called
/// `sendmail`, `smtpsend sendmail` and the mailx personality share.
pub struct Relay<'a> {
    pub invocation: &'a Invocation,
    pub options: &'a SendmailOptions,
    pub config: Option<&'a Config>,
    pub env: &'a Environment<'a>,
}

impl Relay<'_> {
    /// Sends one whole message (or keeps it in the outbox) and reports as sendmail does: by
    /// exit status, and with --json by one JSON object.
    pub fn deliver(&self, message: &[u8]) -> Result<(), Error> {
        let (composed, delivery, outcome) = self.relay(message, None)?;
        let error = match outcome {
            Outcome::Sent => None,
            Outcome::Queued(error) | Outcome::Failed(error) => Some(error),
        };
        if self.options.json {
            report::print_delivery_json(&delivery, &composed, None, error.as_ref());
        }
        match error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The caller of sendmail cannot retry: a message the server cannot take now waits in the
    /// outbox unless the account says queue = "never".
    pub fn relay(
        &self,
        raw: &[u8],
        envelope: Option<&Envelope>,
    ) -> Result<(Composed, Delivery, Outcome), Error> {
        let (composed, server) = sendmail::prepare(
            raw,
            envelope,
            self.invocation,
            self.options,
            self.config,
            self.env,
        )?;
        let verbose = self.invocation.verbose || self.options.verbose;
        let mut transcript = Transcript::new(verbose);
        let delivery = match session_options(&server, &mut transcript) {
            Ok(options) => submit::submit(&composed, &options, &mut transcript),
            // Credentials out of reach for now (a token endpoint that does not answer):
            // queued like any temporary failure.
            Err(error) if error.kind == Kind::Temporary => {
                Delivery::not_attempted(&server.endpoint, Step::Credentials, error)
            }
            Err(error) => return Err(error),
        };
        let outcome = match &delivery.failure {
            None => Outcome::Sent,
            Some((_, error)) if server.queue != Some(false) && policy::should_queue(&delivery) => {
                let route = route::kept(&server, &self.options.connection);
                match outbox::keep_failed(self.env.var, &composed, &delivery, error, route) {
                    Ok(queued) => Outcome::Queued(queued.report(error)),
                    Err(not_kept) => Outcome::Failed(not_kept),
                }
            }
            Some((_, error)) => Outcome::Failed(error.clone()),
        };
        let error = match &outcome {
            Outcome::Sent => None,
            Outcome::Queued(error) | Outcome::Failed(error) => Some(error),
        };
        delivery_log::note(
            server.log.as_ref(),
            server.account.as_deref(),
            &composed,
            &delivery,
            error,
        );
        Ok((composed, delivery, outcome))
    }
}

/// What became of a message handed to sendmail mode.
pub enum Outcome {
    Sent,
    /// Kept in the outbox; the error says where.
    Queued(Error),
    Failed(Error),
}
