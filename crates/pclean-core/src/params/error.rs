//! [`ParamError`]: an invalid parameter, always named.

use crate::direction::DirectionParseError;
use crate::stokes::StokesParseError;
use crate::units::QuantityError;

/// A parameter value that is invalid. Always names the parameter and says how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    #[error("parameter '{param}' is required: {hint}")]
    Missing {
        param: &'static str,
        hint: &'static str,
    },
    #[error("parameter '{param}' = {value}: {why}")]
    Invalid {
        param: &'static str,
        value: String,
        why: String,
    },
    /// A value that is not one of the parameter's choices.
    #[error("parameter '{param}' = {value:?}: use one of {}", allowed.join(", "))]
    Choice {
        param: &'static str,
        value: String,
        allowed: &'static [&'static str],
    },
    #[error("parameter '{param}': {source}")]
    Quantity {
        param: &'static str,
        #[source]
        source: QuantityError,
    },
    #[error("parameter '{param}': {source}")]
    Direction {
        param: &'static str,
        #[source]
        source: DirectionParseError,
    },
    #[error("parameter 'stokes': {0}")]
    Stokes(#[from] StokesParseError),
    /// A key that is not a parameter.
    #[error("unknown parameter '{key}'{}", suggestion.map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    Unknown {
        key: String,
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong type for its key.
    #[error("parameter '{param}': {why}")]
    Type { param: String, why: String },
}

impl ParamError {
    /// The parameter (or unknown key) the error is about.
    pub fn param(&self) -> &str {
        match self {
            ParamError::Missing { param, .. }
            | ParamError::Invalid { param, .. }
            | ParamError::Choice { param, .. }
            | ParamError::Quantity { param, .. }
            | ParamError::Direction { param, .. } => param,
            ParamError::Stokes(_) => "stokes",
            ParamError::Unknown { key, .. } => key,
            ParamError::Type { param, .. } => param,
        }
    }

    /// The variant's name, for bindings that map errors by kind (e.g. `"invalid"`, `"unknown"`).
    pub fn kind(&self) -> &'static str {
        match self {
            ParamError::Missing { .. } => "missing",
            ParamError::Invalid { .. } => "invalid",
            ParamError::Choice { .. } => "choice",
            ParamError::Quantity { .. } => "quantity",
            ParamError::Direction { .. } => "direction",
            ParamError::Stokes(_) => "stokes",
            ParamError::Unknown { .. } => "unknown",
            ParamError::Type { .. } => "type",
        }
    }
}

/// A [`ParamError::Invalid`] with the value written as Rust debug text.
pub(crate) fn invalid(
    param: &'static str,
    value: impl std::fmt::Debug,
    why: impl Into<String>,
) -> ParamError {
    ParamError::Invalid {
        param,
        value: format!("{value:?}"),
        why: why.into(),
    }
}
