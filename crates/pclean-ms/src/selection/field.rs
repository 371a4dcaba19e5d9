//! `field`: a comma-separated list of field ids (`2`), id ranges (`0~2`, `>1`, `<3`), names
//! (`N5921_2`) and name patterns (`N59*`). Every item must match at least one field.

use super::common::{empty_err, is_glob, list_names, name_matches, parse_err, split_list, IntItem};
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
            for (id, s) in selected.iter_mut().enumerate() {
                if ints.contains(id as i64) {
                    *s = true;
                    any = true;
                }
            }
        } else {
            if item.starts_with(['>', '<', '~']) || item.ends_with('~') {
                return Err(parse_err(
                    P,
                    text,
                    format!("'{item}' is not a field id, id range or name"),
                ));
            }
            for (id, name) in names.iter().enumerate() {
                if name_matches(P, text, item, name)? {
                    selected[id] = true;
                    any = true;
                }
            }
            if !any && !is_glob(item) {
                // CASA matches field names case-insensitively when there is no exact match.
                for (id, name) in names.iter().enumerate() {
                    if name.eq_ignore_ascii_case(item) {
                        selected[id] = true;
                        any = true;
                    }
                }
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
    Ok(Some(
        selected
            .iter()
            .enumerate()
            .filter_map(|(i, &s)| s.then_some(i))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = resolve("nosuchfield", &n).unwrap_err().to_string();
        assert!(e.contains("field 'nosuchfield' selects nothing"), "{e}");
        assert!(e.contains("N5921_2"), "{e}");
        let e = resolve("9", &n).unwrap_err().to_string();
        assert!(e.contains("'9' matches no field"), "{e}");
        assert!(resolve("1,,2", &n).is_err());
        assert!(resolve("1~", &n)
            .unwrap_err()
            .to_string()
            .contains("cannot parse"));
    }
}
