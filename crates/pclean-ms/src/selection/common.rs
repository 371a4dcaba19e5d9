//! Pieces of CASA's selection grammar shared by several parameters: lists, integer ranges
//! (`1~3`, `>2`, `<5`), glob patterns and the error constructors.

use crate::error::SelectionError;

pub(crate) fn parse_err(param: &'static str, text: &str, why: impl Into<String>) -> SelectionError {
    SelectionError::Parse {
        param,
        text: text.to_string(),
        why: why.into(),
    }
}

pub(crate) fn empty_err(param: &'static str, text: &str, why: impl Into<String>) -> SelectionError {
    SelectionError::Empty {
        param,
        text: text.to_string(),
        why: why.into(),
    }
}

/// Split on `sep`, trimming items; an empty item (`'1,,2'`, `'1,'`) is a parse error.
pub(crate) fn split_list<'a>(
    param: &'static str,
    text: &'a str,
    sep: char,
) -> Result<Vec<&'a str>, SelectionError> {
    text.split(sep)
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                Err(parse_err(
                    param,
                    text,
                    format!("empty item in the '{sep}'-separated list"),
                ))
            } else {
                Ok(s)
            }
        })
        .collect()
}

/// An integer selection item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntItem {
    One(i64),
    /// Inclusive range `a~b`.
    Range(i64, i64),
    /// `>n` (strict) or `>=n`.
    Gt(i64, bool),
    /// `<n` (strict) or `<=n`.
    Lt(i64, bool),
}

impl IntItem {
    /// Parse `3`, `1~3`, `>2`, `>=2`, `<5`, `<=5`; `None` when the text is not an integer item.
    pub(crate) fn parse(s: &str) -> Option<IntItem> {
        let s = s.trim();
        let int = |t: &str| t.trim().parse::<i64>().ok();
        if let Some(r) = s.strip_prefix(">=") {
            return int(r).map(|v| IntItem::Gt(v, true));
        }
        if let Some(r) = s.strip_prefix("<=") {
            return int(r).map(|v| IntItem::Lt(v, true));
        }
        if let Some(r) = s.strip_prefix('>') {
            return int(r).map(|v| IntItem::Gt(v, false));
        }
        if let Some(r) = s.strip_prefix('<') {
            return int(r).map(|v| IntItem::Lt(v, false));
        }
        if let Some((a, b)) = s.split_once('~') {
            return Some(IntItem::Range(int(a)?, int(b)?));
        }
        int(s).map(IntItem::One)
    }

    pub(crate) fn contains(&self, v: i64) -> bool {
        match *self {
            IntItem::One(a) => v == a,
            IntItem::Range(a, b) => v >= a.min(b) && v <= a.max(b),
            IntItem::Gt(a, eq) => v > a || (eq && v == a),
            IntItem::Lt(a, eq) => v < a || (eq && v == a),
        }
    }
}

/// Parse a comma-separated list of integer items (for `scan`, `observation`).
pub(crate) fn parse_int_list(
    param: &'static str,
    text: &str,
) -> Result<Vec<IntItem>, SelectionError> {
    split_list(param, text, ',')?
        .into_iter()
        .map(|item| {
            IntItem::parse(item).ok_or_else(|| {
                parse_err(
                    param,
                    text,
                    format!("'{item}' is not an integer, a range 'a~b', '>n' or '<n'"),
                )
            })
        })
        .collect()
}

/// Whether the text contains glob wildcards (`*`, `?`, `[`).
/// Mark the entries of `sel` whose index satisfies `hit`; whether any did.
pub(crate) fn mark_where(sel: &mut [bool], hit: impl Fn(usize) -> bool) -> bool {
    let mut any = false;
    for (i, s) in sel.iter_mut().enumerate() {
        if hit(i) {
            *s = true;
            any = true;
        }
    }
    any
}

/// The indices of the `true` entries of `sel` (ascending).
pub(crate) fn true_indices(sel: &[bool]) -> Vec<usize> {
    sel.iter()
        .enumerate()
        .filter_map(|(i, &s)| s.then_some(i))
        .collect()
}

/// Error when `item`, not an integer item, still looks like one (`looks_numeric`): `expected`
/// says what the parameter takes.
pub(crate) fn reject_malformed(
    param: &'static str,
    text: &str,
    item: &str,
    looks_numeric: bool,
    expected: &str,
) -> Result<(), SelectionError> {
    if looks_numeric {
        return Err(parse_err(
            param,
            text,
            format!("'{item}' is not {expected}"),
        ));
    }
    Ok(())
}

/// Assert that `r` is an error whose message contains each of `needles`.
#[cfg(test)]
pub(crate) fn assert_err<T: std::fmt::Debug>(r: Result<T, SelectionError>, needles: &[&str]) {
    let e = r.unwrap_err().to_string();
    for n in needles {
        assert!(e.contains(n), "{e} lacks {n}");
    }
}

pub(crate) fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Match `name` against a glob pattern (or, without wildcards, exact equality).
pub(crate) fn name_matches(
    param: &'static str,
    text: &str,
    pattern: &str,
    name: &str,
) -> Result<bool, SelectionError> {
    if !is_glob(pattern) {
        return Ok(pattern == name);
    }
    let p = glob::Pattern::new(pattern).map_err(|e| SelectionError::BadPattern {
        param,
        text: text.to_string(),
        pattern: pattern.to_string(),
        pos: e.pos,
        msg: e.msg,
    })?;
    Ok(p.matches(name))
}

/// `"0 'A', 1 'B'"` for error messages (at most `max` entries).
pub(crate) fn list_names<'a>(names: impl Iterator<Item = &'a str>, max: usize) -> String {
    let v: Vec<String> = names
        .enumerate()
        .map(|(i, n)| format!("{i} '{n}'"))
        .collect();
    if v.len() > max {
        format!("{}, ... ({} in all)", v[..max].join(", "), v.len())
    } else {
        v.join(", ")
    }
}

/// `"1, 2, 5"` for error messages (at most `max` entries).
pub(crate) fn list_ints(v: impl Iterator<Item = i64>, max: usize) -> String {
    let v: Vec<String> = v.map(|x| x.to_string()).collect();
    if v.len() > max {
        format!("{}, ... ({} in all)", v[..max].join(", "), v.len())
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_items() {
        assert_eq!(IntItem::parse("3"), Some(IntItem::One(3)));
        assert_eq!(IntItem::parse(" 1 ~ 3 "), Some(IntItem::Range(1, 3)));
        assert_eq!(IntItem::parse(">2"), Some(IntItem::Gt(2, false)));
        assert_eq!(IntItem::parse("<=2"), Some(IntItem::Lt(2, true)));
        assert_eq!(IntItem::parse("a"), None);
        assert_eq!(IntItem::parse("1~"), None);
        assert!(IntItem::Range(3, 1).contains(2));
        assert!(!IntItem::Gt(2, false).contains(2));
        assert!(IntItem::Gt(2, true).contains(2));
    }

    #[test]
    fn int_lists() {
        let v = parse_int_list("scan", "1~3,5").unwrap();
        assert_eq!(v, vec![IntItem::Range(1, 3), IntItem::One(5)]);
        let e = parse_int_list("scan", "1,,2").unwrap_err();
        assert!(e.to_string().contains("scan='1,,2'"), "{e}");
        assert!(parse_int_list("scan", "x").is_err());
    }

    #[test]
    fn globs() {
        assert!(name_matches("field", "", "N59*", "N5921_2").unwrap());
        assert!(!name_matches("field", "", "N59", "N5921_2").unwrap());
        assert!(name_matches("field", "", "N?921_2", "N5921_2").unwrap());
    }
}
