//! The integration tests: the real binary against a real SMTP server, and against a scripted one
//! for faults; every test asserts on what the server received.

mod accounts;
mod container;
mod diagnose;
mod downgrade;
mod faults;
mod init;
mod install_mta;
mod mail;
mod oauth2;
mod queue;
mod rich;
mod scram;
mod send;
mod sendmail;
mod serve;
mod support;
mod tls;
