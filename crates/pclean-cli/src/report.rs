//! `pclean report`, the report after `pclean image`, and `pclean completions`.

use crate::args::{Cli, ImageArgs};
use anyhow::{Context, Result};

/// Runs longer than this get a report unless `--no-report` is given.
pub const REPORT_AFTER_S: f64 = 60.0;

/// `Some(true)` for `--report`, `Some(false)` for `--no-report`, `None` for the default.
pub fn asked(a: &ImageArgs) -> Option<bool> {
    match (a.report, a.no_report) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Write the report of the run just finished when asked, or by default when it took longer than
/// [`REPORT_AFTER_S`] (`wall_time_s`; `None`: read from the run's summary). A report asked for
/// that fails is an error; a default one that fails is a warning (the products are made).
pub fn after_run(imagename: &str, asked: Option<bool>, wall_time_s: Option<f64>) -> Result<()> {
    let wall = wall_time_s.or_else(|| {
        let text = std::fs::read_to_string(format!("{imagename}.summary.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("wall_time_s")?.as_f64()
    });
    let want = asked.unwrap_or(wall.is_some_and(|t| t > REPORT_AFTER_S));
    if !want {
        return Ok(());
    }
    match pclean_report::write_report(imagename) {
        Ok(r) => {
            eprintln!(
                "report: {} ({} figures, {:.1} s)",
                r.index.display(),
                r.figures,
                r.seconds
            );
            Ok(())
        }
        Err(e) if asked.is_none() => {
            eprintln!("warning: no report (--no-report turns it off): {e}");
            Ok(())
        }
        Err(e) => Err(e).context("writing the report (--report)"),
    }
}

/// `pclean report IMAGENAME`.
pub fn run_report(imagename: &str) -> Result<()> {
    let r = pclean_report::write_report(imagename)
        .with_context(|| format!("writing the report of '{imagename}'"))?;
    println!("{}", r.index.display());
    eprintln!("{} figures in {:.1} s", r.figures, r.seconds);
    Ok(())
}

/// `pclean completions SHELL`: the script on stdout.
pub fn print_completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "pclean", &mut std::io::stdout());
    Ok(())
}
