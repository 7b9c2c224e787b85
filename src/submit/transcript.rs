//! The `-v` dialogue. Secrets never reach it: the session hands it `<redacted>` in their place.

use std::io::Write;

use crate::terminal::escape;

/// The `-v` dialogue on standard error, printed as it happens so a hang shows where it is.
pub struct Transcript {
    enabled: bool,
}

impl Transcript {
    pub fn new(enabled: bool) -> Self {
        Transcript { enabled }
    }

    fn line(&self, marker: &str, text: &str) {
        if self.enabled {
            let _ = writeln!(std::io::stderr().lock(), "{marker} {}", escape(text));
        }
    }

    /// What we sent.
    pub fn client(&mut self, text: &str) {
        self.line(">", text);
    }

    /// What the server said.
    pub fn server(&mut self, text: &str) {
        self.line("<", text);
    }

    /// Our own commentary.
    pub fn info(&mut self, text: &str) {
        self.line("*", text);
    }
}
