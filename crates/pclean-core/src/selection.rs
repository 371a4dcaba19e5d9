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
