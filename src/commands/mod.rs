//! The commands: each file arranges the lower modules and prints; no logic of its own that
//! another command could need.

pub mod batch;
pub mod check;
pub mod config;
pub mod init;
pub mod install_mta;
pub mod login;
pub mod mail;
pub mod queue;
pub mod send;
pub mod sendmail;
pub mod serve;
