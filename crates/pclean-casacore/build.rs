//! Compiles our C++ glue (every `cpp/*.cc`) against the casacore that `rubbl_casatables_impl` builds.
//! The `casacore` namespace is renamed to `rubbl_casacore` exactly as rubbl does, so our glue links
//! against the same symbols.

use std::env;

fn main() {
    let include = env::var_os("DEP_CASA_INCLUDE")
        .expect("rubbl_casatables_impl must export its include directory (links = \"casa\")");
    let mut files: Vec<_> = std::fs::read_dir("cpp")
        .expect("cpp/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cc"))
        .collect();
    files.sort();
    let mut builder = cc::Build::new();
    builder
        .cpp(true)
        .warnings(false)
        .flag_if_supported("-std=c++11")
        .flag_if_supported("-Wno-deprecated-declarations")
        .define("casacore", "rubbl_casacore")
        .include("cpp")
        .include(include)
        .files(&files);
    builder.compile("pclean_casacore_glue");
    println!("cargo:rerun-if-changed=cpp");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    println!("cargo:rerun-if-changed=cpp/glue_common.h");
    println!("cargo:rustc-link-lib=static=casatables_impl");
}
