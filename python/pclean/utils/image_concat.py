"""The seed's image concatenation (``concat_images``, ``concat_subcubes``) on pclean's own
(``pclean concat``; crates/pclean-concat): casacore images joined along the spectral axis, as
casatools' ``ia.imageconcat`` does, without casatools.

``mode``: ``paged`` (a new CASA image, the default), ``nomovevirtual`` (casacore's virtual
concatenation referring to the inputs, which must stay), ``movevirtual`` (the same, with the
inputs moved inside it). The seed's deprecated ``virtual=`` argument still works (``True`` is
``nomovevirtual``, ``False`` ``paged``; an explicit ``mode`` wins) with a DeprecationWarning.

pclean's own cube runs write every channel straight into the final products: these are for
cubes made elsewhere (the seed's ``<base>.subcube.<i>.<ext>``, or ``worker_tasks.run_subcube``).
"""
from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Sequence

from .. import _native
from .partition import subcube_name

log = logging.getLogger(__name__)

MODES = ("paged", "nomovevirtual", "movevirtual")
DEFAULT_EXTENSIONS = (".image", ".residual", ".psf", ".model", ".pb", ".image.pbcor", ".mask",
                      ".weight", ".sumwt")


def _mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode={mode!r}: use one of {', '.join(MODES)}")
    return mode


def concat_images(outimage: str, inimages: Sequence[str], axis: int = -1, relax: bool = True,
                  overwrite: bool = True, mode: str = "paged") -> dict:
    """Concatenate ``inimages`` (in spectral order) into ``outimage``; returns pclean's report."""
    return _native.concat_images(str(outimage), [str(p) for p in inimages], axis=axis,
                                 relax=relax, overwrite=overwrite, mode=_mode(mode))


def concat_subcubes(base_imagename: str, nparts: int, extensions: Optional[list] = None,
                    mode: Optional[str] = None, max_workers: int = 4,
                    virtual: Optional[bool] = None, _pool_cls=None) -> Optional[dict]:
    """Join ``<base>.subcube.<i><ext>`` (i < ``nparts``) into ``<base><ext>`` for each extension
    whose sub-cubes exist (default: the standard products). Returns ``{ext: report}``, or
    ``None`` (with a warning) when no sub-cube exists. An extension with some parts missing, or
    one that fails, is an error after the others are done (a cube with a gap is never written).
    ``_pool_cls``: the executor class (the seed's test seam; default ThreadPoolExecutor: the
    engine releases the GIL)."""
    if virtual is not None:
        warnings.warn("concat_subcubes(virtual=...) is deprecated: pass mode='nomovevirtual' or "
                      "mode='paged'", DeprecationWarning, stacklevel=2)
        if mode is None:
            mode = "nomovevirtual" if virtual else "paged"
    mode = _mode(mode or "paged")
    work = []
    for ext in extensions or DEFAULT_EXTENSIONS:
        ext = ext if ext.startswith(".") else f".{ext}"
        parts = [f"{subcube_name(base_imagename, i)}{ext}" for i in range(nparts)]
        have = [p for p in parts if os.path.exists(p)]
        if have:
            work.append((ext, parts, [p for p in parts if p not in have]))
    if not work:
        log.warning("No subcube files found for concatenation (%s<ext>)",
                    subcube_name(base_imagename, 0))
        return None
    log.info("Concatenating %d extensions (nparts=%d, mode=%s)", len(work), nparts, mode)

    def one(item):
        ext, parts, missing = item
        if missing:
            raise FileNotFoundError(f"sub-cubes missing: {', '.join(missing)}")
        return concat_images(f"{base_imagename}{ext}", parts, mode=mode)

    # Virtual concatenations share catalog metadata: one at a time, as the seed.
    workers = 1 if mode != "paged" else max(1, min(int(max_workers), len(work)))
    reports, failed = {}, []
    with (_pool_cls or ThreadPoolExecutor)(workers) as pool:
        for (ext, _, _), fut in [(w, pool.submit(one, w)) for w in work]:
            try:
                reports[ext] = fut.result()
            except Exception as e:  # every extension is tried; the failures are raised together
                log.warning("Failed to concatenate %s: %s", ext, e)
                failed.append(f"{ext}: {e}")
    if failed:
        raise RuntimeError("concat_subcubes failed for " + "; ".join(failed))
    return reports
