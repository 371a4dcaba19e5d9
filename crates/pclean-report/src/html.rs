//! The page: one self-contained `index.html` (inline CSS, no script, no external link) beside its
//! PNG figures.

use serde_json::Value;
use std::fmt::Write;

/// One figure of the page (a PNG in the report folder).
pub struct Figure {
    pub file: String,
    pub caption: String,
}

/// A section: a heading, notes (plain text) and figures.
pub struct Section {
    pub title: String,
    pub notes: Vec<String>,
    pub figures: Vec<Figure>,
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// A two-column table of `rows`.
pub fn table(rows: &[(String, String)]) -> String {
    let mut out = String::from("<table>\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
    }
    out.push_str("</table>\n");
    out
}

/// The parameters of the run (`<imagename>.config.json`), as a table.
pub fn params_table(config: &Value) -> String {
    match config.as_object() {
        Some(map) => {
            let rows: Vec<(String, String)> = map
                .iter()
                .map(|(k, v)| (k.clone(), value_text(v)))
                .collect();
            table(&rows)
        }
        None => "<p>No parameters recorded.</p>\n".into(),
    }
}

/// The whole page.
pub fn page(
    title: &str,
    run_rows: &[(String, String)],
    sections: &[Section],
    params: &str,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}\n\
         figure {{ display: inline-block; margin: 0.5em; vertical-align: top; }}\n\
         figcaption {{ font-size: 0.85em; max-width: 640px; }}\n\
         table {{ border-collapse: collapse; font-size: 0.85em; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: left; }}\n\
         details {{ margin-top: 1em; }}\n\
         </style>\n</head>\n<body>\n<h1>{t}</h1>\n<h2>Run</h2>\n",
        t = escape(title)
    );
    out.push_str(&table(run_rows));
    for s in sections {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&s.title));
        for n in &s.notes {
            let _ = writeln!(out, "<p>{}</p>", escape(n));
        }
        for f in &s.figures {
            let _ = writeln!(
                out,
                "<figure><img src=\"{f}\" alt=\"{c}\"><figcaption>{c}</figcaption></figure>",
                f = escape(&f.file),
                c = escape(&f.caption)
            );
        }
    }
    out.push_str("<details open>\n<summary>Parameters</summary>\n");
    out.push_str(params);
    out.push_str("</details>\n</body>\n</html>\n");
    out
}
