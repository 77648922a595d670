//! The report as plain text: its sections, blocks and tables, the escaping
//! its renderers apply, and the names of the files it is written to.

use crate::report::figures::Chart;

/// The report's sections, in order: (id, heading). The ids are the HTML
/// anchors and are stable, so links into a report keep working.
pub const SECTIONS: [(&str, &str); 8] = [
    ("question", "The question"),
    ("topology", "The system"),
    ("designs", "The designs compared"),
    ("charts", "Results"),
    ("capacity", "Capacity"),
    ("attribution", "Where the added latency goes"),
    ("assumptions", "Assumptions"),
    ("sources", "Sources of the default costs"),
];

/// A report, as plain text: renderers escape it.
#[derive(Debug, Clone)]
pub struct Document {
    /// The study's title.
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// In [`SECTIONS`] order for a study's report.
    pub sections: Vec<Section>,
    /// What wrote it and how to write it again.
    pub footer: String,
}

/// One section.
#[derive(Debug, Clone)]
pub struct Section {
    /// Anchor.
    pub id: &'static str,
    /// Heading.
    pub heading: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// A piece of content.
#[derive(Debug, Clone)]
pub enum Block {
    /// A paragraph.
    Text(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// A chart of the study, by its file stem, with its title and what to
    /// read in it.
    Chart {
        /// Which chart.
        chart: Chart,
        /// What it shows.
        caption: String,
    },
    /// The topology diagram (SVG text made by `ztsim::charts::diagram`, escaped).
    Diagram(String),
    /// A chart that is not a study's, by its file stem, with its title and
    /// what to read in it.
    Figure {
        /// File stem of its `.png` (and `.svg`) beside the report.
        stem: String,
        /// Its title.
        title: String,
        /// What it shows.
        caption: String,
    },
}

/// A table of text cells.
#[derive(Debug, Clone)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The files [`write`] produces in a study folder.
pub const HTML_FILE: &str = "report.html";
/// The Markdown report.
pub const MARKDOWN_FILE: &str = "report.md";
/// The topology diagram the Markdown report shows.
pub const DIAGRAM_FILE: &str = "topology.svg";
