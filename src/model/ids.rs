//! The dense integer ids of the model's parts, apart so that the topology
//! and the workload can both name them without importing each other.
//! Each indexes one of the vectors of a `Topology`.

/// Index into `Topology::zones`.
pub type ZoneId = u16;
/// Index into `Topology::services`.
pub type ServiceId = u32;
/// Index into `Topology::endpoints`.
pub type EndpointId = u32;
/// Index into `Topology::calls`.
pub type CallId = u32;
/// Index into `Topology::edges`.
pub type EdgeId = u32;
/// Index into `Topology::nodes`.
pub type NodeId = u32;
