//! The `pclean` command: parses arguments, calls the library, prints, maps errors to exit codes.

mod args;
mod config;
mod distributed;
mod param_flags;
mod report;
mod tools;

use anyhow::{Context, Result};
use args::{Cli, Command, ImageArgs};
use clap::Parser;
use pclean_core::params::{ImagingParams, RawParams};
use std::process::ExitCode;

/// Exact heap accounting for the run summary (peak per run and per channel block): on Linux with
/// glibc, at the C allocator (Rust and casacore's C++ heap, `heap_count`); elsewhere Rust's heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod heap_count;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[global_allocator]
static ALLOC: pclean_engine::alloc_count::CountingAlloc = pclean_engine::alloc_count::CountingAlloc;

/// One glibc malloc arena for the whole process. With one arena per thread (glibc's default)
/// the buffers a channel block frees stay in its thread's arena: a 1024^2 cube imaged one channel
/// at a time peaked at 394 MiB RSS for 93 MiB of live heap; with one arena 140 MiB, and the run was
/// faster (fewer page faults). pclean's threads allocate few, large buffers, so the shared arena's
/// lock is not contended (docs/decisions.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // glibc's adaptive mmap threshold is kept: a fixed 1 MiB threshold mapped every plane
        // afresh and the page faults tripled system time (docs/decisions.md).
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    // Bad input is reported as errors; a panic can only be a bug in pclean. Say so on one line.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // Output piped into a reader that stopped (`pclean params | head`): not a bug; end as a
        // tool killed by SIGPIPE does (128 + 13), without a message.
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error in pclean (please report it): {msg}{at}");
    }));
    let cli = Cli::parse();
    init_logging();
    install_signal_handlers();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            // Interrupted: the shell's convention, 128 + the signal number.
            let interrupted = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<pclean_engine::EngineError>(),
                    Some(pclean_engine::EngineError::Interrupted { .. })
                )
            });
            match (interrupted, pclean_engine::interrupt::requested()) {
                (true, Some(sig)) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// SIGINT/SIGTERM: the first asks the run to stop at the next block boundary (blocks in flight
/// finish and are recorded in the checkpoint); a second one ends the process at once (the
/// checkpoint is still consistent: it only ever names durable blocks).
extern "C" fn on_signal(sig: libc::c_int) {
    if pclean_engine::interrupt::requested().is_some() {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + sig) };
    }
    pclean_engine::interrupt::request(sig);
}

fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only does an atomic store or _exit (async-signal-safe).
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
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
        Command::Estimate(a) => run_estimate(&a),
        Command::Concat(a) => tools::run_concat(&a),
        Command::Inspect(a) => tools::run_inspect(&a),
        Command::ConvertAdios2(a) => tools::run_convert_adios2(&a),
        Command::Submit(a) => distributed::run_submit(&a),
        Command::Report(a) => report::run_report(&a.imagename),
        Command::Completions(a) => report::print_completions(a.shell),
        Command::Params(a) => {
            let text = if a.markdown {
                pclean_core::schema::markdown_table()
            } else {
                serde_json::to_string_pretty(&pclean_core::schema::specs_json())? + "\n"
            };
            // A closed pipe (`pclean params | head`) is not an error.
            match std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
    }
}

fn run_estimate(a: &args::EstimateArgs) -> Result<()> {
    use pclean_engine::memory;
    let spec = memory::WorkerSpec {
        imsize: a.imsize,
        nchan_per_task: a.nchan_per_task,
        gridder: a.gridder.clone(),
        deconvolver: a.deconvolver.clone(),
        nterms: a.nterms,
        nfields: a.nfields,
        threads_per_task: a.threads_per_task,
        blocks_in_flight: a.blocks_in_flight,
        nvis_per_chan: a.nvis,
        spw_nchan: a.spw_nchan,
        wplanes: a.wplanes,
        row_partitions: a.row_partitions,
        pabins: a.pabins,
        beam_freqs: a.beam_freqs,
        mvc_chans: a.mvc_chans,
        interpolated: a.interpolated,
        resident_chans: a.cube_resident_chans,
        mfs: a.mfs,
        weighting: a.weighting.clone(),
        epsilon: a.epsilon,
    };
    let per = memory::estimate_worker_memory_gib(&spec)?;
    let shape = spec.block_shape()?;
    let phases = shape.phases(a.nchan_per_task, a.threads_per_task);
    const MIB: f64 = (1u64 << 20) as f64;
    let avail = a
        .available_ram_gib
        .unwrap_or(memory::available_memory_bytes() as f64 / (1u64 << 30) as f64);
    let rec = memory::recommend_nworkers(Some(avail), &spec, a.ram_safety_factor)?;
    let n = a.nworkers.unwrap_or(rec.max(1));
    let total = memory::estimate_peak_ram_gib(n, &spec)?;
    let coordinator = memory::estimate_coordinator_memory_gib(&spec)?;
    let pixels = (a.imsize * a.imsize * a.nchan_per_task) as f64;
    if a.json {
        let v = serde_json::json!({
            "worker_memory_gib": per,
            "bytes_per_pixel": per * (1u64 << 30) as f64 / pixels,
            "nworkers": n,
            "peak_ram_gib": total,
            "available_ram_gib": avail,
            "ram_safety_factor": a.ram_safety_factor,
            "recommended_nworkers": rec,
            "base_mib": memory::BASE_BYTES as f64 / MIB,
            "block_mib": phases.peak() as f64 / MIB,
            // The one read of the visibilities for all blocks of a cube of several blocks
            // (`--spw-nchan` above `--nchan-per-task`): its peak and what it leaves held.
            "cache_read_mib": spec.cache_phase().map(|(read, _)| read as f64 / MIB),
            "cache_held_mib": spec.cache_phase().map(|(_, held)| held as f64 / MIB),
            // What several blocks in flight leave resident beside their heap (RSS only, like
            // imaging_code_mib; `BlockShape::blocks_bytes`).
            "interleaved_mib": (shape.blocks_bytes(a.nchan_per_task, a.blocks_in_flight, a.threads_per_task)
                - a.blocks_in_flight.max(1) as u64 * phases.peak()) as f64 / MIB,
            "imaging_code_mib": memory::IMAGING_CODE_BYTES as f64 / MIB,
            "row_partitions": a.row_partitions,
            "coordinator_memory_gib": coordinator,
            "partition_mib": (a.row_partitions > 0).then(|| {
                shape.partition_bytes(a.nvis.div_ceil(a.row_partitions), a.threads_per_task) as f64 / MIB
            }),
            "coordinator_mib": (a.row_partitions > 0).then(|| {
                shape.coordinator_bytes(a.row_partitions, a.threads_per_task) as f64 / MIB
            }),
            "grid": [shape.grid_v, shape.grid_u],
            "phases_mib": {
                "weighting": phases.weighting as f64 / MIB,
                "first_pass": phases.first_pass as f64 / MIB,
                "minor_cycle": phases.minor_cycle as f64 / MIB,
                "major_cycle": phases.major_cycle as f64 / MIB,
                "writing": phases.writing as f64 / MIB,
            },
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "per-worker estimate: {per:.3} GiB ({} x {} pixels x {} channel(s) per task, {}, {}, {} thread(s))",
        a.imsize, a.imsize, a.nchan_per_task, a.gridder, a.deconvolver, a.threads_per_task
    );
    println!(
        "  base {:.0} MiB + block {:.0} MiB ({:.1} B/pixel; uv grid {} x {})",
        memory::BASE_BYTES as f64 / MIB,
        phases.peak() as f64 / MIB,
        phases.peak() as f64 / pixels,
        shape.grid_v,
        shape.grid_u
    );
    if let Some((read, held)) = spec.cache_phase() {
        println!(
            "  the one read of the visibilities for all blocks: {:.0} MiB at its peak, {:.0} MiB held beside the blocks",
            read as f64 / MIB,
            held as f64 / MIB
        );
    }
    if a.row_partitions > 0 {
        println!(
            "  per worker: one of {} row partitions ({} visibilities each); coordinator {coordinator:.3} GiB",
            a.row_partitions,
            a.nvis.div_ceil(a.row_partitions)
        );
    }
    println!("total for {n} worker(s): {total:.3} GiB");
    println!(
        "recommended workers for this machine: {rec} ({avail:.1} GiB available x {})",
        a.ram_safety_factor
    );
    if rec == 0 {
        eprintln!(
            "warning: one worker needs {per:.2} GiB, more than {:.2} GiB; use a machine with more memory or a smaller imsize",
            avail * a.ram_safety_factor
        );
    }
    Ok(())
}

fn merged_params(a: &ImageArgs) -> Result<RawParams> {
    // Layers, later wins: preset < config file < flags.
    let mut raw = match &a.preset {
        Some(name) => pclean_core::config::preset(name)?,
        None => RawParams::default(),
    };
    if let Some(path) = &a.config {
        raw.merge(&config::load(path)?);
    }
    raw.merge(&a.params.0);
    Ok(raw)
}

fn run_image(a: &ImageArgs) -> Result<()> {
    let raw = merged_params(a)?;
    if a.dump_config {
        print!("{}", config::to_toml(&raw.with_defaults())?);
        return Ok(());
    }
    // Validated here, so that a bad parameter fails before any cluster starts.
    let params = ImagingParams::from_raw(&raw)?;
    let asked = report::asked(a);
    if params.parallel.parallel {
        distributed::run_parallel(&raw, &params.parallel, a.python.as_deref())?;
        return report::after_run(&params.imagename, asked, None);
    }
    let summary = pclean_engine::run_image(&params, &raw.with_defaults())?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    report::after_run(&params.imagename, asked, Some(summary.wall_time_s))
}
