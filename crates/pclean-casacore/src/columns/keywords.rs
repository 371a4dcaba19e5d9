//! Scalar table keywords (numbers and strings), for subtables that keep their metadata in keywords.

use super::{ReadTable, StrSink};
use crate::error::{PcExc, TableError};
use std::collections::BTreeMap;
use std::ffi::c_void;

extern "C" {
    fn pc_tab_scalar_keywords(t: *mut c_void, sink: StrSink, ctx: *mut c_void, exc: *mut PcExc);
}

/// The value of a scalar table keyword.
#[derive(Debug, Clone, PartialEq)]
pub enum KeywordValue {
    /// Any integer or real keyword, as f64.
    Number(f64),
    String(String),
    Bool(bool),
}

impl ReadTable {
    /// Every scalar keyword of the table (numbers, strings, booleans) by name; record and array
    /// keywords (e.g. casacore's MEASINFO or a quantity record) are left out.
    pub fn scalar_keywords(&self) -> Result<BTreeMap<String, KeywordValue>, TableError> {
        let raw = self.with_strings("<keywords>", |t, sink, ctx, exc| unsafe {
            pc_tab_scalar_keywords(t, sink, ctx, exc)
        })?;
        let mut out = BTreeMap::new();
        for s in raw {
            let mut parts = s.splitn(3, '\t');
            let (Some(name), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let v = match kind {
                "D" => match value.parse::<f64>() {
                    Ok(x) => KeywordValue::Number(x),
                    Err(_) => continue,
                },
                "B" => KeywordValue::Bool(value == "1"),
                _ => KeywordValue::String(value.to_string()),
            };
            out.insert(name.to_string(), v);
        }
        Ok(out)
    }
}
