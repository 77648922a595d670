//! Running the built `ztsim` binary, as a user would.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn command<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ztsim"));
    c.args(args);
    if let Some(d) = dir {
        c.current_dir(d);
    }
    c
}

/// Runs ztsim with `args` in the test's own folder and waits for it.
pub fn ztsim<S: AsRef<OsStr>>(args: &[S]) -> Output {
    command(None, args).output().expect("start ztsim")
}

/// Runs ztsim with `args` in `dir` and waits for it.
pub fn ztsim_in<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Output {
    command(Some(dir), args).output().expect("start ztsim")
}

/// Starts ztsim with `args` (in `dir` if given) with its output piped, for
/// a test that interrupts it.
pub fn spawn<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Child {
    command(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ztsim")
}

/// A finished run: exit code and output as text.
pub struct Run {
    /// The exit code (none if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Everything about the run, for an assertion message.
    pub fn show(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.show());
        self
    }
}
