//! weighting (in progress)
