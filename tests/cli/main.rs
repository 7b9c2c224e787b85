//! The integration tests: the real binary against a real SMTP server, and against a scripted one
//! for faults; every test asserts on what the server received.

mod accounts;
mod downgrade;
mod faults;
mod oauth2;
mod queue;
mod send;
mod sendmail;
mod support;
