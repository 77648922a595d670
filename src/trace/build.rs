//! From spans to a system model: clean the traces (duplicates, orphans, clock
//! skew), rebuild each trace's call tree, and aggregate the trees per
//! endpoint into call graphs with `times` and `probability`, CPU demand as
//! samples of self time, payload sizes, and the arrivals of root spans.
//! This file owns the model types, cleaning and the call trees with their
//! per-endpoint statistics; `aggregate.rs` turns the statistics into the
//! [`Model`] (call stages, cores, entries); `names.rs` makes names safe.

mod aggregate;
mod names;

pub use names::safe_name;

use rustc_hash::FxHashMap;

use super::span::{Interner, Kind, SpanRecord, Spans};

/// Self-time samples kept per endpoint (a reservoir sample): enough for the
/// empirical distribution's p99 to rest on ten values, small enough that a
/// topology file stays readable.
pub const CPU_SAMPLES: usize = 1000;
/// The share of a core the recorded load may keep busy: cores are sized so
/// that replaying the recorded rate adds little queueing to recorded self
/// times (which already include whatever queueing there was).
pub const TARGET_UTILISATION: f64 = 0.25;
/// Deeper spans are dropped (and counted): a guard against runaway nesting.
pub const MAX_DEPTH: usize = 256;
/// Beyond this many distinct callees in one invocation, their order is not
/// compared pairwise (they are placed by their mean stage alone).
const MAX_PAIRWISE: usize = 64;

/// What was dropped or adjusted, and why, with counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// Spans read.
    pub spans_read: u64,
    /// Spans without ids or a timestamp: dropped.
    pub unusable: u64,
    /// Spans ending before they start: duration set to zero.
    pub negative_durations: u64,
    /// Spans repeating the span id of an earlier span of their trace: dropped.
    pub duplicates: u64,
    /// Zipkin shared spans (a client and a server span with one id): split
    /// into a client span and its server child.
    pub shared_split: u64,
    /// Spans whose parent is not in their trace: dropped with their subtree.
    pub orphans: u64,
    /// Spans dropped because their parent was dropped (descendants of
    /// orphans) or because parent links form a cycle.
    pub orphan_descendants: u64,
    /// Traces: all, and those left without any root (every span dropped).
    pub traces: u64,
    /// Traces with no root span: dropped whole.
    pub traces_without_root: u64,
    /// Root spans (recorded requests).
    pub roots: u64,
    /// Spans that started before their parent or ended after it: shifted
    /// (with their subtree) into the parent.
    pub skew_shifted: u64,
    /// Of those, spans longer than their parent: cut to the parent's span.
    pub skew_truncated: u64,
    /// Largest shift, ns.
    pub skew_max_ns: u64,
    /// Client spans merged with their server span (one call).
    pub clients_merged: u64,
    /// Spans of an endpoint already on their path (recursion): inlined into
    /// their caller, whose self time absorbs theirs.
    pub recursive_inlined: u64,
    /// Spans deeper than [`MAX_DEPTH`]: dropped.
    pub too_deep: u64,
    /// Call sites dropped because they closed a cycle between endpoints
    /// (A calls B in some traces, B calls A in others).
    pub cycle_calls_dropped: u64,
    /// Spans that made it into the model.
    pub spans_used: u64,
}

/// A call site of the imported call graph.
#[derive(Debug, Clone, PartialEq)]
pub struct CallModel {
    /// Index of the callee in [`Model::endpoints`].
    pub target: usize,
    /// Calls per invocation when made (rounded mean).
    pub times: u32,
    /// Whether the repeats ran at once.
    pub parallel: bool,
    /// Share of the caller's invocations that made the call.
    pub probability: f64,
}

/// An imported endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointModel {
    /// Index into [`Model::services`].
    pub service: usize,
    /// The name as traced.
    pub raw: String,
    /// The name made safe for the topology format.
    pub name: String,
    /// Invocations seen.
    pub invocations: u64,
    /// Self-time samples (ns), ascending.
    pub cpu: Vec<u64>,
    /// Mean self time (ns) over every invocation.
    pub mean_self: f64,
    /// Mean request bytes, if any span said.
    pub request_size: Option<u64>,
    /// Mean response bytes, if any span said.
    pub response_size: Option<u64>,
    /// Stages of calls.
    pub stages: Vec<Vec<CallModel>>,
}

/// An imported service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceModel {
    /// The name as traced.
    pub raw: String,
    /// The name made safe for the topology format.
    pub name: String,
    /// Cores of its one replica.
    pub cores: u32,
    /// Mean cores its recorded self time kept busy.
    pub busy_cores: f64,
}

/// What the traces say about the system, ready to be written as a topology.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Services, in order of first appearance.
    pub services: Vec<ServiceModel>,
    /// Endpoints, in order of first appearance.
    pub endpoints: Vec<EndpointModel>,
    /// Root endpoints and how many recorded requests each had.
    pub entries: Vec<(usize, u64)>,
    /// Recorded root arrivals: ns since the first, and the endpoint; in time order.
    pub arrivals: Vec<(u64, usize)>,
    /// Time from the first root arrival to the last (ns); 0 with one root.
    pub span_ns: u64,
    /// Root span durations (ns) per entry endpoint, in arrival order.
    pub root_durations: Vec<(usize, u64)>,
    /// What was dropped or adjusted.
    pub cleanup: Cleanup,
}

/// Why no model could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// No spans at all.
    NoSpans,
    /// Spans, but no trace with a root span.
    NoRoot {
        /// Traces seen.
        traces: u64,
        /// Spans whose parent was missing.
        orphans: u64,
    },
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::NoSpans => f.write_str("the files hold no spans"),
            BuildError::NoRoot { traces, orphans } => write!(
                f,
                "no root span in any of the {traces} traces: every span names a parent ({orphans} of them a parent that is not in the files), so no request can be replayed; export whole traces (with their first span) or add the files that hold the roots"
            ),
        }
    }
}

/// (service, operation) interned ids.
type EpKey = (u32, u32);

/// A call as its caller saw it, after skew correction and merging of client
/// and server spans.
#[derive(Debug, Clone, Copy)]
struct Eff {
    /// The span whose children are the callee's calls.
    span: usize,
    ep: EpKey,
    start: u64,
    end: u64,
    /// Shift to apply to the children of `span` (ns).
    offset: i64,
    request_size: Option<u64>,
    response_size: Option<u64>,
}

#[derive(Debug, Default)]
struct CalleeStats {
    target: usize,
    present: u64,
    calls: u64,
    multi: u64,
    multi_parallel: u64,
    stage_sum: f64,
}

#[derive(Debug)]
struct EpStats {
    key: EpKey,
    invocations: u64,
    self_total: u128,
    reservoir: Vec<u64>,
    rng: u64,
    request: (u128, u64),
    response: (u128, u64),
    callees: Vec<CalleeStats>,
    /// (callee a, callee b) with a < b -> [a before b, same stage, b before a].
    pairs: FxHashMap<(usize, usize), [u64; 3]>,
}

struct Builder<'a> {
    names: &'a Interner,
    cleanup: Cleanup,
    endpoints: Vec<EpStats>,
    index: FxHashMap<EpKey, usize>,
    roots: Vec<(u64, usize, u64)>,
}

/// Builds the model from every span read.
pub fn build(spans: Spans) -> Result<Model, BuildError> {
    let Spans {
        records,
        names,
        negative_durations,
        unusable,
    } = spans;
    let mut cleanup = Cleanup {
        spans_read: records.len() as u64 + unusable,
        unusable,
        negative_durations,
        ..Cleanup::default()
    };
    if records.is_empty() {
        return Err(BuildError::NoSpans);
    }
    let mut records = dedup(records, &mut cleanup);
    // Time order within each trace makes children lists come out in start
    // order and the result independent of the order spans were written in.
    records.sort_unstable_by_key(|r| {
        (
            r.trace,
            r.start,
            std::cmp::Reverse(r.end),
            r.id,
            r.kind as u8,
        )
    });
    let mut b = Builder {
        names: &names,
        cleanup,
        endpoints: Vec::new(),
        index: FxHashMap::default(),
        roots: Vec::new(),
    };
    let mut at = 0;
    while at < records.len() {
        let trace = records[at].trace;
        let end = at + records[at..].partition_point(|r| r.trace == trace);
        b.trace(&records[at..end]);
        at = end;
    }
    if b.roots.is_empty() {
        return Err(BuildError::NoRoot {
            traces: b.cleanup.traces,
            orphans: b.cleanup.orphans,
        });
    }
    Ok(b.finish())
}

/// Drops repeated span ids within a trace, except Zipkin's shared spans (a
/// client and a server span under one id), which become a client span and
/// its server child.
fn dedup(mut records: Vec<SpanRecord>, cleanup: &mut Cleanup) -> Vec<SpanRecord> {
    // Stable: among duplicates the first one read is kept.
    records.sort_by_key(|r| (r.trace, r.id));
    // Compacted in place (a group never keeps more records than it has), so
    // memory stays at one record per span.
    let mut remap: FxHashMap<(u128, u64), u64> = FxHashMap::default();
    let mut servers = Vec::new();
    let (mut at, mut kept) = (0, 0);
    while at < records.len() {
        let key = (records[at].trace, records[at].id);
        let end = at + records[at..].partition_point(|r| (r.trace, r.id) == key);
        let group = &records[at..end];
        let client = group.iter().position(|r| r.kind.is_caller());
        let server = group.iter().position(|r| r.kind.is_callee());
        match (client, server) {
            (Some(c), Some(s)) if group.len() > 1 => {
                let (client, mut srv) = (group[c], group[s]);
                // An id no real span has: the top bit marks it synthetic.
                srv.id = (srv.id.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15) | (1 << 63);
                remap.insert(key, srv.id);
                cleanup.shared_split += 1;
                cleanup.duplicates += group.len() as u64 - 2;
                records[kept] = client;
                servers.push((kept + 1, client.id));
                records[kept + 1] = srv;
                kept += 2;
            }
            _ => {
                cleanup.duplicates += group.len() as u64 - 1;
                records[kept] = records[at];
                kept += 1;
            }
        }
        at = end;
    }
    records.truncate(kept);
    if !remap.is_empty() {
        // The callee's children name the shared id as parent: they hang
        // under the server half.
        for r in &mut records {
            if let Some(&id) = remap.get(&(r.trace, r.parent)) {
                r.parent = id;
            }
        }
        for (i, client) in servers {
            records[i].parent = client;
        }
    }
    records
}

/// Moves [start, end] inside [ps, pe]; returns the new range and the shift.
fn fit(start: u64, end: u64, ps: u64, pe: u64, cleanup: &mut Cleanup) -> (u64, u64, i64) {
    let (new_start, new_end) = if end - start > pe - ps {
        cleanup.skew_truncated += 1;
        (ps, pe)
    } else if start < ps {
        (ps, ps + (end - start))
    } else if end > pe {
        (pe - (end - start), pe)
    } else {
        return (start, end, 0);
    };
    cleanup.skew_shifted += 1;
    let shift = new_start as i128 - start as i128;
    cleanup.skew_max_ns = cleanup.skew_max_ns.max(shift.unsigned_abs() as u64);
    (new_start, new_end, shift as i64)
}

fn shifted(t: u64, offset: i64) -> u64 {
    t.saturating_add_signed(offset)
}

/// One trace's spans with their tree.
struct TraceView<'a> {
    spans: &'a [SpanRecord],
    children: Vec<Vec<usize>>,
}

impl Builder<'_> {
    fn trace(&mut self, spans: &[SpanRecord]) {
        self.cleanup.traces += 1;
        let mut by_id: FxHashMap<u64, usize> = FxHashMap::default();
        by_id.reserve(spans.len());
        for (i, s) in spans.iter().enumerate() {
            by_id.insert(s.id, i);
        }
        let mut children = vec![Vec::new(); spans.len()];
        let mut roots = Vec::new();
        let mut orphans = 0;
        for (i, s) in spans.iter().enumerate() {
            if s.parent == 0 {
                roots.push(i);
            } else {
                match by_id.get(&s.parent) {
                    Some(&p) if p != i => children[p].push(i),
                    _ => orphans += 1,
                }
            }
        }
        self.cleanup.orphans += orphans as u64;
        if roots.is_empty() {
            self.cleanup.traces_without_root += 1;
        }
        let view = TraceView { spans, children };
        let mut used = 0;
        let mut reachable = vec![false; spans.len()];
        let mut stack = roots.clone();
        while let Some(i) = stack.pop() {
            if !reachable[i] {
                reachable[i] = true;
                used += 1;
                stack.extend(&view.children[i]);
            }
        }
        self.cleanup.orphan_descendants += (spans.len() - used - orphans) as u64;
        let mut path = Vec::new();
        for r in roots {
            let span = &spans[r];
            self.cleanup.roots += 1;
            let eff = self.effective(&view, r, span.start, span.end, 0);
            let ep = self.endpoint(eff.ep);
            self.roots.push((eff.start, ep, eff.end - eff.start));
            self.walk(&view, eff, &mut path, 0);
        }
    }

    /// The call that span `i` (already placed at [start, end], children to be
    /// shifted by `offset`) stands for: a client span with one server child
    /// is one call to the server's endpoint over the client's time (network
    /// time becomes the callee's, as the imported network is free); a client
    /// leaf with a known peer is a call to the peer.
    fn effective(&mut self, t: &TraceView, i: usize, start: u64, end: u64, offset: i64) -> Eff {
        let s = &t.spans[i];
        let mut eff = Eff {
            span: i,
            ep: (s.service, s.name),
            start,
            end,
            offset,
            request_size: s.request_size,
            response_size: s.response_size,
        };
        if s.kind.is_caller() {
            match call_children(t, i).as_slice() {
                &[c] if t.spans[c].kind.is_callee() => {
                    let srv = &t.spans[c];
                    let (_, _, shift) = fit(
                        shifted(srv.start, offset),
                        shifted(srv.end, offset),
                        start,
                        end,
                        &mut self.cleanup,
                    );
                    self.cleanup.clients_merged += 1;
                    eff.span = c;
                    eff.ep = (srv.service, srv.name);
                    eff.offset = offset + shift;
                    eff.request_size = srv.request_size.or(s.request_size);
                    eff.response_size = srv.response_size.or(s.response_size);
                }
                [] if s.peer != 0 => eff.ep = (s.peer, s.name),
                _ => {}
            }
        }
        eff
    }

    /// The calls an invocation made, placed inside it; calls of an endpoint
    /// already on the path are replaced by their own calls.
    fn calls(&mut self, t: &TraceView, of: &Eff, path: &[EpKey], depth: usize, out: &mut Vec<Eff>) {
        for c in call_children(t, of.span) {
            let s = &t.spans[c];
            let (start, end, shift) = fit(
                shifted(s.start, of.offset),
                shifted(s.end, of.offset),
                of.start,
                of.end,
                &mut self.cleanup,
            );
            let eff = self.effective(t, c, start, end, of.offset + shift);
            if path.contains(&eff.ep) {
                self.cleanup.recursive_inlined += 1;
                if depth + 1 < MAX_DEPTH {
                    self.calls(t, &eff, path, depth + 1, out);
                } else {
                    self.cleanup.too_deep += 1;
                }
            } else {
                out.push(eff);
            }
        }
    }

    fn endpoint(&mut self, key: EpKey) -> usize {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.endpoints.len();
        self.index.insert(key, i);
        self.endpoints.push(EpStats {
            key,
            invocations: 0,
            self_total: 0,
            reservoir: Vec::new(),
            // Fixed seed per endpoint: the same traces keep the same samples.
            rng: 0x2545_f491_4f6c_dd1d ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            request: (0, 0),
            response: (0, 0),
            callees: Vec::new(),
            pairs: FxHashMap::default(),
        });
        i
    }

    fn walk(&mut self, t: &TraceView, eff: Eff, path: &mut Vec<EpKey>, depth: usize) {
        self.cleanup.spans_used += 1;
        path.push(eff.ep);
        let mut calls = Vec::new();
        self.calls(t, &eff, path, depth, &mut calls);
        calls.sort_by_key(|c| (c.start, c.end, c.ep));
        // Stages: a call that starts before every earlier call of the stage
        // has ended runs in parallel with them; otherwise a new stage starts.
        let mut stage_of = Vec::with_capacity(calls.len());
        let mut stage_time = 0u64;
        let (mut stage, mut stage_end, mut stage_max) = (0usize, 0u64, 0u64);
        for (k, c) in calls.iter().enumerate() {
            // Microsecond formats (Jaeger, Zipkin) round a call's start down
            // and the previous one's end up, so back-to-back calls may seem
            // to overlap by up to 2 us: that is still one after the other.
            if k > 0 && c.start.saturating_add(SEQUENTIAL_SLACK_NS) >= stage_end {
                stage_time += stage_max;
                stage += 1;
                stage_max = 0;
            }
            stage_end = stage_end.max(c.end);
            stage_max = stage_max.max(c.end - c.start);
            stage_of.push(stage);
        }
        stage_time += stage_max;
        // Self time as ztsim runs an endpoint: its duration less its stages,
        // each as long as its longest call (equal to duration less the union
        // of the calls when a stage's calls start together).
        let self_ns = (eff.end - eff.start).saturating_sub(stage_time);
        let me = self.endpoint(eff.ep);
        let targets: Vec<usize> = calls.iter().map(|c| self.endpoint(c.ep)).collect();
        self.record(me, self_ns, &eff, &targets, &stage_of);
        for c in calls {
            if depth + 1 < MAX_DEPTH {
                self.walk(t, c, path, depth + 1);
            } else {
                self.cleanup.too_deep += 1;
            }
        }
        path.pop();
    }

    fn record(
        &mut self,
        me: usize,
        self_ns: u64,
        eff: &Eff,
        targets: &[usize],
        stage_of: &[usize],
    ) {
        let e = &mut self.endpoints[me];
        e.invocations += 1;
        e.self_total += u128::from(self_ns);
        if e.reservoir.len() < CPU_SAMPLES {
            e.reservoir.push(self_ns);
        } else {
            let j = splitmix(&mut e.rng) % e.invocations;
            if (j as usize) < CPU_SAMPLES {
                e.reservoir[j as usize] = self_ns;
            }
        }
        if let Some(n) = eff.request_size {
            e.request.0 += u128::from(n);
            e.request.1 += 1;
        }
        if let Some(n) = eff.response_size {
            e.response.0 += u128::from(n);
            e.response.1 += 1;
        }
        // Per distinct callee: calls, first and last stage.
        let mut seen: Vec<(usize, u64, usize, usize)> = Vec::new();
        for (&t, &s) in targets.iter().zip(stage_of) {
            let ci = match e.callees.iter().position(|c| c.target == t) {
                Some(ci) => ci,
                None => {
                    e.callees.push(CalleeStats {
                        target: t,
                        ..CalleeStats::default()
                    });
                    e.callees.len() - 1
                }
            };
            match seen.iter_mut().find(|x| x.0 == ci) {
                Some(x) => {
                    x.1 += 1;
                    x.3 = s;
                }
                None => seen.push((ci, 1, s, s)),
            }
        }
        for &(ci, n, first, last) in &seen {
            let c = &mut e.callees[ci];
            c.present += 1;
            c.calls += n;
            c.stage_sum += first as f64;
            if n > 1 {
                c.multi += 1;
                if first == last {
                    c.multi_parallel += 1;
                }
            }
        }
        if seen.len() <= MAX_PAIRWISE {
            for (x, a) in seen.iter().enumerate() {
                for b in &seen[x + 1..] {
                    let (lo, hi) = if a.0 < b.0 { (a, b) } else { (b, a) };
                    let rel = if lo.3 < hi.2 {
                        0
                    } else if hi.3 < lo.2 {
                        2
                    } else {
                        1
                    };
                    e.pairs.entry((lo.0, hi.0)).or_default()[rel] += 1;
                }
            }
        }
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Overlap below which two calls count as sequential (two microsecond
/// roundings).
const SEQUENTIAL_SLACK_NS: u64 = 2_000;

/// The children of span `i` that are calls: in-process spans (kind
/// internal or unset, in the same service, with no remote peer: a phase of
/// the work such as "wait for core", which ztsim's own export writes) are
/// not calls; their children stand in their place, and their time stays the
/// parent's self time.
fn call_children(t: &TraceView, i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack: Vec<usize> = t.children[i].iter().rev().copied().collect();
    let service = t.spans[i].service;
    while let Some(c) = stack.pop() {
        let s = &t.spans[c];
        if s.kind == Kind::Internal && s.service == service && s.peer == 0 {
            stack.extend(t.children[c].iter().rev());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shifts_and_cuts() {
        let mut c = Cleanup::default();
        assert_eq!(fit(5, 8, 0, 10, &mut c), (5, 8, 0));
        assert_eq!(fit(0, 4, 2, 10, &mut c), (2, 6, 2));
        assert_eq!(fit(8, 12, 0, 10, &mut c), (6, 10, -2));
        assert_eq!(fit(0, 20, 2, 10, &mut c), (2, 10, 2));
        assert_eq!((c.skew_shifted, c.skew_truncated, c.skew_max_ns), (3, 1, 2));
    }
}
