//! The `pclean` command: parses arguments, calls the library, prints, maps errors to exit codes.

mod args;
mod config;
mod tools;

use anyhow::{Context, Result};
use args::{Cli, Command, ImageArgs};
use clap::Parser;
use pclean_core::params::{ImagingParams, RawParams};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Bad input is reported as errors; a panic can only be a bug in pclean. Say so on one line.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error in pclean (please report it): {msg}{at}");
    }));
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, outermost first. Library errors often include their
/// cause in their own message; a cause already spelled out is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg.replace('\n', " ")
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PCLEAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Image(a) => run_image(&a),
        Command::Export {
            image,
            fits,
            overwrite,
        } => {
            pclean_imageio::export_casa_to_fits(&image, &fits, overwrite).with_context(|| {
                format!("exporting '{}' to '{}'", image.display(), fits.display())
            })?;
            println!("wrote {}", fits.display());
            Ok(())
        }
        Command::Concat(a) => tools::run_concat(&a),
        Command::Inspect(a) => tools::run_inspect(&a),
        Command::ConvertAdios2(a) => tools::run_convert_adios2(&a),
    }
}

fn merged_params(a: &ImageArgs) -> Result<RawParams> {
    let mut raw = match &a.config {
        Some(path) => config::load(path)?,
        None => RawParams::default(),
    };
    raw.merge(&a.to_raw());
    Ok(raw)
}

fn run_image(a: &ImageArgs) -> Result<()> {
    let raw = merged_params(a)?;
    if a.dump_config {
        print!("{}", config::to_toml(&raw.with_defaults())?);
        return Ok(());
    }
    let params = ImagingParams::from_raw(&raw)?;
    let summary = pclean_engine::run_image(&params, &raw.with_defaults())?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
