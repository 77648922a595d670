//! `ztsim completions SHELL` and `ztsim man`: shell completions and manual
//! pages generated from the same clap definitions the parser uses, so they
//! list exactly the commands and flags it accepts.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use clap_complete::Shell;

use ztsim::report::output::write_atomic;

use super::failure::Failure;
use super::flags::FolderFlags;

/// A shell `ztsim completions` writes for.
#[derive(Clone, Copy, ValueEnum)]
pub enum ShellFlag {
    Bash,
    Zsh,
    Fish,
}

/// Flags of `ztsim completions`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: ShellFlag,
}

/// Flags of `ztsim man`.
#[derive(Args)]
pub struct ManArgs {
    /// Write ztsim.1 and a page per command (ztsim-run.1, ...) into DIR
    /// instead of printing ztsim.1 on standard output.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the pages already in the folder given with --out (without
    /// it, a folder holding any of them is refused).
    #[arg(long, requires = "out")]
    force: bool,
    #[command(flatten)]
    folder: FolderFlags,
}

/// `ztsim completions SHELL`: the script on standard output.
pub fn completions(args: CompletionsArgs, mut cmd: clap::Command) -> Result<(), Failure> {
    let shell = match args.shell {
        ShellFlag::Bash => Shell::Bash,
        ShellFlag::Zsh => Shell::Zsh,
        ShellFlag::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ztsim", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(())
}

/// `ztsim man`: the top-level page on standard output, or every page in
/// a folder.
pub fn man(args: ManArgs, cmd: clap::Command) -> Result<(), Failure> {
    let page = |c: &clap::Command| -> Result<Vec<u8>, Failure> {
        let mut roff = Vec::new();
        clap_mangen::Man::new(c.clone())
            .render(&mut roff)
            .map_err(|e| Failure::Other(format!("cannot render the manual page: {e}")))?;
        Ok(roff)
    };
    let Some(dir) = args.out else {
        out!("{}", String::from_utf8_lossy(&page(&cmd)?));
        return Ok(());
    };
    let mut cmd = cmd;
    cmd.build();
    let mut pages = vec![("ztsim.1".to_string(), page(&cmd)?)];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        // Each page is named and titled as `man ztsim-run` finds it.
        let named = sub
            .clone()
            .display_name(format!("ztsim-{}", sub.get_name()))
            .version(env!("ZTSIM_VERSION"))
            .bin_name(format!("ztsim {}", sub.get_name()));
        pages.push((format!("ztsim-{}.1", sub.get_name()), page(&named)?));
    }
    // The folder as every command takes one: locked, refused (exit 2) if it
    // cannot be used or already holds pages, unless --force.
    let (dir, _lock) = args.folder.claim(&dir, Some("--out"), args.force, |d| {
        pages.iter().any(|(name, _)| d.join(name).exists())
    })?;
    let cannot =
        |e: std::io::Error| Failure::Other(format!("cannot write to {}: {e}", dir.display()));
    for (name, roff) in &pages {
        let path = dir.join(name);
        write_atomic(&path, roff).map_err(cannot)?;
        outln!("wrote {}", path.display());
    }
    Ok(())
}
