//! The seed system's sectioned config layout (PyPI `casa-pclean`: `selection:`, `image:`, `grid:`,
//! `weight:`, `deconvolution:`, `iteration:`, `normalization:`, `misc:`, `cluster:` with its
//! `slurm:` and `submit:` sub-sections), flattened to pclean's parameter names so that a seed user's
//! YAML file runs unchanged with `pclean image --config`, `PcleanConfig` and `python -m pclean`.
//!
//! The imaging sections hold tclean's names, which are pclean's; the `cluster` section is renamed
//! (`type` -> `cluster_type`, `slurm.queue` -> `slurm_queue`, ...) and the seed's special values are
//! mapped to pclean's (`memory_limit: '0'`, no Dask limit -> `auto`; `cube_chunksize: -1` -> `0`,
//! automatic; `null` -> not given). `cluster.submit` configures the coordinator job of
//! `python -m pclean submit`, not the imaging: it is left out here.

use crate::params::ParamError;
use serde_json::{Map, Value};

/// The seed's sections whose keys are tclean's (and pclean's) parameter names.
pub const IMAGING_SECTIONS: &[&str] = &[
    "selection",
    "image",
    "grid",
    "weight",
    "deconvolution",
    "iteration",
    "normalization",
    "misc",
];

/// The seed's section of the parallel keys.
pub const CLUSTER_SECTION: &str = "cluster";

/// The parameters each of the seed's imaging sections shows (its `defaults.yaml`), for writing a
/// config in its layout and reading `cfg.image.imsize`-style; a parameter listed twice (the
/// seed repeats `nterms`, `pblimit`, `normtype`, `psfcutoff`) is written in the first section.
/// This is the seed's layout, not a declaration: names only (kind, default and help are the
/// schema table's), each checked against the declaration by a test below.
#[rustfmt::skip] // one name a line: the seed's layout, names only (see above)
pub const SECTION_KEYS: &[(&str, &[&str])] = &[
    ("selection", &[
        "vis",
        "selectdata",
        "field",
        "spw",
        "timerange",
        "uvrange",
        "antenna",
        "scan",
        "observation",
        "intent",
        "datacolumn",
    ]),
    ("image", &[
        "imagename",
        "imsize",
        "cell",
        "phasecenter",
        "stokes",
        "projection",
        "startmodel",
        "specmode",
        "reffreq",
        "nchan",
        "start",
        "width",
        "outframe",
        "veltype",
        "restfreq",
        "interpolation",
        "perchanweightdensity",
        "nterms",
    ]),
    ("grid", &[
        "gridder",
        "facets",
        "wprojplanes",
        "vptable",
        "mosweight",
        "aterm",
        "psterm",
        "wbawp",
        "conjbeams",
        "cfcache",
        "usepointing",
        "computepastep",
        "rotatepastep",
        "pointingoffsetsigdev",
        "pblimit",
        "normtype",
        "psfphasecenter",
    ]),
    ("weight", &[
        "weighting",
        "robust",
        "noise",
        "npixels",
        "uvtaper",
    ]),
    ("deconvolution", &[
        "deconvolver",
        "scales",
        "nterms",
        "smallscalebias",
        "fusedthreshold",
        "largestscale",
        "restoration",
        "restoringbeam",
        "pbcor",
        "usemask",
        "mask",
        "pbmask",
        "sidelobethreshold",
        "noisethreshold",
        "lownoisethreshold",
        "negativethreshold",
        "smoothfactor",
        "minbeamfrac",
        "cutthreshold",
        "growiterations",
        "dogrowprune",
        "minpercentchange",
        "verbose",
        "fastnoise",
    ]),
    ("iteration", &[
        "niter",
        "gain",
        "threshold",
        "nsigma",
        "cycleniter",
        "cyclefactor",
        "minpsffraction",
        "maxpsffraction",
        "interactive",
        "nmajor",
        "fullsummary",
    ]),
    ("normalization", &[
        "pblimit",
        "normtype",
        "psfcutoff",
    ]),
    ("misc", &[
        "restart",
        "savemodel",
        "calcres",
        "calcpsf",
        "psfcutoff",
    ]),
];

/// The seed's `cluster:` keys and pclean's names of them (`slurm:` maps `X` to `slurm_X`).
pub const CLUSTER_KEYS: &[(&str, &str)] = &[
    ("type", "cluster_type"),
    ("nworkers", "nworkers"),
    ("scheduler_address", "scheduler_address"),
    ("threads_per_worker", "threads_per_worker"),
    ("memory_limit", "memory_limit"),
    ("local_directory", "local_directory"),
    ("parallel", "parallel"),
    ("cube_chunksize", "cube_chunksize"),
    ("keep_subcubes", "keep_subcubes"),
    ("keep_partimages", "keep_partimages"),
    ("concat_mode", "concat_mode"),
];

/// Whether `key` is one of the seed's section names (none of them is a parameter name).
pub fn is_section(key: &str) -> bool {
    key == CLUSTER_SECTION || IMAGING_SECTIONS.contains(&key)
}

/// Whether a config document uses the seed's sectioned layout: a section name whose value is a
/// mapping.
pub fn is_sectioned(map: &Map<String, Value>) -> bool {
    map.iter().any(|(k, v)| is_section(k) && v.is_object())
}

/// The document with its sections flattened into pclean's parameter names (flat keys given beside
/// the sections are kept). A key given twice with different values (the seed repeats `nterms`,
/// `pblimit`, `normtype`, `psfcutoff` in two sections) is an error naming both places.
pub fn flatten(map: Map<String, Value>) -> Result<Map<String, Value>, ParamError> {
    let mut out = Flat::default();
    for (key, value) in map {
        if !is_section(&key) {
            out.put(key.clone(), value, key)?;
            continue;
        }
        let Value::Object(section) = value else {
            return Err(ParamError::Type {
                param: key.clone(),
                why: format!("the seed's section '{key}:' must be a mapping of keys to values"),
            });
        };
        if key == CLUSTER_SECTION {
            cluster(section, &mut out)?;
        } else {
            for (k, v) in section {
                imaging_key(&key, k, v, &mut out)?;
            }
        }
    }
    Ok(out.map)
}

/// One key of an imaging section.
fn imaging_key(section: &str, key: String, value: Value, out: &mut Flat) -> Result<(), ParamError> {
    let place = format!("{section}.{key}");
    match (key.as_str(), &value) {
        // null: the seed's default (briggsbwtaper's fractional bandwidth from the data); a given
        // value has no pclean equivalent.
        ("fracbw", Value::Null) => Ok(()),
        ("fracbw", v) => Err(ParamError::Type {
            param: place,
            why: format!(
                "{v}: no pclean equivalent (briggsbwtaper's fractional bandwidth is the selected \
                 data's, the seed's fracbw: null); remove the key"
            ),
        }),
        // The seed's choice between its two implementations of auto-multithresh (its Python port,
        // casatools'); pclean has one, tclean's: either value asks for the same mask.
        ("python_automask", Value::Bool(_)) if section == "deconvolution" => Ok(()),
        // The seed's defaults.yaml (the file its users copy) carries `vis: ''` and
        // `imagename: ''`, its "not set yet" (they come from a later layer: a preset, the command
        // line): not given. A run without them is still refused, naming the parameter.
        ("vis" | "imagename", Value::String(s)) if s.is_empty() => Ok(()),
        (_, Value::Null) => Ok(()),
        _ => out.put(key, value, place),
    }
}

/// The `cluster:` section: renamed keys, the seed's special values mapped.
fn cluster(section: Map<String, Value>, out: &mut Flat) -> Result<(), ParamError> {
    for (key, value) in section {
        let place = format!("cluster.{key}");
        match key.as_str() {
            "slurm" => {
                let Value::Object(slurm) = value else {
                    return Err(not_a_mapping(&place));
                };
                for (k, v) in slurm {
                    if !v.is_null() {
                        out.put(format!("slurm_{k}"), v, format!("cluster.slurm.{k}"))?;
                    }
                }
            }
            // The coordinator job of `python -m pclean submit`; no imaging parameter.
            "submit" if value.is_object() || value.is_null() => {}
            "submit" => return Err(not_a_mapping(&place)),
            _ if value.is_null() => {}
            "type" => out.put(CLUSTER_KEYS[0].1.into(), value, place)?,
            // Dask's '0': no memory limit; pclean's budget is then 80% of the available memory.
            "memory_limit" if is_zero(&value) => {
                out.put(key, Value::String("auto".into()), place)?
            }
            // The seed's -1: one sub-cube per worker, chosen by the system; pclean's 0: automatic.
            "cube_chunksize" if value.as_i64().is_some_and(|n| n < 0) => {
                out.put(key, Value::from(0), place)?
            }
            _ => out.put(key, value, place)?,
        }
    }
    Ok(())
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.trim() == "0",
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

fn not_a_mapping(place: &str) -> ParamError {
    ParamError::Type {
        param: place.to_string(),
        why: "the seed's sub-section must be a mapping of keys to values".into(),
    }
}

/// Flattened keys with where each came from (for the error on a conflicting repeat).
#[derive(Default)]
struct Flat {
    map: Map<String, Value>,
    from: Map<String, Value>,
}

impl Flat {
    fn put(&mut self, key: String, value: Value, place: String) -> Result<(), ParamError> {
        if let Some(old) = self.map.get(&key) {
            if *old != value {
                let first = self.from[&key].as_str().unwrap_or_default().to_string();
                return Err(ParamError::Type {
                    param: key,
                    why: format!(
                        "given twice with different values: {first} = {old}, {place} = {value}; \
                         give it once (or the same value in both places)"
                    ),
                });
            }
        }
        self.from.insert(key.clone(), Value::String(place));
        self.map.insert(key, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat(v: Value) -> Result<Map<String, Value>, ParamError> {
        flatten(v.as_object().unwrap().clone())
    }

    #[test]
    fn sections_flatten_to_parameter_names() {
        let m = flat(json!({
            "selection": {"vis": "a.ms", "field": ""},
            "image": {"imsize": [512, 512], "nterms": 2},
            "weight": {"fracbw": null},
            "deconvolution": {"nterms": 2, "python_automask": true},
            "cluster": {"type": "slurm", "nworkers": null, "memory_limit": "0",
                        "cube_chunksize": -1, "slurm": {"queue": "cpu", "account": null},
                        "submit": {"coordinator_mem": "8G"}},
        }))
        .unwrap();
        assert_eq!(m["vis"], json!("a.ms"));
        assert_eq!(m["imsize"], json!([512, 512]));
        assert_eq!(m["nterms"], json!(2));
        assert_eq!(m["cluster_type"], json!("slurm"));
        assert_eq!(m["memory_limit"], json!("auto"));
        assert_eq!(m["cube_chunksize"], json!(0));
        assert_eq!(m["slurm_queue"], json!("cpu"));
        // defaults.yaml's empty vis and imagename: not given (a later layer gives them).
        let d = flat(json!({"selection": {"vis": ""}, "image": {"imagename": "", "cell": ""}}));
        let d = d.unwrap();
        assert!(!d.contains_key("vis") && !d.contains_key("imagename"));
        assert_eq!(d["cell"], json!(""));
        for gone in [
            "python_automask",
            "nworkers",
            "slurm_account",
            "fracbw",
            "submit",
            "coordinator_mem",
        ] {
            assert!(!m.contains_key(gone), "{gone}");
        }
    }

    #[test]
    fn conflicting_repeats_and_given_fracbw_are_errors() {
        let e = flat(json!({"image": {"nterms": 2}, "deconvolution": {"nterms": 3}})).unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("image.nterms") && s.contains("deconvolution.nterms"),
            "{s}"
        );
        let e = flat(json!({"weight": {"fracbw": 0.1}})).unwrap_err();
        assert!(e.to_string().contains("weight.fracbw"), "{e}");
        let e = flat(json!({"cluster": {"slurm": 3}})).unwrap_err();
        assert!(e.to_string().contains("cluster.slurm"), "{e}");
    }

    #[test]
    fn section_tables_name_declared_parameters() {
        let known = |k: &str| {
            crate::params::RawParams::default()
                .set(k, Value::Null)
                .unwrap()
        };
        for (section, keys) in SECTION_KEYS {
            for k in *keys {
                assert!(known(k), "{section}.{k}");
            }
        }
        for (_, k) in CLUSTER_KEYS {
            assert!(known(k), "{k}");
        }
    }

    #[test]
    fn flat_documents_are_not_sectioned() {
        let m = json!({"imsize": 100, "image": "x"});
        assert!(!is_sectioned(m.as_object().unwrap()));
        assert!(is_sectioned(json!({"image": {}}).as_object().unwrap()));
    }
}
