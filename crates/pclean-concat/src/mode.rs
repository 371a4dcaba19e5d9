//! How a concatenation is stored.

use crate::error::ConcatError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Storage of a concatenated image, as casatools' `imageconcat(mode=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ConcatMode {
    /// A new CASA image (`PagedImage`) holding a copy of every plane.
    #[default]
    Paged,
    /// casacore's virtual concatenation (`ImageConcat`): a directory with `imageconcat.json` naming
    /// the inputs, which stay where they are.
    NoMoveVirtual,
    /// As [`NoMoveVirtual`](Self::NoMoveVirtual), but the inputs are moved into the output
    /// directory, so the concatenation is self-contained.
    MoveVirtual,
}

impl ConcatMode {
    /// The mode's name as accepted by [`FromStr`] (`"paged"`, `"nomovevirtual"`, `"movevirtual"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ConcatMode::Paged => "paged",
            ConcatMode::NoMoveVirtual => "nomovevirtual",
            ConcatMode::MoveVirtual => "movevirtual",
        }
    }

    /// True for the two virtual modes.
    pub fn is_virtual(&self) -> bool {
        !matches!(self, ConcatMode::Paged)
    }
}

impl fmt::Display for ConcatMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConcatMode {
    type Err = ConcatError;

    /// Case-insensitive full names: `paged`, `nomovevirtual`, `movevirtual`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "paged" => Ok(ConcatMode::Paged),
            "nomovevirtual" => Ok(ConcatMode::NoMoveVirtual),
            "movevirtual" => Ok(ConcatMode::MoveVirtual),
            _ => Err(ConcatError::BadMode {
                mode: s.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in [
            ConcatMode::Paged,
            ConcatMode::NoMoveVirtual,
            ConcatMode::MoveVirtual,
        ] {
            assert_eq!(m.as_str().parse::<ConcatMode>().unwrap(), m);
        }
        assert_eq!(
            "MoveVirtual".parse::<ConcatMode>().unwrap(),
            ConcatMode::MoveVirtual
        );
        assert!("copyvirtual".parse::<ConcatMode>().is_err());
    }
}
