//! Why a command did not succeed, as `main` maps it to an exit code. Its own
//! file rather than main.rs: every command returns it and main.rs calls every
//! command, so defining it there would make them import each other.

use ztsim::config::Diagnostic;
use ztsim::study::folder::StudyError;

/// Why a command did not succeed.
pub enum Failure {
    /// Bad files or flags: exit 2.
    BadInput(Vec<Diagnostic>),
    /// Anything else: exit 1.
    Other(String),
    /// Finished, but `--fail-on-slo` found an SLO missed or a run
    /// saturated (each reason a line): exit 3.
    Gate(Vec<String>),
    /// Stopped by Ctrl-C or SIGTERM after saving what was done: exit 130.
    Interrupted(String),
}

impl From<StudyError> for Failure {
    fn from(e: StudyError) -> Failure {
        match e {
            StudyError::BadInput(d) => Failure::BadInput(d),
            StudyError::Write(m) => Failure::Other(m),
            StudyError::Interrupted(m) => Failure::Interrupted(m),
        }
    }
}

/// One problem with a file or folder.
pub fn bad(d: Diagnostic) -> Failure {
    Failure::BadInput(vec![d])
}

/// A problem with a flag's value.
pub fn flag_error(flag: &str, message: impl Into<String>) -> Failure {
    Failure::BadInput(vec![Diagnostic {
        file: "command line".into(),
        line: None,
        column: None,
        key: None,
        message: format!("{flag}: {}", message.into()),
        help: None,
    }])
}
