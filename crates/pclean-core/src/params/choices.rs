//! The parameters whose value is one of a few names, as enums parsed once in validation
//! (case-insensitive). Each enum's names are the `choices` of its row in the declaration.

use super::ParamError;

/// An enum of named choices: `NAMES` (tclean's spellings, in order), `name()`, `parse` that
/// gives [`ParamError::Choice`] naming the parameter, the value and the allowed values, and serde
/// as the name.
macro_rules! choice {
    ($( $(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $text:literal ),+ $(,)? } );* $(;)?) => { $(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vdoc])* $variant ),+ }

        impl $name {
            /// The allowed values, as written in a config.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value as written in a config.
            pub fn name(self) -> &'static str {
                match self { $( $name::$variant => $text ),+ }
            }

            /// Parse `value` of parameter `param` (case-insensitive, surrounding blanks ignored).
            pub fn parse(param: &'static str, value: &str) -> Result<Self, ParamError> {
                let v = value.trim();
                $( if v.eq_ignore_ascii_case($text) { return Ok($name::$variant); } )+
                Err(ParamError::Choice { param, value: value.to_string(), allowed: Self::NAMES })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Self::parse(stringify!($name), &s).map_err(serde::de::Error::custom)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    )* };
}

choice! {
    /// Which visibility column is imaged.
    DataColumnChoice { Data = "data", Corrected = "corrected", Model = "model" };
    /// tclean's `specmode`.
    SpecMode { Mfs = "mfs", Cube = "cube", CubeData = "cubedata", CubeSource = "cubesource" };
    /// tclean's `interpolation`: spectral regridding between frames or onto a frequency grid.
    Interpolation { Nearest = "nearest", Linear = "linear", Cubic = "cubic" };
    /// tclean's `veltype`: the velocity convention of velocity `start`/`width`.
    VelType { Radio = "radio", Optical = "optical" };
    /// tclean's `gridder` (the ones pclean implements).
    Gridder { Standard = "standard", Mosaic = "mosaic", WProject = "wproject", WideField = "widefield", AwProject = "awproject" };
    /// pclean's `kernel`: the gridding kernel of the `standard` gridder (`es`: the
    /// exponential-of-semicircle kernel at `epsilon`; `casa`: tclean's own prolate-spheroidal
    /// kernel, grid correction and padding, to reproduce tclean's products).
    GridKernel { Es = "es", Casa = "casa" };
    /// tclean's `weighting` (its parameters are in [`super::Weighting`]).
    WeightingKind { Natural = "natural", Uniform = "uniform", Briggs = "briggs", BriggsAbs = "briggsabs", BriggsBwTaper = "briggsbwtaper", SuperUniform = "superuniform" };
    /// tclean's `deconvolver` (the ones pclean implements).
    Deconvolver { Hogbom = "hogbom", Clark = "clark", ClarkStokes = "clarkstokes", Multiscale = "multiscale", Mtmfs = "mtmfs" };
    /// tclean's `usemask` (its parameters are in [`super::UseMask`]).
    UseMaskKind { User = "user", Pb = "pb", AutoMultiThresh = "auto-multithresh" };
    /// tclean's `normtype` (primary-beam normalisation of the mosaic gridders).
    NormType { FlatNoise = "flatnoise", FlatSky = "flatsky", PbSquare = "pbsquare" };
    /// tclean's `savemodel`.
    SaveModel { None = "none", ModelColumn = "modelcolumn" };
    /// Product file format.
    ImageFormat { Casa = "casa", Fits = "fits" };
    /// tclean's `projection` (pclean: SIN only).
    Projection { Sin = "SIN" };
    /// Where the Dask workers of a distributed run are (`cluster_type`).
    ClusterKind { Local = "local", Slurm = "slurm", Address = "address" };
    /// Who writes a Dask run's planes into the products (`plane_writes`): the workers straight
    /// into the products' files (they must see them: the same host or a shared file system), the
    /// driver (the planes travel to it), or `auto` (workers on a local cluster, else the driver).
    PlaneWrites { Auto = "auto", Workers = "workers", Driver = "driver" };
    /// The Dask workers of a local cluster (`local_workers`): threads of the driver's process,
    /// nanny-managed worker processes, or `auto` (threads).
    LocalWorkers { Auto = "auto", Threads = "threads", Processes = "processes" };
    /// pclean's `row_partition_by`: how an mfs image's selected rows are cut into
    /// `row_partitions` (`pclean_engine::exec::rows::plan`).
    RowPartitionBy { Rows = "rows", Time = "time", Spw = "spw", Ms = "ms" };
    /// `concat_mode`, the seed's (accepted, moot: pclean has no concatenation step).
    ConcatMode {
        None = "none", Auto = "auto", Paged = "paged", Virtual = "virtual",
        Nomovevirtual = "nomovevirtual", Movevirtual = "movevirtual",
    };
}

/// Output frames of a cube (`outframe`; empty = LSRK).
pub const OUTFRAMES: &[&str] = &[
    "LSRK", "LSRD", "BARY", "GEO", "TOPO", "GALACTO", "LGROUP", "CMB",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_case_insensitive_and_errors_list_them() {
        assert_eq!(
            Deconvolver::parse("deconvolver", " Clark "),
            Ok(Deconvolver::Clark)
        );
        assert_eq!(
            UseMaskKind::parse("usemask", "AUTO-MULTITHRESH"),
            Ok(UseMaskKind::AutoMultiThresh)
        );
        let e = Interpolation::parse("interpolation", "spline").unwrap_err();
        assert_eq!(e.param(), "interpolation");
        let m = e.to_string();
        assert!(
            m.contains("spline") && m.contains("nearest, linear, cubic"),
            "{m}"
        );
    }
}
