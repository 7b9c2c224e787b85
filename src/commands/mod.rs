//! The commands: each file arranges the lower modules and prints; no logic of its own that another command could need.

pub mod batch;
pub mod sendmail;
