//! Policy decisions with real engines: OPA's Rego through `regorus` and
//! Cedar through `cedar-policy`, on the same RBAC policy (30 roles, 180
//! role permissions, 300 users with 600 role bindings) and the same ABAC
//! policy (department, clearance and ownership rules), so both engines must
//! reach the same decision on every request.
//!
//! Warm: an engine with the policy and data loaded decides a new request.
//! Cold: the first decision after loading (a process start or a policy
//! reload): parse, load the data, decide.

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use serde_json::{Value, json};

use crate::sample::{CpuTime, since};
use crate::{Budget, LabError, Summary, fail, measure};

const ROLES: usize = 30;
const PERMISSIONS_PER_ROLE: usize = 6;
const USERS: usize = 300;
const RESOURCES: usize = 40;
const DEPARTMENTS: usize = 8;
const ACTIONS: [&str; 4] = ["read", "list", "write", "delete"];
/// Requests cycled through by the warm measurements.
const REQUESTS: usize = 256;

/// The engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Rego,
    Cedar,
}

/// The policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    Rbac,
    Abac,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Self::Rego, Self::Cedar];
    pub fn name(self) -> &'static str {
        match self {
            Self::Rego => "rego",
            Self::Cedar => "cedar",
        }
    }
}

impl Policy {
    pub const ALL: [Policy; 2] = [Self::Rbac, Self::Abac];
    pub fn name(self) -> &'static str {
        match self {
            Self::Rbac => "rbac",
            Self::Abac => "abac",
        }
    }
}

/// The roles user `u` is bound to.
fn roles_of(u: usize) -> [usize; 2] {
    [u % ROLES, (u * 7 + 3) % ROLES]
}

/// The (action, resource) pairs role `r` permits.
fn permissions_of(r: usize) -> impl Iterator<Item = (&'static str, usize)> {
    (0..PERMISSIONS_PER_ROLE).map(move |k| (ACTIONS[(r + k) % 4], (r * 7 + k * 3) % RESOURCES))
}

fn department_of_user(u: usize) -> usize {
    u % DEPARTMENTS
}
fn clearance_of(u: usize) -> usize {
    (u * 3) % 5
}
fn department_of_resource(r: usize) -> usize {
    (r * 3) % DEPARTMENTS
}
fn classification_of(r: usize) -> usize {
    r % 5
}
fn owner_of(r: usize) -> usize {
    (r * 13) % USERS
}
fn is_admin(u: usize) -> bool {
    u.is_multiple_of(25)
}

/// The i-th request: (user, action, resource).
fn request(i: usize) -> (usize, &'static str, usize) {
    ((i * 37) % USERS, ACTIONS[i % 4], (i * 11) % RESOURCES)
}

const REGO_RBAC: &str = r#"package rbac
import rego.v1
default allow := false
allow if {
    some role in data.bindings[input.user]
    some perm in data.roles[role]
    perm.action == input.action
    perm.resource == input.resource
}
"#;

const REGO_ABAC: &str = r#"package abac
import rego.v1
default allow := false
allow if {
    input.action in {"read", "list"}
    input.subject.department == input.resource.department
    input.subject.clearance >= input.resource.classification
}
allow if {
    input.action in {"write", "delete"}
    input.subject.department == input.resource.department
    input.subject.clearance > input.resource.classification
    input.resource.owner == input.subject.id
}
allow if {
    "admin" in input.subject.groups
    input.resource.classification < 4
}
"#;

const CEDAR_ABAC: &str = r#"
permit(principal, action in [Action::"read", Action::"list"], resource)
when { principal.department == resource.department && principal.clearance >= resource.classification };
permit(principal, action in [Action::"write", Action::"delete"], resource)
when { principal.department == resource.department && principal.clearance > resource.classification && resource.owner == principal };
permit(principal in Group::"admin", action, resource)
when { resource.classification < 4 };
"#;

fn rego_data(policy: Policy) -> String {
    match policy {
        Policy::Rbac => {
            let roles: serde_json::Map<String, Value> = (0..ROLES)
                .map(|r| {
                    let perms: Vec<Value> = permissions_of(r)
                        .map(|(a, res)| json!({"action": a, "resource": format!("res{res}")}))
                        .collect();
                    (format!("r{r}"), Value::Array(perms))
                })
                .collect();
            let bindings: serde_json::Map<String, Value> = (0..USERS)
                .map(|u| (format!("u{u}"), json!(roles_of(u).map(|r| format!("r{r}")))))
                .collect();
            json!({"roles": roles, "bindings": bindings}).to_string()
        }
        Policy::Abac => "{}".to_string(),
    }
}

fn rego_input(policy: Policy, i: usize) -> String {
    let (u, a, r) = request(i);
    let groups: Vec<&str> = if is_admin(u) { vec!["admin"] } else { vec![] };
    match policy {
        Policy::Rbac => {
            json!({"user": format!("u{u}"), "action": a, "resource": format!("res{r}")})
        }
        Policy::Abac => json!({
            "action": a,
            "subject": {"id": format!("u{u}"), "department": department_of_user(u),
                        "clearance": clearance_of(u),
                        "groups": groups},
            "resource": {"department": department_of_resource(r),
                         "classification": classification_of(r),
                         "owner": format!("u{}", owner_of(r))},
        }),
    }
    .to_string()
}

fn cedar_policies(policy: Policy) -> String {
    match policy {
        Policy::Rbac => (0..ROLES)
            .flat_map(|r| {
                permissions_of(r).map(move |(a, res)| {
                    format!("permit(principal in Role::\"r{r}\", action == Action::\"{a}\", resource == Resource::\"res{res}\");\n")
                })
            })
            .collect(),
        Policy::Abac => CEDAR_ABAC.to_string(),
    }
}

fn cedar_entities(policy: Policy) -> Value {
    let uid = |t: &str, id: String| json!({"type": t, "id": id});
    let mut out = Vec::new();
    for u in 0..USERS {
        let (attrs, parents) = match policy {
            Policy::Rbac => (
                json!({}),
                roles_of(u)
                    .iter()
                    .map(|r| uid("Role", format!("r{r}")))
                    .collect(),
            ),
            Policy::Abac => (
                json!({"department": department_of_user(u), "clearance": clearance_of(u)}),
                if is_admin(u) {
                    vec![uid("Group", "admin".into())]
                } else {
                    vec![]
                },
            ),
        };
        out.push(json!({"uid": uid("User", format!("u{u}")), "attrs": attrs, "parents": parents}));
    }
    if policy == Policy::Abac {
        for r in 0..RESOURCES {
            out.push(json!({
                "uid": uid("Resource", format!("res{r}")),
                "attrs": {"department": department_of_resource(r),
                          "classification": classification_of(r),
                          "owner": {"__entity": uid("User", format!("u{}", owner_of(r)))}},
                "parents": [],
            }));
        }
    }
    Value::Array(out)
}

/// A loaded Rego engine.
pub struct Rego {
    engine: regorus::Engine,
    rule: String,
}

impl Rego {
    /// Parses the policy and loads its data.
    pub fn load(policy: Policy) -> Result<Rego, LabError> {
        let mut engine = regorus::Engine::new();
        let (text, rule) = match policy {
            Policy::Rbac => (REGO_RBAC, "data.rbac.allow"),
            Policy::Abac => (REGO_ABAC, "data.abac.allow"),
        };
        engine
            .add_policy(format!("{}.rego", policy.name()), text.to_string())
            .map_err(|e| fail("Rego policy", e))?;
        engine
            .add_data_json(&rego_data(policy))
            .map_err(|e| fail("Rego data", e))?;
        Ok(Rego {
            engine,
            rule: rule.to_string(),
        })
    }

    /// Decides one request given as its input value.
    pub fn decide(&mut self, input: regorus::Value) -> Result<bool, LabError> {
        self.engine.set_input(input);
        match self
            .engine
            .eval_rule(self.rule.clone())
            .map_err(|e| fail("Rego eval", e))?
        {
            regorus::Value::Bool(b) => Ok(b),
            other => Err(LabError(format!("Rego decided {other:?}, not a boolean"))),
        }
    }
}

/// The Rego inputs of the policy's sample requests (users, actions, resources
/// drawn as the measurements draw them).
pub fn rego_inputs(policy: Policy) -> Result<Vec<regorus::Value>, LabError> {
    (0..REQUESTS)
        .map(|i| {
            regorus::Value::from_json_str(&rego_input(policy, i)).map_err(|e| fail("Rego input", e))
        })
        .collect()
}

/// A loaded Cedar policy set and entity store.
pub struct Cedar {
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

impl Cedar {
    pub fn load(policy: Policy) -> Result<Cedar, LabError> {
        Ok(Cedar {
            policies: cedar_policies(policy)
                .parse()
                .map_err(|e| fail("Cedar policies", e))?,
            entities: Entities::from_json_value(cedar_entities(policy), None)
                .map_err(|e| fail("Cedar entities", e))?,
            authorizer: Authorizer::new(),
        })
    }

    pub fn decide(&self, request: &Request) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}

fn cedar_requests() -> Result<Vec<Request>, LabError> {
    let uid = |s: String| s.parse::<EntityUid>().map_err(|e| fail("Cedar uid", e));
    (0..REQUESTS)
        .map(|i| {
            let (u, a, r) = request(i);
            Request::new(
                uid(format!("User::\"u{u}\""))?,
                uid(format!("Action::\"{a}\""))?,
                uid(format!("Resource::\"res{r}\""))?,
                Context::empty(),
                None,
            )
            .map_err(|e| fail("Cedar request", e))
        })
        .collect()
}

/// Both engines' decisions on every request of `policy`, in order (for
/// checking that they agree).
pub fn decisions(policy: Policy) -> Result<(Vec<bool>, Vec<bool>), LabError> {
    let mut rego = Rego::load(policy)?;
    let rego_d = rego_inputs(policy)?
        .into_iter()
        .map(|v| rego.decide(v))
        .collect::<Result<Vec<_>, _>>()?;
    let cedar = Cedar::load(policy)?;
    let cedar_d = cedar_requests()?.iter().map(|r| cedar.decide(r)).collect();
    Ok((rego_d, cedar_d))
}

/// Warm and cold decision CPU.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub warm: Summary,
    pub cold: Summary,
}

/// Measures one engine on one policy.
pub fn costs(engine: Engine, policy: Policy, budget: &Budget) -> Result<Costs, LabError> {
    let mut i = 0;
    match engine {
        Engine::Rego => {
            let inputs = rego_inputs(policy)?;
            let mut rego = Rego::load(policy)?;
            let warm = measure(budget, || {
                i += 1;
                let input = inputs[i % REQUESTS].clone();
                let t = CpuTime::now();
                rego.decide(input)?;
                Ok(since(t))
            })?;
            let cold = measure(budget, || {
                i += 1;
                let input = inputs[i % REQUESTS].clone();
                let t = CpuTime::now();
                Rego::load(policy)?.decide(input)?;
                Ok(since(t))
            })?;
            Ok(Costs { warm, cold })
        }
        Engine::Cedar => {
            let requests = cedar_requests()?;
            let cedar = Cedar::load(policy)?;
            let warm = measure(budget, || {
                i += 1;
                let t = CpuTime::now();
                std::hint::black_box(cedar.decide(&requests[i % REQUESTS]));
                Ok(since(t))
            })?;
            let cold = measure(budget, || {
                i += 1;
                let t = CpuTime::now();
                std::hint::black_box(Cedar::load(policy)?.decide(&requests[i % REQUESTS]));
                Ok(since(t))
            })?;
            Ok(Costs { warm, cold })
        }
    }
}
