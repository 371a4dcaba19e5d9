//! Progress: a bar on a terminal, structured log lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Reports channels done out of a total.
pub struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    start: std::time::Instant,
    last_log: Option<std::time::Instant>,
}

impl Progress {
    /// `already`: channels completed by an earlier, interrupted run (resumed).
    pub fn new(total: usize, already: usize, what: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(total as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} channels, {per_sec}, ETA {eta}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            b.set_message(what.to_string());
            b.set_position(already as u64);
            b.reset_eta();
            b
        });
        Progress {
            bar,
            total,
            done: already,
            start: std::time::Instant::now(),
            last_log: None,
        }
    }

    pub fn advance(&mut self, n: usize) {
        self.done += n;
        match &self.bar {
            Some(b) => b.inc(n as u64),
            // Log lines at most once a second (and the last one).
            None if self.done < self.total
                && self
                    .last_log
                    .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) => {}
            None => {
                self.last_log = Some(std::time::Instant::now());
                tracing::info!(
                    channels_done = self.done,
                    channels_total = self.total,
                    elapsed_s = format!("{:.1}", self.start.elapsed().as_secs_f64()),
                    rss_mib = format!("{:.0}", super::resources::current_rss_mib()),
                    "imaging progress"
                )
            }
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
