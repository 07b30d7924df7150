//! The terminal: the only place that prints or asks.
//!
//! Data goes to stdout, status and errors to stderr. Colour only on a
//! terminal, and never with NO_COLOR (anstream handles both). Every line
//! goes through [`crate::escape::safe_text`]: no control character reaches
//! the terminal raw and no line can start a GitHub workflow command, except
//! the annotations of [`Ui::workflow_command`].

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use crate::error::CliError;
use crate::escape::{is_annotation, safe_text};

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARN: Style = AnsiColor::Yellow.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();
const OK: Style = AnsiColor::Green.on_default();
const BOLD: Style = Style::new().bold();
const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const CHANGED: Style = AnsiColor::Yellow.on_default();

/// A style name for callers that should not depend on anstyle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Bold,
    Ok,
    Added,
    Removed,
    Changed,
    Warn,
}

impl Tone {
    fn style(self) -> Style {
        match self {
            Tone::Plain => Style::new(),
            Tone::Bold => BOLD,
            Tone::Ok => OK,
            Tone::Added => ADDED,
            Tone::Removed => REMOVED,
            Tone::Changed => CHANGED,
            Tone::Warn => WARN,
        }
    }
}

/// What the terminal allows is found out once, when first needed: anstream
/// asked the terminal (an `ioctl`) and the environment for every line.
pub struct Ui {
    /// Whether questions may be asked (stdin and stderr are terminals).
    interactive: std::cell::OnceCell<bool>,
    out_colour: std::cell::OnceCell<anstream::ColorChoice>,
    err_colour: std::cell::OnceCell<anstream::ColorChoice>,
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

impl Ui {
    pub fn new() -> Self {
        Self {
            interactive: std::cell::OnceCell::new(),
            out_colour: std::cell::OnceCell::new(),
            err_colour: std::cell::OnceCell::new(),
        }
    }

    pub fn is_interactive(&self) -> bool {
        *self
            .interactive
            .get_or_init(|| std::io::stdin().is_terminal() && std::io::stderr().is_terminal())
    }

    fn stdout(&self) -> anstream::AutoStream<std::io::Stdout> {
        let choice = *self
            .out_colour
            .get_or_init(|| anstream::AutoStream::choice(&std::io::stdout()));
        anstream::AutoStream::new(std::io::stdout(), choice)
    }

    fn stderr(&self) -> anstream::AutoStream<std::io::Stderr> {
        let choice = *self
            .err_colour
            .get_or_init(|| anstream::AutoStream::choice(&std::io::stderr()));
        anstream::AutoStream::new(std::io::stderr(), choice)
    }

    /// Writes a line of the command's data to stdout (a closed pipe is not an error).
    pub fn out(&self, line: &str) {
        let line = safe_text(line);
        let _ = writeln!(self.stdout(), "{line}");
    }

    /// Writes a GitHub workflow command (`check --format github`): only a
    /// well-formed annotation passes as is; anything else is made safe like
    /// every other line.
    pub fn workflow_command(&self, line: &str) {
        if is_annotation(line) {
            let _ = writeln!(self.stdout(), "{line}");
        } else {
            self.out(line);
        }
    }

    /// Writes a styled line of data to stdout.
    pub fn out_styled(&self, tone: Tone, line: &str) {
        let line = safe_text(line);
        let style = tone.style();
        let _ = writeln!(self.stdout(), "{style}{line}{style:#}");
    }

    /// Writes a status line to stderr.
    pub fn status(&self, line: &str) {
        let line = safe_text(line);
        let _ = writeln!(self.stderr(), "{line}");
    }

    pub fn status_styled(&self, tone: Tone, line: &str) {
        let line = safe_text(line);
        let style = tone.style();
        let _ = writeln!(self.stderr(), "{style}{line}{style:#}");
    }

    pub fn warn(&self, line: &str) {
        let line = safe_text(line);
        let _ = writeln!(self.stderr(), "{WARN}warning:{WARN:#} {line}");
    }

    pub fn hint(&self, line: &str) {
        let line = safe_text(line);
        let _ = writeln!(self.stderr(), "{HINT}hint:{HINT:#} {line}");
    }

    /// Prints an error with its causes and hint.
    pub fn error(&self, err: &CliError) {
        let mut e = self.stderr();
        let message = safe_text(&err.message);
        let mut lines = message.split('\n');
        let first = lines
            .next()
            .filter(|l| !l.is_empty())
            .unwrap_or("unknown error");
        let _ = writeln!(e, "{ERROR}error:{ERROR:#} {first}");
        for line in lines {
            let _ = writeln!(e, "{line}");
        }
        for cause in &err.causes {
            let cause = safe_text(cause);
            let _ = writeln!(e, "  caused by: {cause}");
        }
        if let Some(hint) = &err.hint {
            let hint = safe_text(hint);
            let _ = writeln!(e, "{HINT}hint:{HINT:#} {hint}");
        }
    }

    /// Asks a yes/no question; without a terminal this is an error naming `flag`.
    pub fn confirm(&self, prompt: &str, default: bool, flag: &str) -> Result<bool, CliError> {
        self.require_terminal(flag)?;
        dialoguer::Confirm::new()
            .with_prompt(safe_text(prompt))
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    /// Asks to pick one item; returns its index.
    pub fn select(
        &self,
        prompt: &str,
        items: &[String],
        default: usize,
        flag: &str,
    ) -> Result<usize, CliError> {
        self.require_terminal(flag)?;
        dialoguer::Select::new()
            .with_prompt(safe_text(prompt))
            .items(items.iter().map(|i| safe_text(i)))
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    /// Asks to pick any number of items; returns their indexes.
    pub fn multi_select(
        &self,
        prompt: &str,
        items: &[String],
        flag: &str,
    ) -> Result<Vec<usize>, CliError> {
        self.require_terminal(flag)?;
        dialoguer::MultiSelect::new()
            .with_prompt(safe_text(prompt))
            .items(items.iter().map(|i| safe_text(i)))
            .interact()
            .map_err(prompt_error)
    }

    /// Asks for a line of text with a default.
    pub fn input(&self, prompt: &str, default: &str, flag: &str) -> Result<String, CliError> {
        self.require_terminal(flag)?;
        dialoguer::Input::<String>::new()
            .with_prompt(safe_text(prompt))
            .default(default.to_owned())
            .interact_text()
            .map_err(prompt_error)
    }

    fn require_terminal(&self, flag: &str) -> Result<(), CliError> {
        if self.is_interactive() {
            Ok(())
        } else {
            Err(
                CliError::new("this needs an answer, but there is no terminal to ask on")
                    .hint(format!("pass {flag}")),
            )
        }
    }
}

fn prompt_error(e: dialoguer::Error) -> CliError {
    CliError::new(format!("the question was not answered: {e}"))
        .hint("run the command again, or pass the answers as flags (see --help)")
}
