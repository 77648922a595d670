//! Recorded arrivals (`*.arrivals.csv`, written by `ztsim import`): the
//! header, then one request a row; every problem located in the CSV by line,
//! column and column name.

use std::collections::HashMap;

use crate::config::diag::{Diagnostic, KeyPath, did_you_mean};
use crate::model::topology::EndpointId;
use crate::units::Nanos;

/// Most problems reported from one recording: past that it is the wrong file.
const MAX_RECORDING_ERRORS: usize = 10;

/// Parses recorded arrivals (`*.arrivals.csv`): the header `at_ns,entry`, then
/// one row per request in time order, `at_ns` an integer count of nanoseconds
/// since the first request and `entry` a qualified endpoint name among
/// `names`. Every problem names `file`, its line and column and the column's
/// name (up to ten problems).
pub fn parse_arrivals(
    file: &str,
    text: &str,
    names: &[String],
) -> Result<(Vec<Nanos>, Vec<EndpointId>), Vec<Diagnostic>> {
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(vec![
            Diagnostic::new(
                file,
                "the file is empty: recorded arrivals start with the header `at_ns,entry`",
            )
            .with_help("`ztsim import` writes this file from Jaeger, Zipkin or OTLP traces"),
        ]);
    };
    let header = header.trim_start_matches('\u{feff}').trim();
    let fields: Vec<&str> = header.split(',').map(str::trim).collect();
    if fields != ["at_ns", "entry"] {
        return Err(vec![
            located(file, 1, 1, "", format!("the header must be `at_ns,entry`, got `{header}`"))
                .with_help("one row per recorded request follows: nanoseconds since the first request, then the entry endpoint as `service.endpoint`"),
        ]);
    }
    let mut rows = Rows {
        file,
        names,
        ids: ids_of(names),
        errors: Vec::new(),
        times: Vec::new(),
        entries: Vec::new(),
        last: None,
    };
    for (i, raw) in lines {
        if rows.errors.len() >= MAX_RECORDING_ERRORS {
            break;
        }
        if raw.trim().is_empty() {
            continue;
        }
        rows.row(i + 1, raw);
    }
    let Rows {
        mut errors,
        times,
        entries,
        ..
    } = rows;
    if errors.is_empty() && times.is_empty() {
        errors.push(located(
            file,
            1,
            1,
            "",
            "no recorded requests: add one row per request after the header".into(),
        ));
    }
    if errors.is_empty() {
        Ok((times, entries))
    } else {
        Err(errors)
    }
}

/// A problem at `line`, `column` of the CSV, under the column name `key`.
fn located(file: &str, line: usize, column: usize, key: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
        key: (!key.is_empty()).then(|| KeyPath::root().key(key)),
        message,
        help: None,
    }
}

/// The rows read so far and their problems.
struct Rows<'a> {
    file: &'a str,
    names: &'a [String],
    /// Each name's id, so that a row is looked up in constant time.
    ids: HashMap<&'a str, EndpointId>,
    errors: Vec<Diagnostic>,
    times: Vec<Nanos>,
    entries: Vec<EndpointId>,
    /// The previous time and its line, to check the order.
    last: Option<(Nanos, usize)>,
}

impl Rows<'_> {
    /// One non-blank row, `at_ns,entry`, at `line` (1-based).
    fn row(&mut self, line: usize, raw: &str) {
        let file = self.file;
        let Some((at, entry)) = raw.split_once(',') else {
            self.errors.push(located(
                file,
                line,
                1,
                "",
                format!("expected two fields, `at_ns,entry`, got `{}`", raw.trim()),
            ));
            return;
        };
        let entry_col = at.chars().count() + 2;
        self.time(line, at);
        let name = entry.trim().trim_matches('"');
        if name.contains(',') {
            self.errors.push(located(
                file,
                line,
                entry_col,
                "entry",
                format!("expected two fields, `at_ns,entry`, got `{}`", raw.trim()),
            ));
            return;
        }
        self.entry(line, entry_col, name);
    }

    /// The `at_ns` field: whole nanoseconds, in time order, within range.
    fn time(&mut self, line: usize, at: &str) {
        let file = self.file;
        let max = super::compiler::MAX_SIMULATED_NS;
        let at_col = 1 + at.chars().take_while(|c| c.is_whitespace()).count();
        match at.trim().parse::<u64>() {
            Ok(t) if t > max => self.errors.push(located(
                file,
                line,
                at_col,
                "at_ns",
                format!("{t} ns is beyond 100 days of simulated time"),
            )),
            Ok(t) => {
                if let Some((prev, prev_line)) = self.last
                    && t < prev
                {
                    self.errors.push(
                        located(
                            file,
                            line,
                            at_col,
                            "at_ns",
                            format!("arrivals must be in time order: {t} comes after {prev} (line {prev_line})"),
                        )
                        .with_help("sort the rows by at_ns"),
                    );
                }
                self.last = Some((t, line));
                self.times.push(t);
            }
            Err(_) => self.errors.push(located(
                file,
                line,
                at_col,
                "at_ns",
                format!(
                    "`{}` is not a whole number of nanoseconds (at_ns counts integer ns since the first request, e.g. 1500000)",
                    at.trim()
                ),
            )),
        }
    }

    /// The `entry` field: an endpoint of the topology.
    fn entry(&mut self, line: usize, entry_col: usize, name: &str) {
        let names = self.names;
        match self.ids.get(name) {
            Some(&id) => self.entries.push(id),
            None => {
                let help = did_you_mean(name, names.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        format!(
                            "entries are endpoints of the topology as `service.endpoint`, e.g. `{}`",
                            names.first().map_or("api.get", String::as_str)
                        )
                    });
                self.errors.push(
                    located(
                        self.file,
                        line,
                        entry_col,
                        "entry",
                        format!("unknown entry endpoint `{name}`"),
                    )
                    .with_help(help),
                );
            }
        }
    }
}

/// Each endpoint name's id (its index in `names`).
pub(super) fn ids_of(names: &[String]) -> HashMap<&str, EndpointId> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as EndpointId))
        .collect()
}
