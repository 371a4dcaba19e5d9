//! Config files: TOML or YAML with tclean's parameter names; unknown keys are errors.

use anyhow::{bail, Context, Result};
use pclean_core::params::RawParams;
use std::path::Path;

/// Read a config file; the format follows the extension (.yaml/.yml = YAML, .json = JSON,
/// otherwise TOML).
/// Values take tclean's types (`imsize: 256` or `[256, 256]`); errors name the key.
pub fn load(path: &Path) -> Result<RawParams> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file '{}'", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str());
    let parsed: Result<RawParams, String> = if matches!(ext, Some("yaml" | "yml")) {
        pclean_core::config::from_yaml(&text).map_err(|e| e.to_string())
    } else if ext == Some("json") {
        pclean_core::config::from_json(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str::<serde_json::Value>(&text)
            .map_err(|e| e.to_string().replace('\n', " "))
            .and_then(|v| pclean_core::config::from_value(v).map_err(|e| e.to_string()))
    };
    match parsed {
        Ok(p) => Ok(p),
        Err(e) => bail!("config file '{}': {}", path.display(), e.trim()),
    }
}

/// The merged configuration as TOML (what `--dump-config` prints and what is saved next to products).
pub fn to_toml(p: &RawParams) -> Result<String> {
    Ok(toml::to_string(p)?)
}
