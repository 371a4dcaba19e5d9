//! Memory sizes with units (`memory_limit`, `slurm_job_mem`).

use super::ParamError;

/// Parse a memory size with a unit: "8GiB", "8 GB", "512MiB", "1.5TB", "64kB" (SI units are powers
/// of 1000, IEC units powers of 1024; a bare "G"/"M"/"K"/"T" is taken as IEC). "" or "auto" give
/// `None`.
pub fn parse_memory_bytes(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' does not start with a number; write e.g. '8GiB' or '500MB'"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        "" => {
            return Err(format!(
                "'{s}' has no unit; write e.g. '8GiB', '8GB' or '500MiB'"
            ))
        }
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}'; use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ))
        }
    };
    let bytes = value * mult;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("'{s}' is not a positive size"));
    }
    Ok(Some(bytes.round() as u64))
}

/// [`parse_memory_bytes`] of parameter `param`, its error a [`ParamError::Invalid`].
pub(crate) fn memory_param(param: &'static str, s: &str) -> Result<Option<u64>, ParamError> {
    parse_memory_bytes(s).map_err(|why| ParamError::Invalid {
        param,
        value: s.to_string(),
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory_bytes("8GiB"), Ok(Some(8 << 30)));
        assert_eq!(parse_memory_bytes("8 GB"), Ok(Some(8_000_000_000)));
        assert_eq!(parse_memory_bytes("1.5G"), Ok(Some(3 << 29)));
        assert_eq!(parse_memory_bytes("512MiB"), Ok(Some(512 << 20)));
        assert_eq!(parse_memory_bytes("auto"), Ok(None));
        assert_eq!(parse_memory_bytes(""), Ok(None));
        assert!(parse_memory_bytes("8").unwrap_err().contains("no unit"));
        assert!(parse_memory_bytes("8 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_memory_bytes("GiB").is_err());
        assert!(parse_memory_bytes("0GB").is_err());
    }
}
