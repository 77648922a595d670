//! Which design applies at each end of a call when services run under
//! different designs (docs/design.md, "Services under different designs"):
//! the caller's design decides what its side owns (its connections and
//! pools, whether it offers a ticket, its token, its outbound proxy), the
//! callee's what its side owns (the handshake's figures, its inbound proxy
//! or waypoint, token and policy checks, ticket lifetime), and the two
//! together how the hop is secured, or whether the callee refuses it.

use super::state::{Call, Kind, NONE};
use super::{Probe, Simulation};
use crate::model::design::{Design, Security, hop_security};

impl<'t, P: Probe> Simulation<'t, P> {
    /// The design of the service that replica `replica` belongs to.
    #[inline]
    pub(super) fn design_at(&self, replica: u32) -> &'t Design {
        self.designs[self.replicas[replica as usize].service as usize]
    }

    /// The callee's design.
    #[inline]
    pub(super) fn callee_design(&self, c: &Call) -> &'t Design {
        self.designs[self.topo.endpoints[c.endpoint as usize].service as usize]
    }

    /// The caller's design; the client's is the entry service's (the
    /// ingress moves with the service it fronts).
    #[inline]
    pub(super) fn caller_design(&self, c: &Call) -> &'t Design {
        if c.caller_replica == NONE {
            self.callee_design(c)
        } else {
            self.design_at(c.caller_replica)
        }
    }

    /// How this call's hop (to a service of the system) is secured; None if
    /// the callee refuses it.
    #[inline]
    pub(super) fn hop(&self, c: &Call) -> Option<Security> {
        hop_security(
            self.caller_design(c),
            self.callee_design(c),
            c.kind == Kind::Root,
        )
    }

    /// The design whose certificate peer `peer` holds: its service's for a
    /// replica, the node proxies' for a node proxy.
    pub(super) fn peer_design(&self, peer: u32) -> &'t Design {
        if (peer as usize) < self.replicas.len() {
            self.design_at(peer)
        } else {
            self.node_design
        }
    }
}
