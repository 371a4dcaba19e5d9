//! What the declaration says about each parameter besides its name, kind and default: help,
//! allowed values, how its default is described, its section and how it is given on the CLI.
//! Built with `const` methods so that the table is a `static`.

use super::kinds::ValueKind;

/// Where a parameter belongs: its section in `pclean image --help`, docs/usage.md and Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Imaging (tclean's parameters and pclean's run settings).
    Imaging,
    /// A distributed (Dask) run; only the Python driver acts on these.
    Parallel,
}

impl Group {
    /// The CLI help heading of the group (`None`: the default "Options").
    pub fn heading(self) -> Option<&'static str> {
        match self {
            Group::Imaging => None,
            Group::Parallel => Some("Distributed run (Dask)"),
        }
    }
}

/// The `pclean image --help` section of a parameter: tclean's documentation groups, pclean's own
/// run settings apart (see [`super::HELP_SECTIONS`]). `Unset` only before the table sets it (a
/// test keeps every imaging parameter in a section).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Section {
    Unset,
    Data,
    Image,
    Gridding,
    Weighting,
    Deconvolution,
    Restoration,
    Iteration,
    Masking,
    Output,
    Run,
}

/// How a parameter is given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CliSpec {
    /// A presence flag (`--restart`): given = true.
    pub switch: bool,
    /// Fewest and most values after one flag (lists; `0` for `max` = no limit).
    pub min_values: usize,
    pub max_values: usize,
    /// Values may also be separated by this character (`--vis a.ms,b.ms`).
    pub delimiter: Option<char>,
    /// A value may start with '-' (`--robust -1`, `--start -5km/s`).
    pub hyphen_values: bool,
}

/// One parameter of the declaration (see [`super::PARAMS`]).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ParamSpec {
    /// The name (tclean's where tclean has the parameter): config key, Python keyword, and with
    /// '_' as '-' the CLI flag.
    pub name: &'static str,
    pub kind: ValueKind,
    /// One line of help (CLI help, Python docs); the default is added where shown.
    pub help: &'static str,
    /// What the default means, where its value alone does not say (e.g. `all` for an empty
    /// selection); shown after the value.
    pub default_meaning: &'static str,
    /// The allowed values (case-insensitive), where the parameter is a choice; empty otherwise.
    pub choices: &'static [&'static str],
    pub group: Group,
    /// Its `--help` section.
    pub section: Section,
    pub cli: CliSpec,
    /// More detail for docs/usage.md's table (empty: the help alone).
    pub doc: &'static str,
}

impl ParamSpec {
    /// A parameter with one line of help; the rest is set by the builder methods below.
    pub const fn new(help: &'static str) -> Self {
        ParamSpec {
            name: "",
            kind: ValueKind::Str,
            help,
            default_meaning: "",
            choices: &[],
            group: Group::Imaging,
            section: Section::Unset,
            cli: CliSpec {
                switch: false,
                min_values: 1,
                max_values: 1,
                delimiter: None,
                hyphen_values: false,
            },
            doc: "",
        }
    }
    /// The allowed values.
    pub const fn choices(mut self, c: &'static [&'static str]) -> Self {
        self.choices = c;
        self
    }
    /// What the default means.
    pub const fn meaning(mut self, m: &'static str) -> Self {
        self.default_meaning = m;
        self
    }
    /// More detail for the docs.
    pub const fn doc(mut self, d: &'static str) -> Self {
        self.doc = d;
        self
    }
    /// In `--help` section `s`.
    pub const fn in_section(mut self, s: Section) -> Self {
        self.section = s;
        self
    }
    /// In the distributed-run group.
    pub const fn parallel(mut self) -> Self {
        self.group = Group::Parallel;
        self
    }
    /// A presence flag on the CLI.
    pub const fn switch(mut self) -> Self {
        self.cli.switch = true;
        self
    }
    /// A list: `min..=max` values per flag (`max` 0 = any number), optionally `delimiter`-separated.
    pub const fn list(mut self, min: usize, max: usize, delimiter: Option<char>) -> Self {
        self.cli.min_values = min;
        self.cli.max_values = max;
        self.cli.delimiter = delimiter;
        self
    }
    /// Values may start with '-'.
    pub const fn hyphen(mut self) -> Self {
        self.cli.hyphen_values = true;
        self
    }
    /// Name and kind: set by the declaration macro.
    pub const fn named(mut self, name: &'static str, kind: ValueKind) -> Self {
        self.name = name;
        self.kind = kind;
        self
    }
    /// The CLI flag (without the leading `--`).
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
}
