//! The designs table of the report: every design's parameters as the
//! simulation resolved them, grouped by section (or, for results written
//! before ztsim kept them, as the files set them).

use super::document::{Block, Table};
use super::setup::DesignParameters;
use crate::report::study::StudyResults;

pub(super) fn designs(results: &StudyResults) -> Vec<Block> {
    let Some(setup) = &results.setup else {
        return vec![Block::Text(format!(
            "Designs: {}.",
            results.designs.join(", ")
        ))];
    };
    let mut blocks = vec![Block::Text(
        if setup.designs.iter().any(|d| !d.resolved.is_empty()) {
            "Each design's parameters as the simulation resolved them, grouped by section: a value marked * is set by the design's file, the others are the defaults documented in docs/design.md (with the published figure behind each in docs/sources.md, see the sources below); - marks a parameter that does not apply to the design (no TLS, no proxy, no tokens). The built-in plaintext baseline has no cost on established connections.".into()
        } else {
            "Each design's parameters as its file sets them; a blank cell takes the default documented in docs/design.md (with the published figure behind it in docs/sources.md, see the sources below). The built-in plaintext baseline has no cost on established connections.".into()
        },
    )];
    let described: Vec<String> = setup
        .designs
        .iter()
        .filter_map(|d| d.description.as_ref().map(|t| format!("{}: {t}", d.name)))
        .collect();
    if !described.is_empty() {
        blocks.push(Block::List(described));
    }
    if setup.designs.iter().any(|d| !d.resolved.is_empty()) {
        blocks.push(Block::Table(resolved_table(&setup.designs)));
        return blocks;
    }
    let mut keys: Vec<&str> = Vec::new();
    for d in &setup.designs {
        for (k, _) in &d.parameters {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    if keys.is_empty() {
        blocks.push(Block::Text(
            "No design sets any parameter: every one runs on the defaults.".into(),
        ));
        return blocks;
    }
    let mut header = vec!["parameter".to_string()];
    header.extend(setup.designs.iter().map(|d| d.name.clone()));
    blocks.push(Block::Table(Table {
        header,
        rows: keys
            .iter()
            .map(|k| {
                let mut row = vec![(*k).to_string()];
                row.extend(setup.designs.iter().map(|d| {
                    d.parameters
                        .iter()
                        .find(|(p, _)| p == k)
                        .map_or(String::new(), |(_, v)| v.clone())
                }));
                row
            })
            .collect(),
    }));
    blocks
}

/// The design file's tables, in the order the designs table groups them,
/// with their headings; anything else (`mode`, `costs`, overrides) last.
const SECTIONS: [(&str, &str); 7] = [
    ("transport", "transport and TLS"),
    ("resumption", "session resumption"),
    ("connections", "connections"),
    ("proxy", "proxies"),
    ("authn", "authentication"),
    ("authz", "authorization"),
    ("identity", "identity: certificates and tokens"),
];

fn section_of(path: &str) -> usize {
    let table = path.split('.').next().unwrap_or(path);
    SECTIONS
        .iter()
        .position(|(t, _)| *t == table)
        .unwrap_or(SECTIONS.len())
}

/// Every design's resolved parameters, one row per parameter grouped by
/// section (the section named on its first row); a value the file sets
/// marked `*`.
fn resolved_table(designs: &[DesignParameters]) -> Table {
    let mut paths: Vec<&str> = Vec::new();
    for d in designs {
        for r in &d.resolved {
            if !paths.contains(&r.path.as_str()) {
                paths.push(&r.path);
            }
        }
    }
    // Stable: within a section, the order the resolver lists them in.
    paths.sort_by_key(|p| section_of(p));
    let mut header = vec!["section".to_string(), "parameter".to_string()];
    header.extend(designs.iter().map(|d| d.name.clone()));
    let mut last = None;
    let rows = paths
        .iter()
        .map(|&path| {
            let section = section_of(path);
            let heading = if last == Some(section) {
                String::new()
            } else {
                SECTIONS.get(section).map_or("other", |s| s.1).to_string()
            };
            last = Some(section);
            let mut row = vec![heading, path.to_string()];
            row.extend(designs.iter().map(|d| {
                // A parameter only other designs' files name (a token
                // issuer, a remote policy endpoint) is unset in this one.
                d.resolved
                    .iter()
                    .find(|r| r.path == path)
                    .map_or("-".to_string(), |r| {
                        if r.set {
                            format!("{} *", r.value)
                        } else {
                            r.value.clone()
                        }
                    })
            }));
            row
        })
        .collect();
    Table { header, rows }
}
