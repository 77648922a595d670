//! Message queues (`[queues.NAME]`, docs/topology.md "Message queues"): a
//! broker endpoint, a bounded queue per consumer group, the groups; and the
//! call sites that publish to one (`{ queue = "NAME" }`).
//!
//! A queue compiles into the call graph: its broker endpoint gets one stage
//! holding an asynchronous delivery site per consumer group, so expected
//! visits, cycles and the per-edge and asynchronous figures cover the
//! consumers without a case of their own; the simulation sends those sites
//! through the queue instead of at once.

use super::compiler::Compiler;
use super::file::{CallFile, OnFullFile, QueueFile, TopologyFile};
use super::graph::Graph;
use crate::config::diag::{KeyPath, did_you_mean};
use crate::model::topology::{CallSpec, ConsumerGroup, EndpointId, OnFull, Queue, RetryOn};

impl Compiler<'_> {
    /// What call site `call` calls: its `call` endpoint, or the broker
    /// endpoint of its `queue` (None there when the queue's broker is
    /// unknown: the queue reports it), with the name it goes by. None, the
    /// problem reported, without exactly one of the two.
    pub(super) fn call_target<'a>(
        &mut self,
        raw: &'a TopologyFile,
        call: &'a CallFile,
        path: &KeyPath,
        names: &[String],
    ) -> Option<(Option<EndpointId>, &'a str)> {
        match (&call.call, &call.queue) {
            (Some(name), None) => Some((self.endpoint_ref(name, &path.key("call"), names), name)),
            (None, Some(q)) => {
                let Some(queue) = raw.queues.get(q.as_str()) else {
                    let help = match did_you_mean(q, raw.queues.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if raw.queues.is_empty() => {
                            "define it as [queues.NAME] with `broker`, `capacity` and `consumers`"
                                .into()
                        }
                        None => format!(
                            "queues defined: {}",
                            raw.queues
                                .keys()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    self.error_help(
                        &path.key("queue"),
                        format!("unknown queue `{q}`"),
                        Some(help),
                    );
                    return None;
                };
                let broker = self.endpoint_ids.get(&queue.broker).copied();
                Some((broker, &queue.broker))
            }
            (Some(_), Some(_)) => {
                self.error_help(
                    &path.key("queue"),
                    "a call site either calls an endpoint or publishes to a queue",
                    Some("keep `call` or `queue`, not both".into()),
                );
                None
            }
            (None, None) => {
                self.error_help(
                    path,
                    "a call site names what it calls",
                    Some("give `call = \"service.endpoint\"` or `queue = \"NAME\"`".into()),
                );
                None
            }
        }
    }

    /// Every queue in file order, its delivery sites added to `g` as the
    /// only stage of its broker endpoint.
    pub(super) fn queues(
        &mut self,
        raw: &TopologyFile,
        names: &[String],
        g: &mut Graph,
    ) -> Vec<Queue> {
        let mut out = Vec::new();
        for (name, q) in &raw.queues {
            let path = KeyPath::root().key("queues").key(name);
            if let Some(queue) = self.queue(raw, name, q, &path, names, g) {
                let id = out.len() as u32;
                let broker = &mut g.endpoints[queue.broker as usize];
                broker.stages = vec![queue.groups.iter().map(|c| c.site).collect()];
                broker.queue = Some(id);
                out.push(queue);
            }
        }
        out
    }

    fn queue(
        &mut self,
        raw: &TopologyFile,
        name: &str,
        q: &QueueFile,
        path: &KeyPath,
        names: &[String],
        g: &mut Graph,
    ) -> Option<Queue> {
        let broker = self.endpoint_ref(&q.broker, &path.key("broker"), names);
        if let Some(b) = broker {
            self.broker(raw, b, &q.broker, &path.key("broker"), g);
        }
        let capacity = if q.capacity == 0 {
            self.error_help(
                &path.key("capacity"),
                "a capacity of 0 lets no message wait",
                Some("give the most messages a consumer group may have waiting, at least 1".into()),
            );
            1
        } else {
            self.count(q.capacity, 1, &path.key("capacity"), "capacity")
        };
        if q.consumers.is_empty() {
            self.error_help(
                &path.key("consumers"),
                "a queue without consumers",
                Some("add a consumer group, e.g. consumers = [{ endpoint = \"worker.handle\", concurrency = 4 }]".into()),
            );
        }
        let mut groups = Vec::new();
        for (i, c) in q.consumers.iter().enumerate() {
            let cp = path.key("consumers").index(i);
            let endpoint = self.endpoint_ref(&c.endpoint, &cp.key("endpoint"), names);
            let concurrency = match c.concurrency {
                Some(0) => {
                    self.error_help(
                        &cp.key("concurrency"),
                        "a concurrency of 0 consumes nothing",
                        Some(
                            "give the most messages the group consumes at once, at least 1".into(),
                        ),
                    );
                    1
                }
                Some(n) => self.count(n, 1, &cp.key("concurrency"), "concurrency"),
                None => 1,
            };
            if let (Some(b), Some(endpoint)) = (broker, endpoint) {
                groups.push(ConsumerGroup {
                    endpoint,
                    concurrency,
                    site: self.delivery_site(b, endpoint, g),
                });
            }
        }
        Some(Queue {
            name: name.to_string(),
            broker: broker?,
            capacity,
            on_full: match q.on_full {
                None | Some(OnFullFile::Block) => OnFull::Block,
                Some(OnFullFile::Drop) => OnFull::Drop,
            },
            groups,
        })
    }

    /// A broker endpoint runs on the system's cores, makes no calls of its
    /// own and brokers one queue.
    fn broker(&mut self, raw: &TopologyFile, b: EndpointId, name: &str, path: &KeyPath, g: &Graph) {
        let (svc, ep) = name.split_once('.').unwrap_or((name, ""));
        let file = raw.services.get(svc);
        if file.is_some_and(|s| s.external == Some(true)) {
            self.error_help(
                path,
                format!("the broker `{name}` is on an external service"),
                Some("a broker's queues and consumers are the system's: model a managed broker as a service with the cores it is given".into()),
            );
        } else if file
            .and_then(|s| s.endpoints.get(ep))
            .is_some_and(|e| !e.stages.is_empty())
        {
            self.error_help(
                path,
                format!("the broker `{name}` has stages"),
                Some("a broker endpoint makes no calls: its messages go to the queue's consumers; give it only `cpu` (the broker's work per message)".into()),
            );
        } else if g.endpoints[b as usize].queue.is_some() {
            self.error_help(
                path,
                format!("`{name}` is already the broker of another queue"),
                Some(
                    "give each queue an endpoint of its own on the broker service (one per topic)"
                        .into(),
                ),
            );
        }
    }

    /// The asynchronous call site delivering a message from broker `b` to
    /// `consumer`.
    fn delivery_site(&mut self, b: EndpointId, consumer: EndpointId, g: &mut Graph) -> u32 {
        let site = g.async_sites;
        g.async_sites += 1;
        let edge = g.edges.id(b, consumer);
        g.calls.push(CallSpec {
            target: consumer,
            edge,
            times: 1,
            parallel: false,
            probability: 1.0,
            timeout: None,
            retries: 0,
            backoff: 25_000_000,
            retry_on: RetryOn::DEFAULT,
            async_site: Some(site),
        });
        g.calls.len() as u32 - 1
    }
}
