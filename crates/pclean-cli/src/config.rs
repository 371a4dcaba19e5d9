//! Config files: TOML or YAML with tclean's parameter names and the parallel keys; unknown keys
//! are errors.

use anyhow::{bail, Context, Result};
use pclean_core::parallel::ParallelParams;
use pclean_core::params::RawParams;
use std::path::Path;

/// A config file's imaging and parallel parameters.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub raw: RawParams,
    pub parallel: ParallelParams,
}

/// Read a config file; the format follows the extension (.yaml/.yml = YAML, .json = JSON,
/// otherwise TOML).
pub fn load(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file '{}'", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str());
    let parsed: Result<serde_json::Value, String> = match ext {
        Some("yaml" | "yml") => serde_norway::from_str(&text).map_err(|e| e.to_string()),
        Some("json") => serde_json::from_str(&text).map_err(|e| e.to_string()),
        _ => toml::from_str(&text).map_err(|e| e.to_string().replace('\n', " ")),
    };
    let value = match parsed {
        Ok(serde_json::Value::Null) => serde_json::Value::Object(Default::default()),
        Ok(v) => v,
        Err(e) => bail!("config file '{}': {}", path.display(), e.trim()),
    };
    let serde_json::Value::Object(mut all) = value else {
        bail!(
            "config file '{}': expected a table of parameter names and values",
            path.display()
        );
    };
    // The parallel keys go to their own struct; everything else must be an imaging parameter.
    let mut par = serde_json::Map::new();
    for k in ParallelParams::KEYS {
        if let Some(v) = all.remove(k) {
            par.insert(k.to_string(), v);
        }
    }
    let raw: RawParams = serde_json::from_value(serde_json::Value::Object(all))
        .map_err(|e| anyhow::anyhow!("config file '{}': {e}", path.display()))?;
    let parallel: ParallelParams = serde_json::from_value(serde_json::Value::Object(par))
        .map_err(|e| anyhow::anyhow!("config file '{}': {e}", path.display()))?;
    Ok(ConfigFile { raw, parallel })
}

/// The merged configuration as TOML (what `--dump-config` prints and what is saved next to products).
pub fn to_toml(p: &RawParams) -> Result<String> {
    Ok(toml::to_string(p)?)
}

/// Imaging and parallel parameters as one JSON object (what the Dask driver reads).
pub fn to_json(raw: &RawParams, parallel: &ParallelParams) -> Result<String> {
    let mut v = serde_json::to_value(raw)?;
    let obj = v.as_object_mut().expect("RawParams serialises to an object");
    obj.retain(|_, v| !v.is_null());
    if let serde_json::Value::Object(p) = serde_json::to_value(parallel)? {
        obj.extend(p);
    }
    Ok(serde_json::to_string_pretty(&v)?)
}
