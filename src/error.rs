//! The one error type the CLI reports: a message, its causes and a hint.

use std::fmt;

/// Process exit codes (docs/exit-codes.md).
pub mod exit {
    /// Success, or nothing to do.
    pub const OK: u8 = 0;
    /// Any error, including usage errors.
    pub const ERROR: u8 = 1;
    /// Changes pending or drift found (preview modes and `check`).
    pub const PENDING: u8 = 2;
}

/// An error as shown to the user.
#[derive(Debug)]
pub struct CliError {
    /// The main message; may span several lines (e.g. diagnostics).
    pub message: String,
    /// The source chain, outermost first.
    pub causes: Vec<String>,
    /// The next thing to do.
    pub hint: Option<String>,
    pub code: u8,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            code: exit::ERROR,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Builds an error from a domain error, keeping its source chain.
    pub fn from_error(err: &(dyn std::error::Error + 'static), hint: Option<String>) -> Self {
        let message = err.to_string();
        let mut causes: Vec<String> = Vec::new();
        let mut source = err.source();
        while let Some(s) = source {
            let text = s.to_string();
            // Wrappers often repeat their cause; show each fact once.
            if !message.contains(&text) && !causes.iter().any(|c| c.contains(&text)) {
                causes.push(text);
            }
            source = s.source();
        }
        Self {
            message,
            causes,
            hint,
            code: exit::ERROR,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

macro_rules! from_hinted {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                let hint = e.hint();
                CliError::from_error(&e, hint)
            }
        }
    )*};
}

from_hinted!(
    crate::config::ConfigError,
    crate::catalog::CatalogError,
    crate::project::ProjectError,
    crate::source::SourceError,
);

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::from_error(&e, None)
    }
}
