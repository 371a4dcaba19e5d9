//! gridder (in progress)
