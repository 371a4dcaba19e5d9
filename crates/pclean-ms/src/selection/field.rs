//! `field`: a comma-separated list of field ids (`2`), id ranges (`0~2`, `>1`, `<3`), names
//! (`N5921_2`) and name patterns (`N59*`). Every item must match at least one field.

use super::common::{
    empty_err, is_glob, list_names, mark_where, name_matches, reject_malformed, split_list,
    true_indices, IntItem,
};
use crate::error::SelectionError;

const P: &str = "field";

/// The selected field ids, sorted; `None` selects every field.
pub(crate) fn resolve(text: &str, names: &[String]) -> Result<Option<Vec<usize>>, SelectionError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let available = || {
        format!(
            "this MS has fields {}",
            list_names(names.iter().map(|s| s.as_str()), 20)
        )
    };
    let mut selected = vec![false; names.len()];
    for item in split_list(P, text, ',')? {
        let mut any = false;
        if let Some(ints) = IntItem::parse(item) {
            any = mark_where(&mut selected, |id| ints.contains(id as i64));
        } else {
            let looks_numeric = item.starts_with(['>', '<', '~']) || item.ends_with('~');
            reject_malformed(P, text, item, looks_numeric, "a field id, id range or name")?;
            for (id, name) in names.iter().enumerate() {
                if name_matches(P, text, item, name)? {
                    selected[id] = true;
                    any = true;
                }
            }
            if !any && !is_glob(item) {
                // CASA matches field names case-insensitively when there is no exact match.
                any = mark_where(&mut selected, |id| names[id].eq_ignore_ascii_case(item));
            }
        }
        if !any {
            return Err(empty_err(
                P,
                text,
                format!("'{item}' matches no field; {}", available()),
            ));
        }
    }
    Ok(Some(true_indices(&selected)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::common::assert_err;

    fn names() -> Vec<String> {
        ["3C286", "N5921_1", "N5921_2", "1445+099"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn forms() {
        let n = names();
        assert_eq!(resolve("", &n).unwrap(), None);
        assert_eq!(resolve("2", &n).unwrap(), Some(vec![2]));
        assert_eq!(resolve("0~2", &n).unwrap(), Some(vec![0, 1, 2]));
        assert_eq!(resolve("N59*", &n).unwrap(), Some(vec![1, 2]));
        assert_eq!(resolve("3C286, 3", &n).unwrap(), Some(vec![0, 3]));
        assert_eq!(resolve("n5921_2", &n).unwrap(), Some(vec![2]));
        assert_eq!(resolve(">2", &n).unwrap(), Some(vec![3]));
    }

    #[test]
    fn errors() {
        let n = names();
        let cases: [(&str, &[&str]); 4] = [
            (
                "nosuchfield",
                &["field 'nosuchfield' selects nothing", "N5921_2"],
            ),
            ("9", &["'9' matches no field"]),
            ("1,,2", &[]),
            ("1~", &["cannot parse"]),
        ];
        for (text, needles) in cases {
            assert_err(resolve(text, &n), needles);
        }
    }
}
