"""The seed's MS conversion to Adios2StMan on pclean's casacore (``pclean convert-adios2``).

This build's casacore has no ADIOS2 (see ``check_adios2.check_adios2_support``): the calls raise
``PcleanIOError`` saying so and what would (casacore built with ADIOS2, or casatools' conda
build with the seed). The seed's engine options (``engine_type``, ``engine_params``,
``adios2_xml``, ``target_columns``, ``taql``) have no pclean equivalent: values other than the
defaults are refused.
"""
from __future__ import annotations

import os
import shutil
from typing import Optional

from .. import _native

_DEFAULT_TARGET_COLUMNS = ("DATA", "CORRECTED_DATA", "MODEL_DATA", "FLAG", "WEIGHT", "SIGMA")


def _refuse(**given) -> None:
    for name, value in given.items():
        if value not in (None, "BP4", _DEFAULT_TARGET_COLUMNS, list(_DEFAULT_TARGET_COLUMNS)):
            raise ValueError(f"{name}={value!r}: pclean's conversion has no such option (it "
                             "stores the data columns with Adios2StMan's defaults); leave it out")


def convert_ms_to_adios2(input_ms: str, output_ms: str, *, target_columns=_DEFAULT_TARGET_COLUMNS,
                         overwrite: bool = False, engine_type: str = "BP4",
                         engine_params: Optional[dict] = None, adios2_xml: Optional[str] = None,
                         taql: Optional[str] = None) -> str:
    """Copy ``input_ms`` to ``output_ms`` with its data columns in Adios2StMan."""
    _refuse(target_columns=target_columns, engine_type=engine_type, engine_params=engine_params,
            adios2_xml=adios2_xml, taql=taql)
    if os.path.exists(output_ms):
        if not overwrite:
            raise FileExistsError(f"{output_ms} exists (overwrite=True replaces it)")
        shutil.rmtree(output_ms)
    return _native.convert_ms_to_adios2(str(input_ms), str(output_ms))


def split_and_convert_ms_to_adios2(input_ms: str, output_dir: str, *, nparts: int = 2,
                                   target_columns=_DEFAULT_TARGET_COLUMNS, overwrite: bool = False,
                                   engine_type: str = "BP4", engine_params: Optional[dict] = None,
                                   adios2_xml: Optional[str] = None) -> list:
    """Split ``input_ms`` into ``nparts`` MSs of consecutive rows in ``output_dir``, each
    converted (the seed splits by spectral window; pclean by rows)."""
    _refuse(target_columns=target_columns, engine_type=engine_type, engine_params=engine_params,
            adios2_xml=adios2_xml)
    if overwrite and os.path.isdir(output_dir):
        shutil.rmtree(output_dir)
    return _native.split_and_convert_ms_to_adios2(str(input_ms), str(output_dir), int(nparts))
