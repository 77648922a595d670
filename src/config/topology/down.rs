//! A service's down windows (`down = [{ replica, at, for }]`) and crashes
//! by a rate (`crashes = { every, for }`): their checks.

use super::compiler::{Compiler, MAX_SIMULATED_NS};
use super::file::ServiceFile;
use crate::config::diag::KeyPath;
use crate::model::topology::{CrashRate, DownWindow};
use crate::units::{NANOS_PER_SEC, format_nanos};

impl Compiler<'_> {
    /// The down windows of `svc` (at `sp`), by replica then time: each of
    /// a replica the service has, lasting above zero, ending within the
    /// longest run, and not overlapping another window of its replica.
    pub(super) fn down(&mut self, svc: &ServiceFile, sp: &KeyPath) -> Vec<DownWindow> {
        let Some(windows) = &svc.down else {
            return Vec::new();
        };
        if svc.external == Some(true) {
            self.error(
                &sp.key("down"),
                "`down` is for services of the system: a service outside it has no replicas of ours to crash (give its endpoint's `error_rate` instead)",
            );
            return Vec::new();
        }
        let replicas = svc.replicas.unwrap_or(1);
        // (window, its index in the file) of the valid ones.
        let mut out: Vec<(DownWindow, usize)> = Vec::with_capacity(windows.len());
        for (i, w) in windows.iter().enumerate() {
            let path = sp.key("down").index(i);
            if !(0..replicas).contains(&w.replica) {
                self.error_help(
                    &path.key("replica"),
                    format!(
                        "replica {} does not exist: the service has {replicas} replica(s)",
                        w.replica
                    ),
                    Some(format!(
                        "replicas are counted from 0: give 0 to {}",
                        replicas.max(1) - 1
                    )),
                );
                continue;
            }
            if w.lasts.0 == 0 {
                self.error(
                    &path.key("for"),
                    "a replica down for no time is never down: give how long it stays down, e.g. for = \"30s\"",
                );
                continue;
            }
            let until = w.at.0.saturating_add(w.lasts.0);
            if until > MAX_SIMULATED_NS {
                self.error(
                    &path.key("for"),
                    "the window ends beyond 100 days, the longest run: give an earlier `at` or a shorter `for`",
                );
                continue;
            }
            let d = DownWindow {
                replica: w.replica as u32,
                at: w.at.0,
                until,
            };
            if let Some(&(o, j)) = out
                .iter()
                .find(|(o, _)| o.replica == d.replica && o.at < d.until && d.at < o.until)
            {
                self.error_help(
                    &path.key("at"),
                    format!(
                        "replica {} is already down then (down[{j}] runs from {} to {})",
                        d.replica,
                        format_nanos(o.at as f64),
                        format_nanos(o.until as f64)
                    ),
                    Some(
                        "give each replica's windows one after another, or merge them into one"
                            .into(),
                    ),
                );
                continue;
            }
            out.push((d, i));
        }
        let mut out: Vec<DownWindow> = out.into_iter().map(|(d, _)| d).collect();
        out.sort_unstable_by_key(|d| (d.replica, d.at));
        out
    }

    /// The crash rate of `svc` (at `sp`): on a service of the system, not
    /// with `down` (one way to say when replicas are down), `every` from 1s
    /// to the longest run, `for` a distribution of mean above zero.
    pub(super) fn crashes(&mut self, svc: &ServiceFile, sp: &KeyPath) -> Option<CrashRate> {
        let c = svc.crashes.as_ref()?;
        let path = sp.key("crashes");
        if svc.external == Some(true) {
            self.error(
                &path,
                "`crashes` is for services of the system: a service outside it has no replicas of ours to crash (give its endpoint's `error_rate` instead)",
            );
            return None;
        }
        if svc.down.is_some() {
            self.error_help(
                &path,
                "give `down` or `crashes`, not both: replicas are down at given times or by a rate",
                Some(
                    "keep `down` for outages at known times or `crashes` for a failure rate, and drop the other"
                        .into(),
                ),
            );
            return None;
        }
        let every = c.every.0;
        if !(MIN_CRASH_EVERY..=MAX_SIMULATED_NS).contains(&every) {
            self.error_help(
                &path.key("every"),
                format!(
                    "a mean time between failures of {} is out of range",
                    format_nanos(every as f64)
                ),
                Some("give from \"1s\" to \"2400h\" (100 days, the longest run), e.g. every = \"2h\"".into()),
            );
            return None;
        }
        let lasts = self.dist(&c.lasts, &path.key("for"));
        let mean = lasts.mean();
        if mean.is_nan() || mean < 1.0 {
            self.error(
                &path.key("for"),
                "a replica down for no time is never down: give how long it stays down, e.g. for = \"30s\"",
            );
            return None;
        }
        if mean > MAX_SIMULATED_NS as f64 {
            self.error(
                &path.key("for"),
                "replicas down for more than 100 days, the longest run, on average: give a shorter `for`",
            );
            return None;
        }
        Some(CrashRate { every, lasts })
    }
}

/// The shortest mean time between failures: crashes closer than that are
/// not a failure rate but a replica that does not start.
const MIN_CRASH_EVERY: u64 = NANOS_PER_SEC;
