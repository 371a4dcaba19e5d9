//! Wall time and memory of the process, for progress lines and the run summary.

/// Peak resident set size of this process (VmHWM), MiB; 0 when /proc is unavailable.
pub fn peak_rss_mib() -> f64 {
    proc_status_kib("VmHWM:").map_or(0.0, |k| k as f64 / 1024.0)
}

/// Current resident set size (VmRSS), MiB.
pub fn current_rss_mib() -> f64 {
    proc_status_kib("VmRSS:").map_or(0.0, |k| k as f64 / 1024.0)
}

/// Total physical memory of the machine (MemTotal), bytes.
pub fn total_memory_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
