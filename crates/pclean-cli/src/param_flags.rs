//! The parameter flags of `pclean image`, built from the parameter declaration
//! (`pclean_core::schema::PARAMS`) with clap's builder API: one flag per parameter, its help and
//! default from the declaration. Values are read back into [`RawParams`] through the same keyed
//! reader as config files, so a flag and a config key accept the same values.

use clap::builder::{ArgAction, ValueParser};
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use pclean_core::params::RawParams;
use pclean_core::schema::{help_line, ParamSpec, ValueKind, PARAMS};
use serde_json::Value;

/// The parameters given as flags (unset flags stay `None`).
#[derive(Debug, Clone, Default)]
pub struct ParamFlags(pub RawParams);

fn value_parser(kind: ValueKind) -> ValueParser {
    match kind {
        ValueKind::Int | ValueKind::Ints => clap::value_parser!(i64).into(),
        ValueKind::Real => clap::value_parser!(f64).into(),
        ValueKind::Bool | ValueKind::Flag => clap::value_parser!(bool),
        _ => ValueParser::string(),
    }
}

/// A name built once per process for clap (whose builder takes `&'static str` without its
/// `string` feature).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The flag of one parameter.
fn arg(p: &'static ParamSpec) -> Arg {
    let mut a = Arg::new(p.name)
        .long(leak(p.flag()))
        .help(help_line(p))
        .required(false);
    // tclean's documentation groups (pclean_core::schema::sections); a parameter the table does
    // not know keeps its declared group's heading (a core unit test keeps the table complete).
    if let Some(h) = pclean_core::schema::help_section(p).or(p.group.heading()) {
        a = a.help_heading(h);
    }
    if p.cli.switch {
        return a.action(ArgAction::SetTrue);
    }
    a = a
        .value_name(leak(p.name.to_ascii_uppercase()))
        .value_parser(value_parser(p.kind));
    if matches!(p.kind, ValueKind::Int | ValueKind::Ints | ValueKind::Real) {
        a = a.allow_negative_numbers(true);
    }
    if p.cli.hyphen_values {
        a = a.allow_hyphen_values(true);
    }
    if p.kind.is_list() {
        a = a.action(ArgAction::Append);
        a = match p.cli.max_values {
            0 => a.num_args(p.cli.min_values..),
            max => a.num_args(p.cli.min_values..=max),
        };
        if let Some(d) = p.cli.delimiter {
            a = a.value_delimiter(d);
        }
    } else {
        a = a.action(ArgAction::Set);
    }
    a
}

/// The value given for `p`, as a config value (`None`: not given).
fn given(m: &ArgMatches, p: &ParamSpec) -> Option<Value> {
    if p.cli.switch {
        return m.get_flag(p.name).then_some(Value::Bool(true));
    }
    fn many<T: Clone + Send + Sync + Into<Value> + 'static>(
        m: &ArgMatches,
        id: &str,
    ) -> Option<Value> {
        m.get_many::<T>(id)
            .map(|v| Value::Array(v.cloned().map(Into::into).collect()))
    }
    fn one<T: Clone + Send + Sync + Into<Value> + 'static>(
        m: &ArgMatches,
        id: &str,
    ) -> Option<Value> {
        m.get_one::<T>(id).cloned().map(Into::into)
    }
    match p.kind {
        ValueKind::Ints => many::<i64>(m, p.name),
        ValueKind::Texts | ValueKind::Angles => many::<String>(m, p.name),
        ValueKind::Int => one::<i64>(m, p.name),
        ValueKind::Real => one::<f64>(m, p.name),
        ValueKind::Bool | ValueKind::Flag => one::<bool>(m, p.name),
        ValueKind::Str | ValueKind::Text | ValueKind::Flux | ValueKind::Selection => {
            one::<String>(m, p.name)
        }
    }
}

impl FromArgMatches for ParamFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut s = ParamFlags::default();
        s.update_from_arg_matches(m)?;
        Ok(s)
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        for p in PARAMS {
            if let Some(v) = given(m, p) {
                // The value parsers above give values of the declared kind.
                self.0.set(p.name, v).map_err(|e| {
                    clap::Error::raw(
                        clap::error::ErrorKind::ValueValidation,
                        format!("--{}: {e}", p.flag()),
                    )
                })?;
            }
        }
        Ok(())
    }
}

impl Args for ParamFlags {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(PARAMS.iter().map(arg))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        p: ParamFlags,
    }

    fn parse(args: &[&str]) -> RawParams {
        let mut v = vec!["t"];
        v.extend_from_slice(args);
        T::try_parse_from(v).unwrap().p.0
    }

    #[test]
    fn flags_fill_raw_params() {
        let r = parse(&[
            "--vis",
            "a.ms,b.ms",
            "--imsize",
            "256",
            "--cell",
            "15arcsec",
            "--robust",
            "-1",
            "--start",
            "-5km/s",
            "--restart",
            "--pbcor",
            "true",
            "--uvtaper",
            "10arcsec,5arcsec,30deg",
            "--worker-timeout-s",
            "30",
        ]);
        assert_eq!(r.vis, Some(vec!["a.ms".into(), "b.ms".into()]));
        assert_eq!(r.imsize, Some(vec![256]));
        assert_eq!(r.cell, Some(vec!["15arcsec".into()]));
        assert_eq!(r.robust, Some(-1.0));
        assert_eq!(r.start.as_deref(), Some("-5km/s"));
        assert_eq!(r.restart, Some(true));
        assert_eq!(r.overwrite, None);
        assert_eq!(r.pbcor, Some(true));
        assert_eq!(r.uvtaper.map(|v| v.len()), Some(3));
        assert_eq!(r.worker_timeout_s, Some(30.0));
        assert_eq!(parse(&[]), RawParams::default());
        let r = parse(&["--vis", "a.ms", "--vis", "b.ms", "--imsize", "256", "128"]);
        assert_eq!(r.vis.map(|v| v.len()), Some(2));
        assert_eq!(r.imsize, Some(vec![256, 128]));
    }

    /// The CLI help, the config schema and the declaration agree on every name and default.
    #[test]
    fn every_parameter_has_a_flag_with_its_default() {
        let help = T::command().render_help().to_string().replace('\n', " ");
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        let schema = pclean_core::schema::schema();
        for p in PARAMS {
            assert!(
                help.contains(&format!("--{}", p.flag())),
                "no flag for {}",
                p.name
            );
            let shown = format!(
                "[default: {}",
                pclean_core::schema::value_text(&schema[p.name])
            );
            assert!(help.contains(&shown), "{}: {shown} not in the help", p.name);
        }
    }
}
