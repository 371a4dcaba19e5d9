//! The value kinds of the parameters: the Rust type a raw value is stored as, how a default is
//! written in the declaration, and how a config value (JSON, YAML, TOML, CLI, Python) is read.
//! Lenient kinds accept tclean's spellings (see [`crate::lenient`]); strict kinds take the JSON
//! type as it is.

use serde::Deserialize;
use serde_json::Value;

/// A value kind: one per row of the parameter declaration.
pub trait Kind {
    /// How the raw value is stored in [`RawParams`](crate::params::RawParams) (inside an `Option`).
    type Raw: Clone + std::fmt::Debug + PartialEq + serde::Serialize;
    /// How the default is written in the declaration.
    type Default;
    /// The kind as data (for the schema).
    const KIND: ValueKind;
    /// The default as a raw value.
    fn make(d: Self::Default) -> Self::Raw;
    /// Read a config value; `null` is "not given".
    fn read(v: Value) -> Result<Option<Self::Raw>, serde_json::Error>;
}

/// The value kinds as data: the schema exports them (to the CLI's value parsers and Python).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// A string, as given.
    Str,
    /// A string; a bare number is taken as its text.
    Text,
    /// A flux density; a bare number is Jy.
    Flux,
    /// One string or a list of strings.
    Texts,
    /// One angle or a list of angles; a bare number is arcsec.
    Angles,
    /// An integer.
    Int,
    /// One integer or a list of integers.
    Ints,
    /// A real number.
    Real,
    /// true or false.
    Bool,
    /// true or false, or 0 / 1 (CASA 5's `interactive=0`).
    Flag,
    /// A data selection: one string for every MS, or a list of one per MS.
    Selection,
}

impl ValueKind {
    /// Whether a value is a list (CLI: repeatable / delimited flags). A `Selection` is one
    /// string on the command line (per-MS lists come from a config file or Python).
    pub fn is_list(self) -> bool {
        matches!(self, ValueKind::Texts | ValueKind::Angles | ValueKind::Ints)
    }
}

fn strict<T: for<'de> Deserialize<'de>>(v: Value) -> Result<Option<T>, serde_json::Error> {
    Option::<T>::deserialize(v)
}

macro_rules! kind {
    ($(#[$doc:meta])* $name:ident, $raw:ty, $default:ty, $make:expr, $read:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl Kind for $name {
            type Raw = $raw;
            type Default = $default;
            const KIND: ValueKind = ValueKind::$name;
            fn make(d: $default) -> $raw {
                $make(d)
            }
            fn read(v: Value) -> Result<Option<$raw>, serde_json::Error> {
                $read(v)
            }
        }
    };
}

fn texts_of(d: &[&str]) -> Vec<String> {
    d.iter().map(|s| s.to_string()).collect()
}

kind!(/// A string, as given.
    Str, String, &'static str, str::to_string, strict::<String>);
kind!(/// A string or a bare number.
    Text, String, &'static str, str::to_string, crate::lenient::text);
kind!(/// A flux density (bare number = Jy).
    Flux, String, &'static str, str::to_string, crate::lenient::flux);
kind!(/// One string or a list.
    Texts, Vec<String>, &'static [&'static str], texts_of, crate::lenient::texts);
kind!(/// One angle or a list (bare number = arcsec).
    Angles, Vec<String>, &'static [&'static str], texts_of, crate::lenient::angles);
kind!(/// An integer.
    Int, i64, i64, std::convert::identity, strict::<i64>);
kind!(/// One integer or a list.
    Ints, Vec<i64>, &'static [i64], <[i64]>::to_vec, crate::lenient::ints);
kind!(/// A real number.
    Real, f64, f64, std::convert::identity, strict::<f64>);
kind!(/// true or false.
    Bool, bool, bool, std::convert::identity, strict::<bool>);
kind!(/// true or false, or 0 / 1.
    Flag, bool, bool, std::convert::identity, crate::lenient::flag);
kind!(/// One selection string, or one per MS.
    Selection, crate::selection::PerMs, &'static str, crate::selection::PerMs::one, crate::lenient::per_ms);
