//! `declare_params!`: the macro that turns the one parameter table (`table.rs`) into
//! [`RawParams`](crate::params::RawParams) (all `Option`, serde), [`EffectiveParams`]
//! (defaults applied), layering (`merge`), `with_defaults`, keyed reading of config values, and
//! the [`ParamSpec`](super::ParamSpec) list that the CLI, config validation, Python and the docs
//! are made from.
//!
//! [`EffectiveParams`]: crate::params::EffectiveParams

/// Each row: `name: Kind = default, "help" => .builder(...)...;` (see `table.rs`).
macro_rules! declare_params {
    ($( $name:ident : $kind:ident = $default:expr , $help:literal $( => $( . $m:ident ( $($a:expr),* ) )* )? ; )*) => {
        /// Parameters as given by a user (config file, CLI flags, Python keywords; tclean's
        /// names). `None` = not given: a lower layer or the default applies. Declared once, in
        /// `pclean_core::schema::table`.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct RawParams {
            $( #[doc = $help] pub $name: Option<<$crate::schema::kinds::$kind as $crate::schema::kinds::Kind>::Raw>, )*
        }

        /// Every parameter with its effective value (given, or the default).
        #[derive(Debug, Clone, PartialEq)]
        pub struct EffectiveParams {
            $( #[doc = $help] pub $name: <$crate::schema::kinds::$kind as $crate::schema::kinds::Kind>::Raw, )*
        }

        /// The declaration as data, in table order.
        pub static PARAMS: &[$crate::schema::ParamSpec] = &[ $(
            $crate::schema::ParamSpec::new($help) $( $( .$m($($a),*) )* )?
                .named(stringify!($name), <$crate::schema::kinds::$kind as $crate::schema::kinds::Kind>::KIND),
        )* ];

        impl RawParams {
            /// Overlay `over` on `self`: every parameter set in `over` wins (later layers override
            /// earlier ones).
            pub fn merge(&mut self, over: &RawParams) {
                $( if over.$name.is_some() { self.$name = over.$name.clone(); } )*
            }

            /// Every parameter's effective value.
            pub fn effective(&self) -> EffectiveParams {
                EffectiveParams { $(
                    $name: self.$name.clone().unwrap_or_else(|| {
                        <$crate::schema::kinds::$kind as $crate::schema::kinds::Kind>::make($default)
                    }),
                )* }
            }

            /// Every parameter set to its effective value (for `--dump-config` and the products'
            /// record of the run).
            pub fn with_defaults(&self) -> RawParams {
                let e = self.effective();
                RawParams { $( $name: Some(e.$name), )* }
            }

            /// Set parameter `key` from a config value (`null` = not given). `Ok(false)`: `key` is
            /// not a parameter.
            pub fn set(&mut self, key: &str, value: serde_json::Value) -> Result<bool, serde_json::Error> {
                match key {
                    $( stringify!($name) => {
                        self.$name = <$crate::schema::kinds::$kind as $crate::schema::kinds::Kind>::read(value)?;
                    } )*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }

        impl serde::Serialize for RawParams {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct("RawParams", PARAMS.len())?;
                $( st.serialize_field(stringify!($name), &self.$name)?; )*
                st.end()
            }
        }
    };
}

pub(crate) use declare_params;
