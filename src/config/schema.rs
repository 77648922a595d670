//! JSON Schemas of the input files (`ztsim schema KIND`), generated from the
//! same serde structs that read them, so that editors with TOML schema
//! support (Taplo, Even Better TOML) validate and complete them as you type.
//!
//! The schemas follow JSON Schema draft-07, which Taplo and most editors
//! understand. They describe what the deserializer accepts (key names, value
//! types, duration and size syntax, enum choices) plus the simple rules that
//! hold whatever else the file says (counts of at least 1, a probability in
//! [0, 1], `zone` or `zones` but not both, ...). Checks that need the whole
//! file (zone and endpoint names exist, no cycles, ...) stay with
//! `ztsim validate`.

use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use serde_json::Value;

/// The kinds of input file that have a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// A topology (`topologies/*.toml`).
    Topology,
    /// A Zero Trust design (`models/*.toml`).
    Design,
    /// A study (`*.study.toml`).
    Study,
}

impl SchemaKind {
    /// Every kind, in the order the help lists them.
    pub const ALL: [SchemaKind; 3] = [SchemaKind::Topology, SchemaKind::Design, SchemaKind::Study];

    /// The kind's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::Topology => "topology",
            SchemaKind::Design => "design",
            SchemaKind::Study => "study",
        }
    }
}

/// The JSON Schema (draft-07) of one kind of file.
pub fn schema(kind: SchemaKind) -> Schema {
    let generator = SchemaSettings::draft07()
        .with_transform(RecursiveTransform(no_null))
        .into_generator();
    match kind {
        SchemaKind::Topology => generator.into_root_schema_for::<super::topology::TopologyFile>(),
        SchemaKind::Design => generator.into_root_schema_for::<super::design::DesignFile>(),
        SchemaKind::Study => generator.into_root_schema_for::<super::study::StudyFile>(),
    }
}

/// The schema as pretty-printed JSON, ending with a newline.
pub fn schema_json(kind: SchemaKind) -> String {
    let mut text = serde_json::to_string_pretty(&schema(kind))
        .expect("a schema is plain JSON and always serializes");
    text.push('\n');
    text
}

/// TOML has no null: an optional key is one left out, so the `null` that
/// schemars allows for `Option` fields would only clutter completions.
fn no_null(schema: &mut Schema) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = obj.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            obj.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(alternatives)) = obj.get_mut("anyOf") {
        let null = serde_json::json!({ "type": "null" });
        if alternatives.contains(&null) {
            alternatives.retain(|a| *a != null);
            if alternatives.len() == 1 {
                // One schema left: `allOf` keeps it beside the description
                // and default, which draft-07 would ignore next to a `$ref`.
                let rest = obj.remove("anyOf");
                obj.insert("allOf".into(), rest.unwrap_or_default());
            }
        }
    }
}
