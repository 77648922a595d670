//! Nodes (`[nodes.NAME]`) and where a service's replicas run: in zones
//! (`zone`, `zones`) on cores of their own, or on nodes (`node`, `nodes`),
//! sharing each node's cores with every replica placed there.

use super::compiler::Compiler;
use super::file::{ServiceFile, TopologyFile};
use crate::config::diag::{KeyPath, did_you_mean};
use crate::model::topology::{Node, NodeId, ZoneId};

/// Where a service's replicas run: replica i in `zones[i % len]` and, when
/// placed on nodes, on `nodes[i % len]` (the same length then).
pub(super) struct Placement {
    pub(super) zones: Vec<ZoneId>,
    pub(super) nodes: Vec<NodeId>,
}

impl Compiler<'_> {
    /// Every node in file order, each with its zone and cores.
    pub(super) fn nodes(&mut self, raw: &TopologyFile) -> Vec<Node> {
        let root = KeyPath::root().key("nodes");
        raw.nodes
            .iter()
            .map(|(name, n)| {
                let np = root.key(name);
                let zone = match &n.zone {
                    Some(z) => self.zone(&raw.zones, z, &np.key("zone")),
                    None if raw.zones.len() == 1 => 0,
                    None => {
                        self.error(
                            &np,
                            "give the node's zone, e.g. `zone = \"az1\"` (it may be left out only with one zone)",
                        );
                        0
                    }
                };
                Node {
                    name: name.clone(),
                    zone,
                    cores: self.cores(&n.cores, &np.key("cores")),
                }
            })
            .collect()
    }

    /// A service's placement: its zones, or its nodes (and their zones).
    pub(super) fn placement(
        &mut self,
        raw: &TopologyFile,
        svc: &ServiceFile,
        sp: &KeyPath,
        nodes: &[Node],
    ) -> Placement {
        if svc.node.is_none() && svc.nodes.is_none() {
            return Placement {
                zones: self.zones_of(raw, svc, sp),
                nodes: Vec::new(),
            };
        }
        self.refuse_beside_nodes(svc, sp);
        let names: Vec<(String, KeyPath)> = match (&svc.node, &svc.nodes) {
            (Some(n), None) => vec![(n.clone(), sp.key("node"))],
            (None, Some(ns)) if !ns.is_empty() => ns
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), sp.key("nodes").index(i)))
                .collect(),
            _ => {
                self.error(sp, "give the service's nodes as either `node = \"n1\"` or `nodes = [\"n1\", \"n2\"]`");
                return Placement {
                    zones: vec![0],
                    nodes: Vec::new(),
                };
            }
        };
        let ids: Vec<NodeId> = names
            .iter()
            .map(|(name, path)| self.node(raw, name, path))
            .collect();
        if ids.contains(&NodeId::MAX) {
            return Placement {
                zones: vec![0],
                nodes: Vec::new(),
            };
        }
        Placement {
            zones: ids.iter().map(|&n| nodes[n as usize].zone).collect(),
            nodes: ids,
        }
    }

    /// A service in zones: `zone` or `zones`, or the only zone.
    fn zones_of(&mut self, raw: &TopologyFile, svc: &ServiceFile, sp: &KeyPath) -> Vec<ZoneId> {
        match (&svc.zone, &svc.zones) {
            (Some(z), None) => vec![self.zone(&raw.zones, z, &sp.key("zone"))],
            (None, Some(zs)) if !zs.is_empty() => zs
                .iter()
                .enumerate()
                .map(|(i, z)| self.zone(&raw.zones, z, &sp.key("zones").index(i)))
                .collect(),
            (None, None) if raw.zones.len() == 1 => vec![0],
            _ => {
                self.error(sp, "give the service's placement as either `zone = \"az1\"` or `zones = [\"az1\", \"az2\"]`");
                vec![0]
            }
        }
    }

    /// What a service on nodes may not also give: its own zones (its
    /// nodes' are its), its own cores or their wake-up (it runs on its
    /// nodes'), being outside the system.
    fn refuse_beside_nodes(&mut self, svc: &ServiceFile, sp: &KeyPath) {
        let given = if svc.node.is_some() { "node" } else { "nodes" };
        if svc.external == Some(true) {
            self.error_help(
                &sp.key(given),
                "an external service runs on no node of ours",
                Some("leave out `node`/`nodes` and give it a `zone`".into()),
            );
        }
        for (key, present) in [("zone", svc.zone.is_some()), ("zones", svc.zones.is_some())] {
            if present {
                self.error_help(
                    &sp.key(key),
                    format!("a service on a node is in its node's zone; give `{given}` or `{key}`, not both"),
                    Some("set the zone on the node: `[nodes.NAME] zone = \"az1\"`".into()),
                );
            }
        }
        if svc.cores.is_some() {
            self.error_help(
                &sp.key("cores"),
                "a service on a node runs on the node's cores, shared with the other services there",
                Some("leave out `cores` and size the node (`[nodes.NAME] cores = 4`)".into()),
            );
        }
        if svc.wakeup.is_some() {
            self.error_help(
                &sp.key("wakeup"),
                "a core's wake-up is not modelled on a node's shared cores",
                Some("leave out `wakeup`, or give the service cores of its own".into()),
            );
        }
    }

    /// The node named `name`, NodeId::MAX (after an error) if none is.
    fn node(&mut self, raw: &TopologyFile, name: &str, path: &KeyPath) -> NodeId {
        if let Some(i) = raw.nodes.get_index_of(name) {
            return i as NodeId;
        }
        let help = if raw.nodes.is_empty() {
            "define it: `[nodes.NAME]` with `cores` (and `zone` with several zones)".to_string()
        } else {
            did_you_mean(name, raw.nodes.keys().map(String::as_str)).map_or_else(
                || {
                    let names: Vec<&str> = raw.nodes.keys().map(String::as_str).take(10).collect();
                    format!("nodes defined: {}", names.join(", "))
                },
                |s| format!("did you mean `{s}`?"),
            )
        };
        self.error_help(path, format!("unknown node `{name}`"), Some(help));
        NodeId::MAX
    }
}
