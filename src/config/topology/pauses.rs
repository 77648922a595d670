//! Cores that pause (`pauses` on a service, `client_pauses` on the
//! workload): their checks.

use super::compiler::{Compiler, MAX_SIMULATED_NS};
use super::file::{PausesFile, ServiceFile};
use crate::config::diag::KeyPath;
use crate::model::workload::Pauses;
use crate::units::format_nanos;

/// The shortest mean gap between pauses: closer pauses are jitter of the
/// CPU costs themselves, and would each be an event.
const MIN_PAUSE_EVERY: u64 = 1_000_000;

impl Compiler<'_> {
    /// The pauses of `svc` (at `sp`): on a service of the system with cores
    /// of its own.
    pub(super) fn service_pauses(&mut self, svc: &ServiceFile, sp: &KeyPath) -> Option<Pauses> {
        let p = svc.pauses.as_ref()?;
        let path = sp.key("pauses");
        if svc.external == Some(true) {
            self.error(
                &path,
                "`pauses` is for services of the system: a service outside it runs on no cores of ours (give its endpoint's `latency` a longer tail instead)",
            );
            return None;
        }
        if svc.node.is_some() || svc.nodes.is_some() {
            self.error_help(
                &path,
                "`pauses` stops a replica's own cores, and this service shares its node's cores with the other services placed there",
                Some("leave `pauses` out, or give the service cores of its own (`zone` or `zones`, and `cores`) instead of `node`".into()),
            );
            return None;
        }
        self.pauses(p, &path)
    }

    /// The pauses at `path`: `every` from 1ms to the longest run, `for` a
    /// distribution of mean above zero and below `every` (pauses taking all
    /// of the cores' time leave none for the work).
    pub(super) fn pauses(&mut self, p: &PausesFile, path: &KeyPath) -> Option<Pauses> {
        let every = p.every.0;
        if !(MIN_PAUSE_EVERY..=MAX_SIMULATED_NS).contains(&every) {
            self.error_help(
                &path.key("every"),
                format!(
                    "a mean time between pauses of {} is out of range",
                    format_nanos(every as f64)
                ),
                Some(
                    "give from \"1ms\" to \"2400h\" (100 days, the longest run), e.g. every = \"1s\""
                        .into(),
                ),
            );
            return None;
        }
        let lasts = self.dist(&p.lasts, &path.key("for"));
        let mean = lasts.mean();
        if mean.is_nan() || mean < 1.0 {
            self.error(
                &path.key("for"),
                "a pause of no time stops nothing: give how long each pause lasts, e.g. for = \"5ms\"",
            );
            return None;
        }
        if mean >= every as f64 {
            self.error_help(
                &path.key("for"),
                format!(
                    "pauses of {} on average every {} would take all of the cores' time",
                    format_nanos(mean),
                    format_nanos(every as f64)
                ),
                Some("give a `for` whose mean is below `every`".into()),
            );
            return None;
        }
        Some(Pauses { every, lasts })
    }
}
