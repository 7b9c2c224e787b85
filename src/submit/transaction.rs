//! The mail transaction (RFC 5321 section 3.3): MAIL FROM with its parameters (SIZE, SMTPUTF8,
//! BODY, DSN's RET and ENVID, REQUIRETLS), RCPT TO for each recipient, no more per transaction
//! than the server's LIMITS allow, the message after DATA or BDAT
//! (RFC 3030), all of it in one flight when the server offers PIPELINING (RFC 2920); refused
//! recipients and what they mean for the exit code; RSET between transactions. A message the
//! server cannot take as it is (8-bit without 8BITMIME, UTF-8 header without SMTPUTF8, NUL, long
//! lines, `binary`) is converted first (`content::downgrade`).

use std::borrow::Cow;

use super::delivery::{Delivery, Fault, RecipientResult, Result, Step, fault, refused};
use super::hints::provider_hint;
use super::reply::{Extensions, Reply};
use super::session::Session;
use super::transcript::Transcript;
use crate::compose::Composed;
use crate::content::{Channel, Content, downgrade};
use crate::error::{Error, Kind};
use crate::server::Protocol;
use crate::terminal;

/// For each of `recipients`, MAIL FROM and RCPT TO, then RSET: whether the server would take
/// them, with nothing sent. Every recipient's answer lands in `delivery`.
pub(super) fn probe(
    session: &mut Session,
    sender: &str,
    recipients: &[String],
    transcript: &mut Transcript,
    delivery: &mut Delivery,
) -> Result<()> {
    if !recipients.is_empty() {
        session.send(&format!("MAIL FROM:<{sender}>"), transcript)?;
        let reply = session.reply(Step::MailFrom, transcript)?;
        if !reply.is_positive() {
            return Err(refused(
                Step::MailFrom,
                reply,
                Kind::BadMessage,
                &format!("sender <{sender}> refused"),
            ));
        }
        for address in recipients {
            session.send(&format!("RCPT TO:<{address}>"), transcript)?;
            let reply = session.reply(Step::RcptTo, transcript)?;
            delivery.recipients.push(RecipientResult {
                address: address.clone(),
                accepted: reply.is_positive(),
                reply: Some(reply),
            });
        }
        session.send("RSET", transcript)?;
        session.reply(Step::RcptTo, transcript)?;
    }
    Ok(())
}

/// RSET after a failed transaction, so the next one starts clean (RFC 5321 section 4.1.1.5).
pub(super) fn reset(session: &mut Session, transcript: &mut Transcript) -> bool {
    session.send("RSET", transcript).is_ok()
        && session
            .reply(Step::MailFrom, transcript)
            .is_ok_and(|reply| reply.is_positive())
}

/// One mail transaction: MAIL, RCPT for each recipient, the message, its final reply.
///
/// With PIPELINING (RFC 2920) the envelope goes in one flight, and the message's own command
/// with it when no refused recipient must stop the message: with one recipient the server
/// refuses the data by itself when it has nobody to deliver to; with `--allow-partial` the
/// others get it anyway. With CHUNKING (RFC 3030) that command is `BDAT n LAST` followed by the
/// message, so MAIL, RCPT and the whole message cost a single round trip.
///
/// A server that takes only so many recipients per transaction answers the rest 452 (RFC 5321
/// section 4.5.3.1.10): the message goes to those it took, and the rest follow in further
/// transactions on the same session, for as long as each takes some. A server that says its
/// limits beforehand (LIMITS RCPTMAX and RCPTDOMAINMAX, RFC 9422 section 4) gets no more per
/// transaction than it said, the rest following the same way; a 452 still puts off whomever
/// it names.
pub(super) fn transaction(
    session: &mut Session,
    extensions: &Extensions,
    message: &Composed,
    allow_partial: bool,
    require_tls: bool,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
) -> Result<()> {
    envelope_fits(message, extensions)?;
    let content = fit_for(message, extensions, transcript)?;
    let limits = extensions.limits();
    // Recipients not yet in a transaction: those the server put off come first, then those
    // its LIMITS keep for later.
    let mut waiting = message.envelope.recipients.clone();
    let mut put_off: Vec<(String, Reply)> = Vec::new();
    loop {
        let pending: Vec<String> = waiting
            .drain(..limits.recipients_per_transaction(&waiting))
            .collect();
        let later = match one_transaction(
            session,
            extensions,
            message,
            &content,
            &pending,
            allow_partial,
            require_tls,
            transcript,
            delivery,
        ) {
            Ok(later) => later,
            Err(fault) => {
                // Put off or kept for later, then not reached: still owed the message, as a 452
                // said or as nobody asked the server about them yet.
                let unreached = put_off
                    .into_iter()
                    .map(|(address, reply)| (address, Some(reply)))
                    .chain(waiting.into_iter().map(|address| (address, None)));
                for (address, reply) in unreached {
                    if !delivery.recipients.iter().any(|r| r.address == address) {
                        delivery.recipients.push(RecipientResult {
                            address,
                            accepted: false,
                            reply,
                        });
                    }
                }
                return Err(fault);
            }
        };
        if later.is_empty() && waiting.is_empty() {
            break;
        }
        if later.is_empty() {
            transcript.info(&format!(
                "{} recipient(s) beyond the server's LIMITS for one transaction: another transaction",
                waiting.len()
            ));
        } else {
            transcript.info(&format!(
                "{} recipient(s) over the server's limit for one transaction: another transaction",
                later.len()
            ));
        }
        waiting.splice(0..0, later.iter().map(|(address, _)| address.clone()));
        put_off = later;
    }
    // The message went out; those it could not go to are told once, after every transaction.
    match recipients_fault(&delivery.recipients, allow_partial) {
        Some(rejection) => Err(Box::new(Fault {
            step: Step::RcptTo,
            error: Error::new(
                rejection.kind,
                format!("{}; sent to the others", rejection.message),
            ),
            reply: None,
        })),
        None => Ok(()),
    }
}

/// One MAIL, RCPT for each of `recipients`, the message: the recipients the server put off
/// for too many in this transaction (452, RFC 5321 section 4.5.3.1.10), with that reply, when
/// it took others, who then got the message. After a first transaction has sent the message,
/// a later one sends it to whom it can whatever `allow_partial` says: nothing can take back
/// what went out.
#[allow(clippy::too_many_arguments)]
fn one_transaction(
    session: &mut Session,
    extensions: &Extensions,
    message: &Composed,
    content: &Content,
    recipients: &[String],
    allow_partial: bool,
    require_tls: bool,
    transcript: &mut Transcript,
    delivery: &mut Delivery,
) -> Result<Vec<(String, Reply)>> {
    let already_sent = !delivery.recipients.is_empty();
    let allow_partial = allow_partial || already_sent;
    let notify = match (&message.envelope.dsn.notify, extensions.has("DSN")) {
        (Some(notify), true) => format!(" NOTIFY={notify}"),
        _ => String::new(),
    };
    let mut envelope = vec![mail_from_command(
        message,
        content,
        extensions,
        require_tls,
    )?];
    envelope.extend(
        recipients
            .iter()
            .map(|address| format!("RCPT TO:<{address}>{notify}")),
    );
    let pipelining = extensions.has("PIPELINING");
    // LMTP answers the message once per recipient (RFC 2033 section 4.2); after BDAT too
    // (RFC 3030 section 4.3), but DATA's single end is the simpler place to count them.
    let bdat = (extensions.has("CHUNKING") && session.protocol == Protocol::Smtp)
        .then(|| format!("BDAT {} LAST", content.len()));
    let data_in_flight = pipelining && (recipients.len() == 1 || allow_partial);
    if pipelining {
        let mut flight = envelope.clone();
        match (&bdat, data_in_flight) {
            (Some(bdat), true) => {
                flight.push(bdat.clone());
                session.send_flight(&flight, Some(content), transcript)?;
            }
            (None, true) => {
                flight.push("DATA".into());
                session.send_flight(&flight, None, transcript)?;
            }
            (_, false) => session.send_flight(&flight, None, transcript)?,
        }
    }

    // Once `BDAT LAST` has gone out with the whole message, a reply that does not come leaves
    // the message unconfirmed, whichever of the flight's replies it is.
    let message_sent = data_in_flight && bdat.is_some();
    let read = |session: &mut Session, step: Step, transcript: &mut Transcript| {
        let reply = session.reply(step, transcript);
        if message_sent {
            reply.map_err(unconfirmed)
        } else {
            reply
        }
    };

    // The replies, in order; without PIPELINING each command goes out just before its reply.
    let mut replies = Vec::with_capacity(envelope.len());
    for (index, command) in envelope.iter().enumerate() {
        if !pipelining {
            session.send(command, transcript)?;
        }
        let step = if index == 0 {
            Step::MailFrom
        } else {
            Step::RcptTo
        };
        replies.push(read(session, step, transcript)?);
        if !pipelining && index == 0 && !replies[0].is_positive() {
            break;
        }
    }
    let mut replies = replies.into_iter();
    let mail_reply = replies.next().expect("MAIL was sent");
    let answered: Vec<(&String, Reply)> = recipients.iter().zip(replies).collect();
    // Put off for too many only when others were taken: otherwise a 452 is a 452.
    let some_taken = answered.iter().any(|(_, reply)| reply.is_positive());
    let mut later = Vec::new();
    let first_of_this_transaction = delivery.recipients.len();
    for (address, reply) in answered {
        if some_taken && too_many_recipients(&reply) {
            later.push((address.clone(), reply));
            continue;
        }
        delivery.recipients.push(RecipientResult {
            address: address.clone(),
            accepted: reply.is_positive(),
            reply: Some(reply),
        });
    }
    // The reply to DATA or BDAT when it went in the flight: read now, to stay in step.
    let early_data_reply = if data_in_flight {
        let step = if bdat.is_some() {
            Step::Message
        } else {
            Step::Data
        };
        Some(read(session, step, transcript)?)
    } else {
        None
    };
    if !mail_reply.is_positive() {
        return Err(refused(
            Step::MailFrom,
            mail_reply,
            Kind::BadMessage,
            &format!("sender <{}> refused", message.envelope.from),
        ));
    }

    let this_transaction = &delivery.recipients[first_of_this_transaction..];
    let rejected = recipients_fault(this_transaction, allow_partial);
    if let Some(rejection) = &rejected {
        let nobody_accepted = !this_transaction.iter().any(|r| r.accepted);
        if nobody_accepted || !allow_partial {
            if early_data_reply.as_ref().is_some_and(|r| r.code == 354) {
                // A server that says 354 with nobody to deliver to: the only way not to send
                // is to drop the connection, which aborts the transaction.
                session.broken = true;
            } else if early_data_reply.is_none() {
                // Nothing goes out: reset the transaction (RFC 5321 section 4.1.1.5).
                session.send("RSET", transcript)?;
                let _ = session.reply(Step::RcptTo, transcript);
            }
            return Err(fault(
                Step::RcptTo,
                rejection.kind,
                format!("{}; nothing was sent", rejection.message),
            )
            .hint_opt(rejection.hint.clone()));
        }
    }

    let final_reply = match (early_data_reply, &bdat) {
        // BDAT LAST carried the message; its reply is the final one.
        (Some(reply), Some(_)) => reply,
        (early, _) => {
            let data_reply = match (early, &bdat) {
                (Some(reply), _) => reply,
                (None, Some(bdat)) => {
                    session.send_flight(std::slice::from_ref(bdat), Some(content), transcript)?;
                    session
                        .reply(Step::Message, transcript)
                        .map_err(unconfirmed)?
                }
                (None, None) => {
                    session.send("DATA", transcript)?;
                    session.reply(Step::Data, transcript)?
                }
            };
            if bdat.is_some() {
                data_reply
            } else {
                if data_reply.code != 354 {
                    return Err(refused(
                        Step::Data,
                        data_reply,
                        Kind::BadMessage,
                        "DATA refused",
                    ));
                }
                transcript.client(&format!("<{} bytes of message data>", content.len()));
                session.send_data(content)?;
                transcript.client(".");
                if session.protocol == Protocol::Lmtp {
                    mailbox_replies(session, delivery, first_of_this_transaction, transcript)?;
                    return Ok(later);
                }
                session
                    .reply(Step::Message, transcript)
                    .map_err(unconfirmed)?
            }
        }
    };
    if !final_reply.is_positive() {
        // Microsoft's 554 5.2.252 SendAsDenied: the From is not the signed-in mailbox.
        let hint = provider_hint(&final_reply, false).map(String::from);
        let fault = refused(
            Step::Message,
            final_reply,
            Kind::BadMessage,
            "message refused",
        )
        .hint_opt(hint);
        // Neither accepted nor refused: the message went out, but nothing confirms it.
        return Err(if fault.error.kind == Kind::Protocol {
            unconfirmed(fault)
        } else {
            fault
        });
    }
    delivery.final_reply = Some(final_reply);

    Ok(later)
}

/// LMTP's replies after the message, one for each recipient accepted, in their order (RFC 2033
/// section 4.2): each says whether that mailbox took the message. Refused by all, the message
/// was refused; by some, those are told with the others' refusals at RCPT.
fn mailbox_replies(
    session: &mut Session,
    delivery: &mut Delivery,
    first: usize,
    transcript: &mut Transcript,
) -> Result<()> {
    let mut delivered = None;
    let mut refusal = None;
    for recipient in delivery.recipients[first..].iter_mut() {
        if !recipient.accepted {
            continue;
        }
        let reply = session
            .reply(Step::Message, transcript)
            .map_err(unconfirmed)?;
        recipient.accepted = reply.is_positive();
        match reply.is_positive() {
            true => delivered = Some(reply.clone()),
            false => refusal = refusal.or(Some(reply.clone())),
        }
        recipient.reply = Some(reply);
    }
    match (delivered, refusal) {
        (Some(reply), _) => {
            delivery.final_reply = Some(reply);
            Ok(())
        }
        (None, Some(reply)) => Err(refused(
            Step::Message,
            reply,
            Kind::BadMessage,
            "message refused by every mailbox",
        )),
        (None, None) => Err(fault(
            Step::Message,
            Kind::Internal,
            "the message went to nobody",
        )),
    }
}

/// A 452 that says this transaction has all the recipients it can take (RFC 5321 section
/// 4.5.3.1.10; RFC 3463's 4.5.3 "too many recipients").
fn too_many_recipients(reply: &Reply) -> bool {
    reply.code == 452
        && (reply.enhanced.as_deref() == Some("4.5.3")
            || reply
                .text
                .to_ascii_lowercase()
                .contains("too many recipients"))
}

/// No final reply to a message sent in full: say that it may have been accepted.
fn unconfirmed(mut fault: Box<Fault>) -> Box<Fault> {
    fault.error.message.push_str(
        "; the message was sent in full but not confirmed: the server may or may not have accepted it",
    );
    fault
}

/// The error for recipients the server did not take, if any. A reply that is no refusal (a
/// 3xx) makes it a protocol error, 76; else a permanent refusal (5xx) makes it 67; only
/// temporary ones (4xx) make it 75, since trying again may work.
pub(super) fn recipients_fault(results: &[RecipientResult], allow_partial: bool) -> Option<Error> {
    let not_accepted: Vec<&RecipientResult> = results.iter().filter(|r| !r.accepted).collect();
    if not_accepted.is_empty() {
        return None;
    }
    let answered = |test: fn(&Reply) -> bool| {
        not_accepted
            .iter()
            .any(|r| r.reply.as_ref().is_some_and(test))
    };
    // Only 2xx accepts a recipient (RFC 5321 section 4.3.2); a 3xx to RCPT answers nothing.
    let unexpected = answered(|reply| !reply.is_transient() && !reply.is_permanent());
    let permanent = answered(Reply::is_permanent);
    let list = not_accepted
        .iter()
        .map(|r| match &r.reply {
            Some(reply) => format!("<{}> ({})", r.address, reply.one_line()),
            None => format!("<{}>", r.address),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (kind, verb) = if unexpected {
        (Kind::Protocol, "answered unexpectedly")
    } else if permanent {
        (Kind::RecipientRefused, "refused")
    } else {
        (Kind::Temporary, "deferred")
    };
    let noun = if not_accepted.len() == 1 {
        "recipient"
    } else {
        "recipients"
    };
    let error = Error::new(
        kind,
        format!("{} {noun} {verb}: {list}", not_accepted.len()),
    );
    let some_accepted = not_accepted.len() < results.len();
    Some(if some_accepted && !allow_partial {
        error.with_hint("--allow-partial sends to the recipients the server accepted")
    } else {
        error
    })
}

/// An address that is not ASCII travels only with SMTPUTF8 (RFC 6531); nothing converts it.
fn envelope_fits(message: &Composed, extensions: &Extensions) -> Result<()> {
    if !message.envelope.needs_smtputf8() || extensions.has("SMTPUTF8") {
        return Ok(());
    }
    let address = std::iter::once(&message.envelope.from)
        .chain(&message.envelope.recipients)
        .find(|a| !a.is_ascii())
        .expect("one address is not ASCII");
    Err(fault(
        Step::MailFrom,
        Kind::Unavailable,
        format!("the address <{address}> needs SMTPUTF8, which the server does not offer"),
    ))
}

/// The message as this server can take it: as it is when it is 7-bit with short lines and no
/// NUL (no copy, no file read), else converted for what the EHLO offered, and said so in the
/// transcript.
fn fit_for<'a>(
    message: &'a Composed,
    extensions: &Extensions,
    transcript: &mut Transcript,
) -> Result<Cow<'a, Content>> {
    if message.content.ascii().plain() {
        return Ok(Cow::Borrowed(&message.content));
    }
    let channel = Channel {
        eight_bit: extensions.has("8BITMIME"),
        utf8_header: extensions.has("SMTPUTF8"),
    };
    let bytes = message.content.read_all().map_err(|err| {
        fault(
            Step::MailFrom,
            Kind::NoInput,
            format!("cannot read the message: {err}"),
        )
    })?;
    let converted = downgrade(&bytes, channel).map_err(|error| {
        Box::new(Fault {
            step: Step::MailFrom,
            error,
            reply: None,
        })
    })?;
    if converted.parts > 0 || converted.fields > 0 {
        let missing = [
            (!channel.eight_bit).then_some("8BITMIME"),
            (!channel.utf8_header).then_some("SMTPUTF8"),
        ];
        let missing: Vec<&str> = missing.into_iter().flatten().collect();
        transcript.info(&format!(
            "converted for a server without {}: {} body parts re-encoded or relabelled, {} header fields in encoded words",
            if missing.is_empty() { "BINARYMIME".into() } else { missing.join(" or ") },
            converted.parts,
            converted.fields
        ));
    }
    Ok(Cow::Owned(Content::from_bytes(
        converted.bytes.into_owned(),
    )))
}

fn mail_from_command(
    message: &Composed,
    content: &Content,
    extensions: &Extensions,
    require_tls: bool,
) -> Result<String> {
    let mut command = format!("MAIL FROM:<{}>", message.envelope.from);
    let size = content.len();
    if let Some(limit) = extensions.size_limit()
        && size > limit
    {
        return Err(fault(
            Step::MailFrom,
            Kind::BadMessage,
            format!(
                "the message is {}; the server takes at most {}",
                terminal::size(size),
                terminal::size(limit)
            ),
        ));
    }
    if extensions.has("SIZE") {
        command.push_str(&format!(" SIZE={size}"));
    }
    let ascii = content.ascii();
    // RFC 6532: UTF-8 in header fields travels only with SMTPUTF8; `fit_for` saw to it that
    // it is there only when the server offers it, and 8-bit content only with 8BITMIME.
    if message.envelope.needs_smtputf8() || !ascii.header {
        command.push_str(" SMTPUTF8");
    }
    if !ascii.message && extensions.has("8BITMIME") {
        command.push_str(" BODY=8BITMIME");
    }
    // RFC 8689 section 4.1; `open` saw to it that the server offers it, over TLS.
    if require_tls {
        command.push_str(" REQUIRETLS");
    }
    if extensions.has("DSN") {
        if let Some(ret) = &message.envelope.dsn.ret {
            command.push_str(&format!(" RET={ret}"));
        }
        if let Some(envelope_id) = &message.envelope.dsn.envelope_id {
            command.push_str(&format!(" ENVID={}", xtext(envelope_id)));
        }
    }
    Ok(command)
}

/// RFC 3461 section 4: `+XX` for anything outside printable ASCII, and for `+` and `=`.
fn xtext(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'!'..=b'~' if b != b'+' && b != b'=' => (b as char).to_string(),
            other => format!("+{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::reply::reply_from;
    use super::*;

    #[test]
    fn recipient_faults_separate_permanent_from_temporary() {
        let result = |address: &str, code: u16| RecipientResult {
            address: address.into(),
            accepted: code < 300,
            reply: reply_from(&[&format!("{code} x")]),
        };
        assert!(recipients_fault(&[result("a@x", 250)], false).is_none());
        let err = recipients_fault(&[result("a@x", 250), result("b@x", 550)], false).unwrap();
        assert_eq!(err.kind, Kind::RecipientRefused);
        assert!(err.hint.is_some());
        let err = recipients_fault(&[result("a@x", 250), result("b@x", 451)], true).unwrap();
        assert_eq!(err.kind, Kind::Temporary);
        assert!(err.hint.is_none());
        let err = recipients_fault(&[result("a@x", 550), result("b@x", 354)], true).unwrap();
        assert_eq!(err.kind, Kind::Protocol);
    }
    #[test]
    fn envelope_ids_are_xtext() {
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
    }
}
