//! The one writer of files and folders. Every file is written to a
//! temporary file of a name unique to this process and call, created
//! exclusively (an existing path, a planted symbolic link included, is never
//! opened for writing), then renamed into place (a rename replaces a link,
//! it never writes through it). Folders ztsim writes into must be real
//! folders, not symbolic links. A command that writes a folder holds its
//! [`FolderLock`] for the whole run, so two runs never mix their files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The lock file in a folder being written; removed when the run ends.
pub const LOCK_FILE: &str = ".ztsim-lock";

/// A temporary path beside `path`, unique to this process and call:
/// `.<name>.<pid>.<n>.tmp<suffix>`.
fn temp_beside(path: &Path, suffix: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.{n}.tmp{suffix}", std::process::id()))
}

/// Creates `path` exclusively: fails if anything, a link included, is there.
fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Writes via a temporary file and a rename, so a reader never sees half a
/// file and nothing already at `path` (a symbolic link included) is
/// written through.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_beside(path, "");
    let written = create_new(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|_| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Writes `path` with `write`, which is given a fresh temporary path
/// (created empty and exclusively, ending in `extension` for writers that
/// choose the format from it) to fill, then renamed into place.
pub fn write_atomic_with(
    path: &Path,
    extension: &str,
    write: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = temp_beside(path, extension);
    let written = create_new(&tmp)
        .and_then(|_| write(&tmp))
        .and_then(|_| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Creates the folder `dir` (and its parents) to write into, refusing a
/// symbolic link where ztsim would write: `dir` itself and, for a relative
/// path, every folder on the way below its first (`runs/` in
/// `output/runs/x` is ztsim's own; `output` may be the user's link to a
/// bigger disk).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut at = PathBuf::new();
    let relative = dir.is_relative();
    let mut components = dir.components().enumerate().peekable();
    while let Some((i, c)) = components.next() {
        at.push(c);
        let last = components.peek().is_none();
        if !(last || relative && i > 0 && matches!(c, Component::Normal(_))) {
            continue;
        }
        if fs::symlink_metadata(&at)?.file_type().is_symlink() {
            return Err(io::Error::other(format!(
                "{} is a symbolic link: ztsim does not write through links it did not create; give the folder it points to instead",
                at.display()
            )));
        }
    }
    Ok(())
}

/// `path` as the file system resolves it, whether or not it exists yet: its
/// longest existing part canonicalised (links and `..` resolved), the rest
/// appended, so two spellings of one folder (`et`, `./et/`) compare equal.
pub fn resolved(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        let here = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing.as_path()
        };
        if let Ok(c) = fs::canonicalize(here) {
            existing = c;
            break;
        }
        match existing.components().next_back() {
            Some(c) => rest.push(c.as_os_str().to_os_string()),
            None => break,
        }
        existing.pop();
    }
    for c in rest.iter().rev() {
        match Path::new(c).components().next() {
            Some(Component::ParentDir) => {
                existing.pop();
            }
            Some(Component::Normal(n)) => existing.push(n),
            _ => {}
        }
    }
    existing
}

/// Checks that files can be created in `dir` (creating it), with a probe
/// file of a unique name, created exclusively and removed at once.
pub fn check_writable(dir: &Path) -> io::Result<()> {
    create_dir(dir)?;
    let probe = temp_beside(&dir.join("write-test"), "");
    create_new(&probe)?;
    fs::remove_file(&probe)
}

/// An exclusive advisory lock on a folder being written, held until
/// dropped. The operating system releases it when the process ends, however
/// it ends, so a killed run never leaves a stale lock.
#[derive(Debug)]
pub struct FolderLock {
    file: File,
    path: PathBuf,
    /// The folder, canonical, as kept in [`HELD`].
    folder: PathBuf,
}

/// The folders this process holds locked (canonical): a folder nested in
/// one of its own (`run --out x --export-traces x/traces`) is no conflict.
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Why a folder could not be locked.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; who, as its lock file says.
    Busy(String),
    /// Another process holds a folder inside this one or around it (`inside`:
    /// this one is inside `folder`): one run's files would land among the
    /// other's, or a `--force` would remove them.
    Nested {
        /// The other run's folder.
        folder: PathBuf,
        /// Who holds it, as its lock file says.
        holder: String,
        /// This folder is inside the other's (else it contains it).
        inside: bool,
    },
    /// The folder or its lock file cannot be written.
    Io(io::Error),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Busy(holder) => write!(f, "in use by another ztsim ({holder})"),
            LockError::Nested { folder, holder, .. } => write!(
                f,
                "{} is in use by another ztsim ({holder})",
                folder.display()
            ),
            LockError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl FolderLock {
    /// Locks `dir` (creating it), waiting for a holder to finish if `wait`,
    /// else refusing at once with [`LockError::Busy`].
    pub fn acquire(dir: &Path, wait: bool) -> Result<FolderLock, LockError> {
        create_dir(dir).map_err(LockError::Io)?;
        let path = dir.join(LOCK_FILE);
        loop {
            let mut file = open_lock_file(&path).map_err(LockError::Io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) if wait => {
                    file.lock().map_err(LockError::Io)?;
                }
                Err(fs::TryLockError::WouldBlock) => return Err(LockError::Busy(holder(&file))),
                Err(fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
            }
            // The holder before us removes the file as it ends: a lock on a
            // file no longer at `path` guards nothing, so start again.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(LockError::Io)?;
            file.write_all(holder_text().as_bytes())
                .map_err(LockError::Io)?;
            let folder = fs::canonicalize(dir).map_err(LockError::Io)?;
            let lock = FolderLock {
                file,
                path: path.clone(),
                folder,
            };
            // Checked once ours is held, so of two runs starting together
            // on nested folders at least one sees the other.
            match live_lock_around(&lock.folder) {
                None => {
                    lock_registry().push(lock.folder.clone());
                    return Ok(lock);
                }
                Some(_) if wait => {
                    // Let go while waiting: two runs each waiting on the
                    // other's folder while holding their own would hang.
                    drop(lock);
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                Some(nested) => return Err(nested),
            }
        }
    }

    /// Locks the first of `dir`, `dir-2`, `dir-3`, ... that no other run
    /// holds and that `taken` (results already there) does not claim.
    pub fn acquire_fresh(
        dir: &Path,
        taken: impl Fn(&Path) -> bool,
    ) -> Result<(PathBuf, FolderLock), LockError> {
        let name = dir
            .file_name()
            .map_or("results".into(), |n| n.to_string_lossy().into_owned());
        let candidates = std::iter::once(dir.to_path_buf())
            .chain((2u64..).map(|n| dir.with_file_name(format!("{name}-{n}"))));
        for d in candidates {
            if taken(&d) {
                continue;
            }
            match FolderLock::acquire(&d, false) {
                // Results may have landed before the lock was ours.
                Ok(lock) if !taken(&d) => return Ok((d, lock)),
                // A run inside a candidate holds it, not its siblings.
                Ok(_) | Err(LockError::Busy(_) | LockError::Nested { inside: false, .. }) => {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the numbered folders never run out")
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        let mut held = lock_registry();
        if let Some(i) = held.iter().position(|f| *f == self.folder) {
            held.swap_remove(i);
        }
        drop(held);
        // Removed while still locked, so whoever waits on it starts again.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

fn lock_registry() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// A live lock of another run on a folder around `dir` (an ancestor) or
/// inside it (walked without following links), as the refusal to give.
fn live_lock_around(dir: &Path) -> Option<LockError> {
    let nested = |folder: &Path, inside: bool| {
        live_holder(folder).map(|holder| LockError::Nested {
            folder: folder.to_path_buf(),
            holder,
            inside,
        })
    };
    if let Some(e) = dir.ancestors().skip(1).find_map(|a| nested(a, true)) {
        return Some(e);
    }
    let mut below = vec![dir.to_path_buf()];
    while let Some(d) = below.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            // A DirEntry's type is the link's own: links are not followed.
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let sub = e.path();
                if let Some(e) = nested(&sub, false) {
                    return Some(e);
                }
                below.push(sub);
            }
        }
    }
    None
}

/// Who holds `folder`'s lock, if another process does now. A lock file left
/// by a killed run is not held. (Testing it takes a shared lock for an
/// instant: a run starting on that very folder in that instant waits or is
/// refused, never mixed.)
fn live_holder(folder: &Path) -> Option<String> {
    if lock_registry().iter().any(|f| f == folder) {
        return None;
    }
    let path = folder.join(LOCK_FILE);
    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(&path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(fs::TryLockError::WouldBlock) => Some(holder(&file)),
        Err(fs::TryLockError::Error(_)) => None,
    }
}

/// The holder named in a lock file, in a line. The holder writes it just
/// after locking: give it a moment before saying it is starting up.
fn holder(mut file: &File) -> String {
    for _ in 0..50 {
        let mut text = String::new();
        if file.seek(SeekFrom::Start(0)).is_ok() && file.read_to_string(&mut text).is_ok() {
            // Complete once its last line (the command line) is.
            if text.ends_with("`\n") {
                return text.trim().replace('\n', ", ");
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    "starting up".into()
}

/// Opens (or creates) a lock file for reading and writing, never through a
/// symbolic link.
fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOFOLLOW: a planted link makes the open fail, not follow.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Whether the open `file` is the one at `path` now.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Who holds a lock: process id, start time and command line.
fn holder_text() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let args: Vec<String> = std::env::args().collect();
    format!(
        "pid {}\nstarted {}\n`{}`\n",
        std::process::id(),
        utc(since),
        args.join(" ")
    )
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let rem = secs % 86_400;
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        utc_date(secs),
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The UTC date of `secs` since 1970 as `YYYY-MM-DD` (civil from days,
/// after Howard Hinnant's algorithm).
pub fn utc_date(secs: u64) -> String {
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_folder_is_refused_naming_its_holder_then_free() {
        let dir = std::env::temp_dir().join(format!("ztsim-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let held = FolderLock::acquire(&dir, false).unwrap();
        match FolderLock::acquire(&dir, false) {
            Err(LockError::Busy(h)) => {
                assert!(h.contains(&format!("pid {}", std::process::id())), "{h}")
            }
            other => panic!("{other:?}"),
        }
        let (beside, _second) = FolderLock::acquire_fresh(&dir, |_| false).unwrap();
        assert_eq!(
            beside,
            dir.with_file_name(format!("ztsim-lock-{}-2", std::process::id()))
        );
        drop(held);
        assert!(!dir.join(LOCK_FILE).exists());
        drop(FolderLock::acquire(&dir, false).unwrap());
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_dir_all(&beside);
    }

    #[test]
    fn a_link_is_replaced_not_written_through() {
        let dir = std::env::temp_dir().join(format!("ztsim-link-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        fs::write(&victim, "precious").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&victim, dir.join("out.json")).unwrap();
            std::os::unix::fs::symlink(&dir, dir.join("sub")).unwrap();
            assert!(create_dir(&dir.join("sub")).is_err());
        }
        write_atomic(&dir.join("out.json"), b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(dir.join("out.json")).unwrap(), "new");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_302_799), "2026-12-03 12:59:59 UTC");
    }
}
