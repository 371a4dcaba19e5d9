//! tclean's data-selection parameters, validated as strings in CASA's syntax; `pclean-ms`
//! resolves them against a MeasurementSet.

use serde::{Deserialize, Serialize};

/// tclean's data-selection parameters, as strings in CASA's syntax (empty = everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub field: String,
    pub spw: String,
    pub timerange: String,
    pub uvrange: String,
    pub antenna: String,
    pub scan: String,
    pub observation: String,
    pub intent: String,
}

/// The raw value of one selection parameter as tclean takes it: one string for every MS
/// (`spw='0:5~50'`), or a list with one string per MS (`spw=['22', '24']`, as the ALMA pipeline
/// writes). Written back as a string when it holds one value, so configs keep their form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerMs(pub Vec<String>);

impl PerMs {
    /// One string for every MS.
    pub fn one(s: &str) -> Self {
        PerMs(vec![s.to_string()])
    }

    /// The string of MS `index` of `nvis`, or `Err(why)` when the list does not match the MSs.
    pub fn for_ms(&self, index: usize, nvis: usize) -> Result<&str, String> {
        match self.0.as_slice() {
            [] => Ok(""),
            [one] => Ok(one),
            many if many.len() == nvis => Ok(&many[index]),
            many => Err(format!(
                "a list of {} selections for {nvis} MeasurementSet(s): give one string for every MS, \
                 or a list of one per MS",
                many.len()
            )),
        }
    }
}

impl From<&str> for PerMs {
    fn from(s: &str) -> Self {
        PerMs::one(s)
    }
}

impl From<String> for PerMs {
    fn from(s: String) -> Self {
        PerMs(vec![s])
    }
}

impl Serialize for PerMs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [] => s.serialize_str(""),
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}
