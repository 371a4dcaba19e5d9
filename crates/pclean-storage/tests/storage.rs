//! Integration tests of pclean-storage on the NGC5921 test MeasurementSet: the storage report, a copy
//! with a column rebound to another storage manager, Adios2StMan detection (including a table that
//! records Adios2StMan, made by renaming a StManAipsIO entry in `table.dat`), and the conversion
//! errors of a build without Adios2StMan. `tests/python/test_concat_storage.py` compares the report
//! with python-casacore's `getdminfo()`.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_storage::{
    check_adios2_support, convert_ms_to_adios2, copy_ms_with_storage_manager, format_storage,
    inspect_table, ms_uses_adios2, raw_storage_manager_types, split_and_convert_ms_to_adios2,
    StorageError,
};

#[test]
fn inspect_names_storage_managers_and_tiles() {
    let ms = support::ngc5921();
    let t = inspect_table(&ms).unwrap();
    assert_eq!(t.nrow, 12852);
    let data = t.data_manager_of("DATA").unwrap();
    assert_eq!(
        (data.dm_type.as_str(), data.name.as_str()),
        ("TiledShapeStMan", "TiledDATA")
    );
    assert_eq!(
        data.spec_value("HYPERCUBES.*1.TileShape"),
        Some("[2, 63, 1040]")
    );
    assert_eq!(
        t.data_manager_of("TIME").unwrap().dm_type,
        "IncrementalStMan"
    );
    let col = t.columns.iter().find(|c| c.name == "DATA").unwrap();
    assert_eq!(col.shape, Some(vec![2, 63]));
    let text = format_storage(&t);
    assert!(
        text.lines()
            .any(|l| l.starts_with("DATA ") && l.contains("TiledShapeStMan 'TiledDATA'")),
        "{text}"
    );
    assert!(!ms_uses_adios2(&ms).unwrap());
    let e = inspect_table(&ms.join("nope")).unwrap_err();
    assert!(matches!(e, StorageError::NotFound { .. }), "{e}");
}

#[test]
fn copy_rebinds_a_column_and_keeps_subtables() {
    let ms = support::ngc5921();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("part.ms");
    copy_ms_with_storage_manager(&ms, &out, &["DATA"], "StandardStMan", Some(100..400)).unwrap();
    let t = inspect_table(&out).unwrap();
    assert_eq!(t.nrow, 300);
    assert_eq!(t.data_manager_of("DATA").unwrap().dm_type, "StandardStMan");
    assert_eq!(
        t.data_manager_of("FLAG").unwrap().dm_type,
        "TiledShapeStMan"
    );
    assert!(out.join("SPECTRAL_WINDOW/table.dat").is_file());
    let e = copy_ms_with_storage_manager(&ms, &out, &["DATA"], "StandardStMan", None).unwrap_err();
    assert!(matches!(e, StorageError::OutputExists { .. }), "{e}");
    let e =
        copy_ms_with_storage_manager(&ms, &dir.path().join("x"), &["DATA"], "Adios2StMan", None)
            .unwrap_err();
    assert!(
        e.to_string().contains("Adios2StMan is not available"),
        "{e}"
    );
}

#[test]
fn adios2_is_detected_without_casacore_support() {
    let ms = support::ngc5921();
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("adios2.ms");
    // StManAipsIO and Adios2StMan have names of the same length: renaming the entries in table.dat
    // makes a table that records Adios2StMan for FLAG_ROW.
    copy_ms_with_storage_manager(&ms, &fake, &["FLAG_ROW"], "StManAipsIO", Some(0..10)).unwrap();
    let dat = fake.join("table.dat");
    let mut bytes = std::fs::read(&dat).unwrap();
    // Both the column description and the data-manager list record the type.
    let mut renamed = 0;
    while let Some(pos) = bytes.windows(11).position(|w| w == b"StManAipsIO") {
        bytes[pos..pos + 11].copy_from_slice(b"Adios2StMan");
        renamed += 1;
    }
    assert!(renamed > 0, "StManAipsIO recorded in table.dat");
    std::fs::write(&dat, bytes).unwrap();
    assert!(raw_storage_manager_types(&fake)
        .unwrap()
        .contains(&"Adios2StMan".to_string()));
    assert!(ms_uses_adios2(&fake).unwrap());
    let e = inspect_table(&fake).unwrap_err();
    assert!(
        matches!(&e, StorageError::UnavailableManager { managers, .. } if managers == "Adios2StMan"),
        "{e}"
    );
}

#[test]
fn adios2_conversions_explain_the_missing_build() {
    let s = check_adios2_support();
    assert!(!s.read && !s.write, "{s:?}");
    assert!(s.why.contains("not registered"), "{}", s.why);
    let dir = tempfile::tempdir().unwrap();
    let ms = support::ngc5921();
    let e = convert_ms_to_adios2(&ms, &dir.path().join("out.ms")).unwrap_err();
    assert!(matches!(e, StorageError::Adios2Unavailable { .. }), "{e}");
    assert!(e.to_string().contains("-DUSE_ADIOS2=ON"), "{e}");
    let e = split_and_convert_ms_to_adios2(&ms, dir.path(), 4).unwrap_err();
    assert!(matches!(e, StorageError::Adios2Unavailable { .. }), "{e}");
}
