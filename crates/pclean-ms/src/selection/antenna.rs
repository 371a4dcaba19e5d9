//! `antenna`: CASA's baseline selection. A `;`-separated list of `[!]ANT[OP[ANT]]`, where ANT is a
//! comma-separated list of antenna names, name patterns (`ea*`), station names, integers and
//! integer ranges, and OP is `&`, `&&` or `&&&`:
//!
//! | form        | baselines selected                                                        |
//! |-------------|---------------------------------------------------------------------------|
//! | `A`         | cross-correlations between any antenna in A and any other antenna         |
//! | `A&`        | cross-correlations between antennas that are both in A                    |
//! | `A&B`       | cross-correlations between an antenna in A and one in B                   |
//! | `A&&`       | as `A&`, plus the autocorrelations of antennas in A                       |
//! | `A&&B`      | as `A&B`, plus autocorrelations of antennas in both A and B (`A&&*`: any) |
//! | `A&&&`      | only the autocorrelations of antennas in A                                |
//! | `!spec`     | removes what `spec` would select                                          |
//!
//! The result is the union of the positive specifications (every baseline when there are none) minus
//! the union of the negated ones. Names are matched first, then station names; an integer is taken
//! as an antenna *name* when some antenna has that name (the VLA convention: names `'1'`..`'28'`),
//! otherwise as an antenna id. `*` is every antenna.

use super::common::{
    empty_err, list_names, mark_where, name_matches, parse_err, reject_malformed, split_list,
    IntItem,
};
use crate::error::SelectionError;
use crate::meta::Antenna;

const P: &str = "antenna";

/// Which baselines (antenna1, antenna2) are selected, as a dense symmetric matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaselineSet {
    n: usize,
    sel: Vec<bool>,
}

impl BaselineSet {
    fn new(n: usize, value: bool) -> Self {
        BaselineSet {
            n,
            sel: vec![value; n * n],
        }
    }

    fn set(&mut self, a: usize, b: usize, v: bool) {
        self.sel[a * self.n + b] = v;
        self.sel[b * self.n + a] = v;
    }

    /// Whether the baseline between antenna ids `a1` and `a2` is selected (false for unknown ids).
    pub(crate) fn contains(&self, a1: i32, a2: i32) -> bool {
        if a1 < 0 || a2 < 0 || a1 as usize >= self.n || a2 as usize >= self.n {
            return false;
        }
        self.sel[a1 as usize * self.n + a2 as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    None,
    Cross,
    Both,
    Auto,
}

/// Antenna ids matched by one comma-separated ANT list.
fn antenna_ids(text: &str, list: &str, ants: &[Antenna]) -> Result<Vec<bool>, SelectionError> {
    let mut sel = vec![false; ants.len()];
    for item in
        split_list(P, list, ',').map_err(|_| parse_err(P, text, "empty antenna in a list"))?
    {
        let mut any = false;
        if item == "*" {
            sel.iter_mut().for_each(|s| *s = true);
            continue;
        }
        if let Some(ints) = IntItem::parse(item) {
            // Integers are names first (VLA convention), then ids.
            let by_name: Vec<usize> = (0..ants.len())
                .filter(|&i| {
                    ants[i]
                        .name
                        .trim()
                        .parse::<i64>()
                        .is_ok_and(|v| ints.contains(v))
                })
                .collect();
            if !by_name.is_empty() {
                by_name.into_iter().for_each(|i| sel[i] = true);
                any = true;
            } else {
                any = mark_where(&mut sel, |i| ints.contains(i as i64));
            }
        } else {
            let looks_numeric = item.starts_with(['>', '<', '~']) || item.contains('~');
            reject_malformed(
                P,
                text,
                item,
                looks_numeric,
                "an antenna name, id or id range",
            )?;
            let (name_pat, station_pat) = match item.split_once('@') {
                Some((n, s)) => (n.trim(), Some(s.trim())),
                None => (item, None),
            };
            for (i, a) in ants.iter().enumerate() {
                let st_ok = match station_pat {
                    Some(sp) => name_matches(P, text, sp, &a.station)?,
                    None => true,
                };
                if st_ok && name_matches(P, text, name_pat, &a.name)? {
                    sel[i] = true;
                    any = true;
                }
            }
            if !any && station_pat.is_none() {
                for (i, a) in ants.iter().enumerate() {
                    if name_matches(P, text, item, &a.station)? {
                        sel[i] = true;
                        any = true;
                    }
                }
            }
        }
        if !any {
            return Err(empty_err(
                P,
                text,
                format!(
                    "'{item}' matches no antenna name, station or id; this MS has antennas {}",
                    list_names(ants.iter().map(|a| a.name.as_str()), 12)
                ),
            ));
        }
    }
    Ok(sel)
}

/// Resolve the expression into a baseline set; `None` selects every baseline.
pub(crate) fn resolve(text: &str, ants: &[Antenna]) -> Result<Option<BaselineSet>, SelectionError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let n = ants.len();
    let mut positive = BaselineSet::new(n, false);
    let mut negative = BaselineSet::new(n, false);
    let mut any_positive = false;
    for spec in split_list(P, t, ';')? {
        let (negated, body) = match spec.strip_prefix('!') {
            Some(b) => (true, b.trim()),
            None => (false, spec),
        };
        let (left, op, right) = match body.find('&') {
            None => (body, Op::None, ""),
            Some(pos) => {
                let rest = &body[pos..];
                let amps = rest.chars().take_while(|&c| c == '&').count();
                let op = match amps {
                    1 => Op::Cross,
                    2 => Op::Both,
                    3 => Op::Auto,
                    _ => {
                        return Err(parse_err(P, text, format!("'{spec}': at most three '&'")));
                    }
                };
                (body[..pos].trim(), op, rest[amps..].trim())
            }
        };
        if left.is_empty() {
            return Err(parse_err(
                P,
                text,
                format!("'{spec}' has no antenna before the operator"),
            ));
        }
        if op == Op::Auto && !right.is_empty() {
            return Err(parse_err(
                P,
                text,
                format!("'{spec}': '&&&' (autocorrelations) takes no second antenna list"),
            ));
        }
        let a = antenna_ids(text, left, ants)?;
        let b = if right.is_empty() {
            None
        } else {
            Some(antenna_ids(text, right, ants)?)
        };
        let target = if negated {
            &mut negative
        } else {
            any_positive = true;
            &mut positive
        };
        for i in 0..n {
            for j in i..n {
                let auto = i == j;
                let hit = match (op, &b) {
                    (Op::None, _) => !auto && (a[i] || a[j]),
                    (Op::Cross, None) => !auto && a[i] && a[j],
                    (Op::Cross, Some(b)) => !auto && ((a[i] && b[j]) || (b[i] && a[j])),
                    (Op::Both, None) => a[i] && a[j],
                    (Op::Both, Some(b)) => (a[i] && b[j]) || (b[i] && a[j]),
                    (Op::Auto, _) => auto && a[i],
                };
                if hit {
                    target.set(i, j, true);
                }
            }
        }
    }
    if !any_positive {
        positive = BaselineSet::new(n, true);
    }
    for k in 0..positive.sel.len() {
        positive.sel[k] = positive.sel[k] && !negative.sel[k];
    }
    if !positive.sel.iter().any(|&s| s) {
        return Err(empty_err(P, text, "the expression selects no baseline"));
    }
    Ok(Some(positive))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::common::assert_err;

    fn ants() -> Vec<Antenna> {
        // VLA-like: names are integers that differ from ids; stations VLA:N1..
        (0..5)
            .map(|i| Antenna {
                name: format!("{}", i + 1),
                station: format!("VLA:N{}", i + 1),
                position_itrf_m: [0.0; 3],
                dish_diameter_m: 25.0,
                flag_row: false,
            })
            .collect()
    }

    fn count(b: &BaselineSet, autos: bool) -> usize {
        let mut c = 0;
        for i in 0..b.n {
            for j in i..b.n {
                if (autos || i != j) && b.contains(i as i32, j as i32) {
                    c += 1;
                }
            }
        }
        c
    }

    #[test]
    fn forms() {
        let a = ants();
        assert!(resolve("", &a).unwrap().is_none());
        // '1' is the NAME of id 0: cross baselines with id 0.
        let b = resolve("1", &a).unwrap().unwrap();
        assert!(b.contains(0, 3) && b.contains(2, 0) && !b.contains(0, 0) && !b.contains(1, 2));
        assert_eq!(count(&b, true), 4);
        let b = resolve("1&2", &a).unwrap().unwrap();
        assert!(b.contains(0, 1) && b.contains(1, 0));
        assert_eq!(count(&b, true), 1);
        let b = resolve("1,2,3&", &a).unwrap().unwrap();
        assert_eq!(count(&b, true), 3);
        let b = resolve("1,2,3&&", &a).unwrap().unwrap();
        assert_eq!(count(&b, true), 6);
        let b = resolve("1&&*", &a).unwrap().unwrap();
        assert_eq!(count(&b, true), 5);
        let b = resolve("1~5&&&", &a).unwrap().unwrap();
        assert_eq!((count(&b, true), count(&b, false)), (5, 0));
        let b = resolve("!1", &a).unwrap().unwrap();
        assert!(!b.contains(0, 1) && b.contains(1, 2) && b.contains(1, 1));
        let b = resolve("1;!1&2", &a).unwrap().unwrap();
        assert_eq!(count(&b, true), 3);
        let b = resolve("VLA:N5", &a).unwrap().unwrap();
        assert_eq!(count(&b, true), 4);
        assert!(b.contains(4, 0));
        let b = resolve("*@VLA:N2", &a).unwrap().unwrap();
        assert!(b.contains(1, 0));
    }

    #[test]
    fn ids_when_names_are_not_integers() {
        let mut a = ants();
        for (i, ant) in a.iter_mut().enumerate() {
            ant.name = format!("DA{:02}", 41 + i);
        }
        let b = resolve("2&3", &a).unwrap().unwrap();
        assert!(b.contains(2, 3));
        let b = resolve("DA4[12]&", &a).unwrap().unwrap();
        assert!(b.contains(0, 1));
        assert_eq!(count(&b, true), 1);
    }

    #[test]
    fn errors() {
        let a = ants();
        assert_err(resolve("XX", &a), &["antenna 'XX' selects nothing"]);
        assert_err(resolve("1&&&&2", &a), &["cannot parse"]);
        assert!(resolve("&2", &a).is_err());
        assert!(resolve("1;;2", &a).is_err());
        assert!(resolve("1&&&2", &a).is_err());
        assert_err(resolve("1&", &a), &["selects no baseline"]);
    }
}
