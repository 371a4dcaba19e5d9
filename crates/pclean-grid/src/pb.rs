//! pb (in progress)
