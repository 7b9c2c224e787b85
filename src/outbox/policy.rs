//! What the outbox does with a message after an attempt, decided without touching the disk:
//! whether a failure waits for another try, which recipients are still owed the message, when
//! the next try is, and how an entry is settled. `queue flush`, `send --queue` and sendmail mode
//! carry the decisions out.
//!
//! Delivery is at least once. A message leaves the outbox only after the server's final 250
//! for it, so a crash or kill at any earlier point keeps it; the one window that can duplicate
//! a message is between that 250 and the removal of its entry, a few system calls long. A send
//! whose connection was lost after the whole message went out but before the server confirmed
//! it is queued too: the server may have taken it, so it may arrive twice.

use crate::compose::Composed;
use crate::error::{Error, Kind};
use crate::submit::Delivery;

/// Retries back off from a minute, doubling, to at most four hours apart.
pub const FIRST_RETRY_SECS: u64 = 60;
const LONGEST_RETRY_SECS: u64 = 4 * 3600;
/// A message not delivered within this long becomes a dead letter.
pub const MAX_AGE_SECS: u64 = 5 * 24 * 3600;

/// Whether a failed delivery should wait in the outbox: a temporary failure, before the
/// server accepted the message or for the recipients it deferred; or a protocol error, after
/// which the server has not accepted the message, may not even have refused it, and a
/// message never confirmed must not be lost.
pub fn should_queue(delivery: &Delivery) -> bool {
    delivery
        .failure
        .as_ref()
        .is_some_and(|(_, error)| waits(error.kind))
}

/// The failures after which a message waits for another try rather than becoming a dead letter.
fn waits(kind: Kind) -> bool {
    matches!(kind, Kind::Temporary | Kind::Protocol)
}

/// The recipients still to deliver to after `delivery`: all of them when the message was not
/// accepted, else those the server deferred (4xx).
pub fn remaining_recipients(message: &Composed, delivery: &Delivery) -> Vec<String> {
    if !delivery.accepted() {
        return message.envelope.recipients.clone();
    }
    delivery
        .recipients
        .iter()
        .filter(|r| !r.accepted && r.reply.as_ref().is_some_and(|reply| reply.code < 500))
        .map(|r| r.address.clone())
        .collect()
}

/// Seconds until the next try after `attempts` attempts.
pub fn backoff(attempts: usize) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    (FIRST_RETRY_SECS << doublings).min(LONGEST_RETRY_SECS)
}

/// What becomes of a queued entry after an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Accepted for every recipient it was owed to: the entry goes.
    Delivered,
    /// Accepted for some, refused for the others for good: nothing is left to retry.
    RefusedForTheRest(Error),
    /// Waits for these recipients, and is tried again in `retry_in` seconds.
    Deferred {
        error: Error,
        recipients: Vec<String>,
        retry_in: u64,
    },
    /// Will not be delivered: kept as a dead letter, for this reason.
    Dead { reason: String, error: Error },
}

/// The settlement of an entry queued at `created`, tried `attempts` times counting this one,
/// after `delivery` of `message`, at `now`.
pub fn settle(
    message: &Composed,
    delivery: &Delivery,
    created: u64,
    attempts: usize,
    now: u64,
) -> Settlement {
    let Some((_, error)) = &delivery.failure else {
        return Settlement::Delivered;
    };
    let remaining = remaining_recipients(message, delivery);
    if waits(error.kind) && !remaining.is_empty() {
        if now.saturating_sub(created) > MAX_AGE_SECS {
            let reason = format!(
                "not delivered within {} days; last: {}",
                MAX_AGE_SECS / 86_400,
                error.message
            );
            return Settlement::Dead {
                error: Error::new(Kind::Unavailable, reason.clone()),
                reason,
            };
        }
        return Settlement::Deferred {
            error: error.clone(),
            recipients: remaining,
            retry_in: backoff(attempts),
        };
    }
    if delivery.accepted() && remaining.is_empty() {
        return Settlement::RefusedForTheRest(error.clone());
    }
    Settlement::Dead {
        reason: error.message.clone(),
        error: error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{Dsn, Envelope};
    use crate::content::Content;
    use crate::server::{Endpoint, Security};
    use crate::submit::{RecipientResult, Reply, Step, Timings};

    const DAY: u64 = 86_400;

    fn message() -> Composed {
        Composed {
            envelope: Envelope {
                from: "a@example.org".into(),
                recipients: vec!["b@example.org".into(), "c@example.org".into()],
                dsn: Dsn::default(),
            },
            message_id: "<id@example.org>".into(),
            content: Content::from_bytes(b"Subject: x\r\n\r\nx\r\n".to_vec()),
        }
    }

    fn reply(code: u16) -> Reply {
        Reply {
            code,
            enhanced: None,
            text: "text".into(),
            queue_id: None,
        }
    }

    /// A delivery whose recipients got `rcpt` replies, the message `final_code` (if it got as
    /// far), and that failed with `failure`.
    fn delivery(rcpt: &[u16], final_code: Option<u16>, failure: Option<Kind>) -> Delivery {
        Delivery {
            endpoint: Endpoint::new("mail.example.org", None, Security::StartTls, "x").unwrap(),
            greeting: None,
            extensions: Vec::new(),
            tls: None,
            hello_name: None,
            ehlo_refused: None,
            auth_mechanism: None,
            recipients: ["b@example.org", "c@example.org"]
                .iter()
                .zip(rcpt)
                .map(|(address, &code)| RecipientResult {
                    address: address.to_string(),
                    accepted: code < 300,
                    reply: Some(reply(code)),
                })
                .collect(),
            final_reply: final_code.map(reply),
            timings: Timings::default(),
            failure: failure.map(|kind| (Step::RcptTo, Error::new(kind, "it failed"))),
        }
    }

    #[test]
    fn retries_back_off_to_a_ceiling() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(5), 960);
        assert_eq!(backoff(50), LONGEST_RETRY_SECS);
    }

    #[test]
    fn only_temporary_and_protocol_failures_wait() {
        for (kind, queued) in [
            (Kind::Temporary, true),
            (Kind::Protocol, true),
            (Kind::RecipientRefused, false),
            (Kind::AuthRefused, false),
            (Kind::BadMessage, false),
        ] {
            assert_eq!(
                should_queue(&delivery(&[], None, Some(kind))),
                queued,
                "{kind:?}"
            );
        }
        assert!(!should_queue(&delivery(&[250, 250], Some(250), None)));
    }

    #[test]
    fn a_message_accepted_for_some_is_owed_only_to_the_deferred() {
        let message = message();
        let partly = delivery(&[250, 451], Some(250), Some(Kind::Temporary));
        assert_eq!(remaining_recipients(&message, &partly), ["c@example.org"]);
        let refused = delivery(&[250, 550], Some(250), Some(Kind::RecipientRefused));
        assert!(remaining_recipients(&message, &refused).is_empty());
        let not_accepted = delivery(&[451, 451], None, Some(Kind::Temporary));
        assert_eq!(remaining_recipients(&message, &not_accepted).len(), 2);
    }

    #[test]
    fn settlements() {
        let message = message();
        let now = 10 * DAY;
        let settle_now =
            |d: &Delivery, created, attempts| settle(&message, d, created, attempts, now);

        let sent = delivery(&[250, 250], Some(250), None);
        assert_eq!(settle_now(&sent, now, 1), Settlement::Delivered);

        let deferred = delivery(&[250, 451], Some(250), Some(Kind::Temporary));
        match settle_now(&deferred, now - DAY, 3) {
            Settlement::Deferred {
                recipients,
                retry_in,
                ..
            } => assert_eq!((recipients, retry_in), (vec!["c@example.org".into()], 240)),
            other => panic!("{other:?}"),
        }

        // The same failure, five days and a second after it was queued: given up.
        match settle_now(&deferred, now - MAX_AGE_SECS - 1, 40) {
            Settlement::Dead { reason, error } => {
                assert!(reason.starts_with("not delivered within 5 days; last: it failed"));
                assert_eq!(error.kind, Kind::Unavailable);
            }
            other => panic!("{other:?}"),
        }

        let partly_refused = delivery(&[250, 550], Some(250), Some(Kind::RecipientRefused));
        assert!(matches!(
            settle_now(&partly_refused, now, 1),
            Settlement::RefusedForTheRest(_)
        ));

        let refused = delivery(&[550, 550], None, Some(Kind::RecipientRefused));
        assert!(matches!(
            settle_now(&refused, now, 1),
            Settlement::Dead { .. }
        ));
    }
}
