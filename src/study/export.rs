//! A run's replications with chosen requests exported as traces (`ztsim run
//! --export-traces`): the design run picks the requests (the slowest and a
//! seeded sample), the baseline exports the same requests (same seeds, so
//! the same arrivals), so a slow request can be compared under both.

use std::path::PathBuf;

use crate::model::record::{self, Pick};
use crate::model::{self, Design, Replications, Topology};
use crate::report;

/// Which requests to export as traces, and where.
#[derive(Debug, Clone)]
pub struct Export {
    /// The folder for the design's traces.
    pub dir: PathBuf,
    /// How many of the slowest requests.
    pub slowest: usize,
    /// How many requests at random (deterministic by seed).
    pub sample: usize,
}

/// Traces one run wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// Requests written.
    pub traces: usize,
    /// The folder holding `jaeger.json`, `otlp.json` and `index.csv`.
    pub dir: PathBuf,
}

/// Runs replications, exporting the same requests of every run when asked.
#[derive(Default)]
pub struct Exporter {
    picks: Option<Vec<Pick>>,
}

impl Exporter {
    /// All replications of `topo` under `design`; with `export`, the chosen
    /// requests (chosen by the first run) are written to its folder (`sub`
    /// below it, if given). The error says which folder could not be written.
    pub fn run(
        &mut self,
        export: Option<&Export>,
        topo: &Topology,
        design: &Design,
        sub: Option<&str>,
    ) -> Result<(Replications, Option<Exported>), String> {
        let Some(export) = export else {
            return Ok((model::Replications::of(topo, design), None));
        };
        let runs = match &self.picks {
            Some(_) => model::Replications::of(topo, design),
            None => {
                let (runs, picks) =
                    record::run_and_pick(topo, design, export.slowest, export.sample);
                self.picks = Some(picks);
                runs
            }
        };
        let picks = self.picks.as_deref().unwrap_or_default();
        let traces = record::record(topo, design, picks);
        let dir = match sub {
            Some(s) => export.dir.join(s),
            None => export.dir.clone(),
        };
        report::traces::write(&dir, topo, design, &traces)
            .map_err(|e| format!("cannot write traces to {}: {e}", dir.display()))?;
        Ok((
            runs,
            Some(Exported {
                traces: traces.len(),
                dir,
            }),
        ))
    }
}
