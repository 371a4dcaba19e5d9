//! The one read of a cube's visibilities for all its blocks, and what it leaves held.

/// Bytes of every selected visibility held in memory (`VisChunk::memory_bytes` summed).
pub fn vis_cache_bytes(sel: &pclean_ms::SelectedData) -> u64 {
    sel.groups
        .iter()
        .map(|g| {
            let n = (g.rows.len() * g.chan_ids.len() * g.corrs.len()) as u64;
            n * (8 + 1 + 4) + g.rows.len() as u64 * (8 + 8 + 4 * 4 + 24)
        })
        .sum()
}

/// Bytes of a visibility chunk's per-row fields (uvw, time, ids; `VisChunk::memory_bytes`).
const CHUNK_ROW_BYTES: u64 = 8 + 8 + 4 * 4 + 24;

/// The one read of a cube's selected visibilities for all its blocks
/// (`Coordinator::cache_visibilities`, `Source::load_cache`): `rows` selected rows of `chans`
/// channels and `ncorr` correlations, read `load_rows` rows at a time and kept in memory or in
/// the channel-major scratch file. Returns (the read's peak, what stays held while the blocks
/// run): in memory, every sample (13 B) and row; on disk, one chunk as read (its samples, written
/// one channel's record at a time) beside the row fields of every chunk, which stay in memory.
/// Measured on the 64-channel, 108k-row cube (docs/memory.md): heap 50.7 MiB above idle for the
/// read, 51.1 predicted. What stays held includes casacore's caches of the columns read
/// ([`READ_COLUMN_CACHES_BYTES`]). The read to a scratch file ends by giving the heap's free pages
/// back (`Source::load_cache`): the chunks it freed lie below the row fields it keeps, and glibc
/// kept them resident (RSS 63 MiB above idle after the read for 13 MiB held on the 1024^2 x 64
/// LSRK cube; after the trim RSS minus heap is the idle process's, docs/decisions.md (s17-est)).
pub fn cache_phase(
    rows: u64,
    chans: usize,
    ncorr: usize,
    load_rows: usize,
    in_memory: bool,
) -> (u64, u64) {
    let sample = (chans * ncorr) as u64 * 13;
    if in_memory {
        let held = rows * (sample + CHUNK_ROW_BYTES);
        return (held, held + READ_COLUMN_CACHES_BYTES);
    }
    let held = rows * CHUNK_ROW_BYTES;
    let chunk = (load_rows as u64).min(rows) * (sample + CHUNK_ROW_BYTES);
    (held + chunk, held + READ_COLUMN_CACHES_BYTES)
}

/// Heap casacore keeps from the one read of the visibilities until the MS is closed, counted in
/// what the read leaves held ([`cache_phase`]): each tiled column read (the visibilities,
/// `FLAG`, the weights, `UVW`) keeps its bucket cache (slot arrays) and one tile buffer;
/// `ms_glue.cc` bounds the cache to 1 MiB (or one tile) and empties it after the read, but the
/// cache objects stay (opening the MS afresh after the read did not return them: casacore's
/// table cache shares the open table). Measured with massif on ngc5921 (1 MiB tiles; 4-channel
/// LSRK blocks): tile buffers 4.0 MiB and slot arrays 3.1 MiB through every block; 4 columns x
/// 1.8 MiB, an upper bound where tiles are smaller (synth.ms' 0.5 MiB). At the read's own peak
/// the chunk term already matches the measured heap (50.7 MiB against 51.1 on synth.ms), which
/// includes them.
pub const READ_COLUMN_CACHES_BYTES: u64 = 4 * (18 << 20) / 10;
