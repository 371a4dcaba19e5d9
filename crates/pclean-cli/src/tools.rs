//! The `concat`, `inspect` and `convert-adios2` subcommands: arguments and thin calls into
//! `pclean-concat` and `pclean-storage`.

use anyhow::{bail, Context, Result};
use clap::Args;
use pclean_concat::{
    concat_images, concat_subcubes, ConcatMode, SubcubeOptions, DEFAULT_MAX_WORKERS,
};
use serde_json::json;
use std::path::PathBuf;

fn parse_mode(s: &str) -> Result<ConcatMode, String> {
    s.parse::<ConcatMode>().map_err(|e| e.to_string())
}

/// `pclean concat OUT IN1 IN2 ...` or `pclean concat --subcubes BASE --nparts N`.
#[derive(Debug, Args)]
pub struct ConcatArgs {
    /// The output image, then the input images in spectral order (OUT IN1 IN2 ...; at least two
    /// inputs).
    #[arg(value_name = "PATH", required_unless_present = "subcubes")]
    pub paths: Vec<PathBuf>,
    /// Sub-cube form: join <BASE>.part<i>.<ext> (i = 0..nparts) into <BASE>.<ext> for each product
    /// extension.
    #[arg(
        long,
        value_name = "BASE",
        conflicts_with = "paths",
        requires = "nparts"
    )]
    pub subcubes: Option<String>,
    /// Number of sub-cubes (sub-cube form).
    #[arg(long, requires = "subcubes")]
    pub nparts: Option<usize>,
    /// Extensions to join (sub-cube form) [default: those of image, residual, psf, model, pb, mask,
    /// sumwt, weight, image.pbcor whose part 0 exists].
    #[arg(long, value_delimiter = ',', requires = "subcubes")]
    pub extensions: Option<Vec<String>>,
    /// Axis to concatenate: -1 (the spectral axis) or 3; no other axis is supported.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub axis: i64,
    /// Tolerate direction-coordinate differences below 0.01 pixel and inputs with and without
    /// restoring beams, with warnings (default; casatools' relax=True).
    #[arg(long, overrides_with = "no_relax")]
    pub relax: bool,
    /// Refuse coordinate differences beyond rounding and inputs with and without beams.
    #[arg(long, overrides_with = "relax")]
    pub no_relax: bool,
    /// Replace existing outputs (CASA images, virtual concatenations or files).
    #[arg(long)]
    pub overwrite: bool,
    /// paged (a new CASA image), nomovevirtual (casacore's virtual concatenation referring to the
    /// inputs) or movevirtual (the same, with the inputs moved inside it).
    #[arg(long, default_value = "paged", value_parser = parse_mode)]
    pub mode: ConcatMode,
    /// Extensions concatenated at once (sub-cube form).
    #[arg(long, default_value_t = DEFAULT_MAX_WORKERS)]
    pub max_workers: usize,
}

pub fn run_concat(a: &ConcatArgs) -> Result<()> {
    let relax = !a.no_relax;
    if let Some(base) = &a.subcubes {
        if a.axis != -1 && a.axis != 3 {
            bail!(
                "--axis {} is not supported: sub-cubes are joined along the spectral axis (-1 or 3)",
                a.axis
            );
        }
        let nparts = a.nparts.context("--subcubes needs --nparts")?;
        let opts = SubcubeOptions {
            extensions: a.extensions.clone(),
            mode: a.mode,
            max_workers: a.max_workers,
            relax,
            overwrite: a.overwrite,
        };
        let rep = concat_subcubes(base, nparts, &opts)
            .with_context(|| format!("concatenating the sub-cubes of '{base}'"))?;
        println!("{}", serde_json::to_string_pretty(&rep)?);
        return Ok(());
    }
    let (out, inputs) = a
        .paths
        .split_first()
        .context("give the output and at least two inputs")?;
    let rep = concat_images(out, inputs, a.axis, relax, a.overwrite, a.mode)
        .with_context(|| format!("concatenating into '{}'", out.display()))?;
    println!("{}", serde_json::to_string_pretty(&rep)?);
    Ok(())
}

/// `pclean inspect MS`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// MeasurementSet (or any casacore table) to describe.
    pub ms: PathBuf,
    /// Print JSON (columns, data managers with their full specification, Adios2StMan support).
    #[arg(long)]
    pub json: bool,
}

pub fn run_inspect(a: &InspectArgs) -> Result<()> {
    let support = pclean_storage::check_adios2_support();
    let uses = pclean_storage::ms_uses_adios2(&a.ms)
        .with_context(|| format!("inspecting '{}'", a.ms.display()))?;
    let table = pclean_storage::inspect_table(&a.ms)
        .with_context(|| format!("inspecting '{}'", a.ms.display()))?;
    if a.json {
        let mut doc = pclean_storage::storage_json(&table);
        doc["uses_adios2"] = json!(uses);
        doc["adios2_support"] =
            json!({"read": support.read, "write": support.write, "why": support.why});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", pclean_storage::format_storage(&table));
        println!(
            "Adios2StMan: {} by this table; this build can {} it ({})",
            if uses { "used" } else { "not used" },
            if support.read {
                "read and write"
            } else {
                "neither read nor write"
            },
            support.why
        );
    }
    Ok(())
}

/// `pclean convert-adios2 MS OUT [--nparts N]`.
#[derive(Debug, Args)]
pub struct ConvertAdios2Args {
    /// MeasurementSet to convert.
    pub ms: PathBuf,
    /// Output MeasurementSet, or with --nparts the directory that receives <MS name>.part<i>.
    pub output: PathBuf,
    /// Split into this many MeasurementSets of consecutive rows, each converted.
    #[arg(long)]
    pub nparts: Option<usize>,
}

pub fn run_convert_adios2(a: &ConvertAdios2Args) -> Result<()> {
    let ctx = || format!("converting '{}' to Adios2StMan", a.ms.display());
    match a.nparts {
        None => {
            pclean_storage::convert_ms_to_adios2(&a.ms, &a.output).with_context(ctx)?;
            println!("wrote {}", a.output.display());
        }
        Some(n) => {
            let parts = pclean_storage::split_and_convert_ms_to_adios2(&a.ms, &a.output, n)
                .with_context(ctx)?;
            for p in parts {
                println!("wrote {}", p.display());
            }
        }
    }
    Ok(())
}
