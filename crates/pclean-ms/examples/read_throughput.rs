//! Read throughput of the chunked reader: reads every row (autocorrelations included) of an MS's
//! DATA column with FLAG, weights, UVW and the index columns, and reports visibilities per second.
//!
//! Usage: `cargo run --release -p pclean-ms --example read_throughput -- <ms> [max_rows] [repeats]`

use pclean_ms::{DataColumn, MeasurementSet, SelectOptions, Selection};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: read_throughput <ms> [max_rows] [repeats]")?;
    let max_rows: usize = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let repeats: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let ms = MeasurementSet::open(path)?;
    let opts = SelectOptions {
        include_autocorrelations: true,
    };
    let t0 = Instant::now();
    let data = ms.select_with(&Selection::default(), opts)?;
    let select_s = t0.elapsed().as_secs_f64();
    let nvis = data.n_vis();
    println!(
        "{path}: {} rows, {nvis} visibilities; select() {:.1} ms",
        data.n_rows(),
        select_s * 1e3
    );
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        let mut acc = 0.0f64;
        for chunk in data.chunks(&ms, DataColumn::Data, max_rows) {
            let c = chunk?;
            acc += c.vis_rcp.iter().map(|v| v.re as f64).sum::<f64>();
        }
        let s = t.elapsed().as_secs_f64();
        best = best.min(s);
        std::hint::black_box(acc);
    }
    println!(
        "chunked read (max_rows {max_rows}, DATA+FLAG+WEIGHT_SPECTRUM/WEIGHT+UVW+index columns): best of {repeats}: {:.1} ms = {:.1} Mvis/s = {:.0} MB/s of DATA",
        best * 1e3,
        nvis as f64 / best / 1e6,
        nvis as f64 * 8.0 / best / 1e6
    );
    // DATA alone through the glue (one getColumnRange per block of rows), for comparison with
    // python-casacore's getcol.
    let table = pclean_casacore::columns::ReadTable::open(path)?;
    let n = table.n_rows();
    let cell: usize = table
        .column_info("DATA")?
        .shape
        .ok_or("DATA row 0 undefined")?
        .iter()
        .product();
    for block in [n, max_rows as u64] {
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let t = Instant::now();
            let mut start = 0;
            while start < n {
                let len = block.min(n - start);
                let mut buf = vec![num_complex::Complex32::default(); len as usize * cell];
                table.read_array_range("DATA", start, len, None, &mut buf)?;
                std::hint::black_box(&buf);
                start += len;
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "DATA only, {block}-row getColumnRange calls: best of {repeats}: {:.1} ms = {:.1} Mvis/s",
            best * 1e3,
            (n as usize * cell) as f64 / best / 1e6
        );
    }
    Ok(())
}
