//! Deterministic fuzzing of pclean's parsers of user input (issue 20).
//!
//! Inputs are valid seeds (strings or bytes a user could write) mutated by a few edits each: a
//! token of the parser's own syntax inserted or swapped in, a span deleted or duplicated, a
//! character replaced by an arbitrary one, the text truncated. Grammar-aware mutation reaches the
//! parsers' deep branches far more often than uniformly random bytes, which are almost always
//! rejected by the first check.
//!
//! Every run draws the same inputs: [`run`] seeds proptest's XorShift generator with a fixed seed
//! per parser, so a CI failure replays locally, and proptest shrinks a failing input to a small
//! one before reporting it. A panic inside the parser fails the run with the input that caused it.
//! [`record`] writes the number of inputs tried per parser to `out/reliability/` for the
//! generated table of `docs/reliability.md` (`scripts/reliability_table.py`).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::path::PathBuf;

/// One edit of an input.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Insert dictionary token `tok` at relative position `at` (0..=1 scaled to the length).
    Insert { at: f64, tok: usize },
    /// Replace the span starting at `at`, `len` units long, with dictionary token `tok`.
    Replace { at: f64, len: usize, tok: usize },
    /// Delete a span.
    Delete { at: f64, len: usize },
    /// Duplicate a span in place.
    Duplicate { at: f64, len: usize },
    /// Put an arbitrary character (any code point, controls and NUL included).
    Char { at: f64, ch: char },
    /// Cut the input at `at`.
    Truncate { at: f64 },
}

fn edit_strategy(ntok: usize) -> impl Strategy<Value = Edit> {
    let tok = 0..ntok.max(1);
    let at = 0.0..=1.0f64;
    prop_oneof![
        3 => (at.clone(), tok.clone()).prop_map(|(at, tok)| Edit::Insert { at, tok }),
        3 => (at.clone(), 0..6usize, tok).prop_map(|(at, len, tok)| Edit::Replace { at, len, tok }),
        2 => (at.clone(), 1..8usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => (at.clone(), 1..12usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        2 => (at.clone(), any::<char>()).prop_map(|(at, ch)| Edit::Char { at, ch }),
        1 => at.prop_map(|at| Edit::Truncate { at }),
    ]
}

/// Apply `edits` to `units` (characters of a text or bytes of a file).
pub fn apply<T: Clone>(
    mut units: Vec<T>,
    edits: &[Edit],
    dict: &[Vec<T>],
    from_char: impl Fn(char) -> Vec<T>,
) -> Vec<T> {
    for e in edits {
        let n = units.len();
        let pos = |at: f64| ((at * n as f64) as usize).min(n);
        match e {
            Edit::Insert { at, tok } => {
                if let Some(t) = dict.get(*tok) {
                    let p = pos(*at);
                    units.splice(p..p, t.iter().cloned());
                }
            }
            Edit::Replace { at, len, tok } => {
                if let Some(t) = dict.get(*tok) {
                    let p = pos(*at);
                    let end = (p + len).min(n);
                    units.splice(p..end, t.iter().cloned());
                }
            }
            Edit::Delete { at, len } => {
                let p = pos(*at);
                units.drain(p..(p + len).min(n));
            }
            Edit::Duplicate { at, len } => {
                let p = pos(*at);
                let span: Vec<T> = units[p..(p + len).min(n)].to_vec();
                units.splice(p..p, span);
            }
            Edit::Char { at, ch } => {
                let p = pos(*at);
                let end = (p + 1).min(n);
                units.splice(p..end, from_char(*ch));
            }
            Edit::Truncate { at } => units.truncate(pos(*at)),
        }
    }
    units
}

/// Texts: a seed from `seeds` with 0 to `max_edits` edits drawing tokens from `dict`.
pub fn mutated_text(
    seeds: &'static [&'static str],
    dict: &'static [&'static str],
    max_edits: usize,
) -> impl Strategy<Value = String> {
    (
        0..seeds.len(),
        prop::collection::vec(edit_strategy(dict.len()), 0..=max_edits),
    )
        .prop_map(move |(s, edits)| {
            let d: Vec<Vec<char>> = dict.iter().map(|t| t.chars().collect()).collect();
            apply(seeds[s].chars().collect(), &edits, &d, |c| vec![c])
                .into_iter()
                .collect()
        })
}

/// Files: `seed` with 1 to `max_edits` edits drawing byte strings from `dict` (typically
/// values that break lengths and counts: zeros, 0xff runs, huge integers).
pub fn mutated_bytes(
    seed: Vec<u8>,
    dict: Vec<Vec<u8>>,
    max_edits: usize,
) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(edit_strategy(dict.len()), 1..=max_edits).prop_map(move |edits| {
        apply(seed.clone(), &edits, &dict, |c| {
            let mut b = [0u8; 4];
            c.encode_utf8(&mut b).as_bytes().to_vec()
        })
    })
}

/// A fixed seed per parser name, so every run draws the same inputs.
fn seed_of(name: &str) -> [u8; 16] {
    // FNV-1a, spread over 16 bytes: stable across Rust versions (unlike `DefaultHasher`).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut s = [0u8; 16];
    s[..8].copy_from_slice(&h.to_le_bytes());
    s[8..].copy_from_slice(&(!h).rotate_left(17).to_le_bytes());
    s
}

/// What a fuzz run tried.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub inputs: u64,
    pub accepted: u64,
    pub rejected: u64,
}

/// Run `check` on `cases` inputs of `strategy` with the fixed seed of `name`. `check` returns
/// `Ok(true)` when the parser accepted the input, `Ok(false)` for a proper error, `Err(why)` for
/// a property violation (e.g. an error that does not name the input). Panics with the shrunk
/// failing input on a panic or violation.
pub fn run<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(&S::Value) -> Result<bool, String>,
) -> Tally
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::XorShift, &seed_of(name));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tally = std::cell::Cell::new(Tally::default());
    let result = runner.run(&strategy, |v| {
        let ok = check(&v).map_err(TestCaseError::fail)?;
        let mut t = tally.get();
        t.inputs += 1;
        if ok {
            t.accepted += 1;
        } else {
            t.rejected += 1;
        }
        tally.set(t);
        Ok(())
    });
    if let Err(e) = result {
        panic!("fuzzing {name}: {e}");
    }
    tally.get()
}

/// Where the tests write their rows of the reliability table: `$PCLEAN_RELIABILITY_OUT`, default
/// `<workspace>/out/reliability`.
pub fn report_dir() -> PathBuf {
    std::env::var_os("PCLEAN_RELIABILITY_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../out/reliability"))
}

/// Record one row of the reliability table: `section` (e.g. "fuzz"), `item` (e.g. the parser),
/// and the measured fields. Best effort: a read-only checkout does not fail the test.
pub fn record(section: &str, item: &str, fields: serde_json::Value) {
    let dir = report_dir();
    let _ = std::fs::create_dir_all(&dir);
    let slug: String = format!("{section}-{item}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let row = serde_json::json!({ "section": section, "item": item, "fields": fields });
    let _ = std::fs::write(dir.join(format!("{slug}.json")), row.to_string());
}

/// Record a fuzz tally.
pub fn record_fuzz(parser: &str, t: Tally) {
    record(
        "fuzz",
        parser,
        serde_json::json!({
            "inputs": t.inputs, "accepted": t.accepted, "rejected": t.rejected, "crashes": 0
        }),
    );
}

/// A region parser's (CRTF or DS9) refusal of a fuzzed input: expected (`Ok(false)`, an input
/// refused) when its message names the line (`region line N`), a finding otherwise.
pub fn region_refusal(e: impl std::fmt::Display) -> Result<bool, String> {
    let m = e.to_string();
    if m.starts_with("region line ") {
        Ok(false)
    } else {
        Err(format!("error names no line: {m}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stay_in_bounds_and_apply() {
        let dict = vec![vec!['X', 'Y']];
        let out = apply(
            "abc".chars().collect(),
            &[
                Edit::Insert { at: 1.0, tok: 0 },
                Edit::Delete { at: 0.0, len: 100 },
                Edit::Char { at: 0.5, ch: 'z' },
            ],
            &dict,
            |c| vec![c],
        );
        assert_eq!(out, vec!['z']);
        let out = apply(
            "abcd".chars().collect(),
            &[
                Edit::Duplicate { at: 0.5, len: 9 },
                Edit::Truncate { at: 0.5 },
            ],
            &dict,
            |c| vec![c],
        );
        assert_eq!(out.into_iter().collect::<String>(), "abc");
    }

    #[test]
    fn seeds_differ_per_parser_and_are_stable() {
        assert_ne!(seed_of("a"), seed_of("b"));
        assert_eq!(seed_of("config"), seed_of("config"));
    }
}
