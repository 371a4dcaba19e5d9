//! `intent`: a comma-separated list of scan intents matched against STATE::OBS_MODE. A pattern with
//! wildcards (`*TARGET*`) is matched against the whole OBS_MODE; a plain intent
//! (`OBSERVE_TARGET#ON_SOURCE`) must equal the OBS_MODE or one of its comma-separated parts.

use super::common::{empty_err, name_matches, split_list, true_indices};
use crate::error::SelectionError;

const P: &str = "intent";

/// The selected state ids (sorted); `None` selects every state.
pub(crate) fn resolve(
    text: &str,
    obs_modes: &[String],
) -> Result<Option<Vec<usize>>, SelectionError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if obs_modes.is_empty() {
        return Err(empty_err(
            P,
            text,
            "this MS has no STATE table with intents (OBS_MODE)",
        ));
    }
    let mut selected = vec![false; obs_modes.len()];
    for item in split_list(P, t, ',')? {
        let mut any = false;
        for (id, mode) in obs_modes.iter().enumerate() {
            let hit = name_matches(P, text, item, mode)?
                || mode.split(',').any(|part| part.trim() == item);
            if hit {
                selected[id] = true;
                any = true;
            }
        }
        if !any {
            let mut modes: Vec<&str> = obs_modes.iter().map(|s| s.as_str()).collect();
            modes.sort_unstable();
            modes.dedup();
            return Err(empty_err(
                P,
                text,
                format!(
                    "'{item}' matches no intent; this MS has intents {}",
                    modes.join(" | ")
                ),
            ));
        }
    }
    Ok(Some(true_indices(&selected)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let modes: Vec<String> = [
            "CALIBRATE_PHASE#ON_SOURCE,CALIBRATE_WVR#ON_SOURCE",
            "OBSERVE_TARGET#ON_SOURCE",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(resolve("*TARGET*", &modes).unwrap(), Some(vec![1]));
        assert_eq!(
            resolve("CALIBRATE_WVR#ON_SOURCE", &modes).unwrap(),
            Some(vec![0])
        );
        assert_eq!(
            resolve("*PHASE*,*TARGET*", &modes).unwrap(),
            Some(vec![0, 1])
        );
        let e = resolve("*BANDPASS*", &modes).unwrap_err().to_string();
        assert!(e.starts_with("intent '*BANDPASS*' selects nothing"), "{e}");
        assert!(resolve("*", &[]).is_err());
    }
}
