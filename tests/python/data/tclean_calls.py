"""tclean keyword calls copied from CASA's documentation, CASA Guides, ALMA pipeline logs
(casa_commands.log) and public imaging scripts, for tests/python/test_tclean_calls.py.

Each entry: ``name``, ``source`` (where the call was copied from), ``ms`` (the bundled MS the
call is pointed at: ``ngc5921`` = VLA L band, one field, 63 channels at 1.413 GHz; ``alma`` =
alma_small.ms, ALMA 230 GHz, 16 channels, field TARGET, scan 1, intent
OBSERVE_TARGET.ON_SOURCE), ``remap`` (what was changed and why), ``kw`` (the call, as in the
source except for ``remap``; ``vis`` and ``imagename`` are always replaced by the test), and
``before`` (optional: a call whose products the pipeline copies to this call's name first, as
casa_commands.log shows: iter0's .psf/.residual/.sumwt/.pb become iter1's).

Remaps only change data-specific values (MS names, field/spw/scan/antenna ids, intents,
frequencies, phase centres) to what the bundled data holds, and shrink what would make the test
slow (imsize, niter), keeping every parameter's kind: a per-MS list stays a per-MS list (the
bundled MS given twice), a frequency stays a frequency, a sexagesimal ICRS direction stays one.
Every other parameter and value is the source's, including the ones pclean does not implement:
the test checks those are refused up front, naming the parameter and the value.
"""

PIPE_2016 = ("ALMA pipeline log, 2016.1.00023.S, hif_makeimages (calibrator imaging): "
             "https://github.com/astropenguin/2016.1.00023.S-qa/blob/"
             "8f3406d872f474c424d0e7a82f9cc9ffd57cb687/casa_commands.log")
PIPE_2017 = ("ALMA pipeline log, 2017.1.00685.S, hif_makeimages (bandpass calibrator): "
             "https://github.com/astropenguin/2017.1.00685.S-qa/blob/"
             "8535fef724dd40ca8d0c21abd0e7aa1a8aa3e8ac/casa_commands.log")
STK = ("CASA's ALMA-pipeline stakeholder test (the pipeline's iter0/iter1 calls), test_standard_cube: "
       "https://github.com/pkgw/casa6/blob/3762509fcc2f447f1abc925ab71a58aa83a7ff73/"
       "casatests/stakeholder/test_stk_alma_pipeline_imaging.py")
CASADOCS = ("CASA Docs, tclean task page, Examples: https://casadocs.readthedocs.io/en/stable/api/tt/"
            "casatasks.imaging.tclean.html (source: https://github.com/casangi/casadocs/blob/"
            "050bcca08b7257ccfd987f96cec8dd1912eafa61/docs/tasks/task_tclean.rst)")

# The ALMA pipeline's remap onto alma_small.ms (one MS: per-MS lists become two entries, the MS
# given twice; field/spw/scan/intent/phase centre are alma_small's; the ICRS direction keeps the
# pipeline's 'hh:mm:ss.ssss -ddd.mm.ss.sss' form).
ALMA_PC = "ICRS 16:00:00.0000 -030.00.00.000"
ALMA_INTENT = "OBSERVE_TARGET*"  # alma_small's OBS_MODE is OBSERVE_TARGET.ON_SOURCE

CALLS = [
    # ---------------------------------------------------------------- ALMA pipeline logs
    dict(name="pipeline2016_phasecal_iter0", source=PIPE_2016, ms="alma", nvis=2,
         remap="vis: 8 EBs -> alma_small twice (per-MS lists kept, 2 entries); scan lists -> '1'; "
               "spw '22' -> '0'; field J0239-0234 -> TARGET; intent CALIBRATE_PHASE#ON_SOURCE -> "
               "OBSERVE_TARGET*; phasecenter -> alma_small's centre; imsize 300 -> 64",
         kw=dict(phasecenter=ALMA_PC, scan=["1", "1"], spw=["0", "0"], weighting="briggs",
                 lownoisethreshold=3.0, threshold="0.0mJy", sidelobethreshold=2.0, imsize=[64, 64],
                 npixels=0, niter=0, negativethreshold=0.0, cell=["0.019arcsec"], field="TARGET",
                 outframe="LSRK", gridder="standard", growiterations=75, datacolumn="corrected",
                 savemodel="none", restoration=False, intent=ALMA_INTENT, robust=0.5,
                 usemask="auto-multithresh", parallel=False, stokes="I", minbeamfrac=0.1, nchan=-1,
                 deconvolver="hogbom", noisethreshold=7.0, pbcor=False, pblimit=0.2,
                 restoringbeam="common", specmode="mfs", chanchunks=-1, interactive=0)),
    dict(name="pipeline2016_phasecal_iter1", source=PIPE_2016, ms="alma", nvis=2,
         before="pipeline2016_phasecal_iter0",
         remap="as pipeline2016_phasecal_iter0; niter 20000000 -> 30",
         kw=dict(phasecenter=ALMA_PC, scan=["1", "1"], spw=["0", "0"], weighting="briggs",
                 lownoisethreshold=3.0, threshold="0.000238725208891Jy", sidelobethreshold=2.0,
                 imsize=[64, 64], npixels=0, niter=30, negativethreshold=0.0, cell=["0.019arcsec"],
                 field="TARGET", outframe="LSRK", gridder="standard", growiterations=75,
                 datacolumn="corrected", savemodel="none", restoration=True, intent=ALMA_INTENT,
                 robust=0.5, usemask="auto-multithresh", calcpsf=False, restart=True, stokes="I",
                 minbeamfrac=0.1, nchan=-1, deconvolver="hogbom", noisethreshold=7.0, pbcor=True,
                 calcres=False, pblimit=0.2, restoringbeam="common", specmode="mfs",
                 parallel=False, chanchunks=-1, interactive=0)),
    dict(name="pipeline2017_bandpass_iter0", source=PIPE_2017, ms="alma", nvis=1,
         remap="vis -> alma_small; field J0006-0623 -> TARGET; spw '22' -> '0'; antenna list "
               "'0,...,48' -> '0,...,40' (alma_small has 43); scan '3' -> '1'; intent "
               "CALIBRATE_BANDPASS#ON_SOURCE -> OBSERVE_TARGET*; phasecenter -> alma_small's; "
               "imsize 300 -> 64",
         kw=dict(field="TARGET", spw=["0"], antenna=[",".join(str(i) for i in range(41))],
                 scan=["1"], intent=ALMA_INTENT, datacolumn="corrected", imsize=[64, 64],
                 cell=["0.047arcsec"], phasecenter=ALMA_PC, stokes="I", specmode="mfs", nchan=-1,
                 outframe="LSRK", gridder="standard", chanchunks=-1, usepointing=False,
                 mosweight=False, pblimit=0.2, deconvolver="hogbom", restoration=False,
                 restoringbeam="common", pbcor=False, weighting="briggs", robust=0.5, niter=0,
                 threshold="0.0mJy", interactive=0, usemask="auto-multithresh",
                 sidelobethreshold=2.0, noisethreshold=7.0, lownoisethreshold=3.0,
                 negativethreshold=0.0, minbeamfrac=0.1, growiterations=75, dogrowprune=True,
                 minpercentchange=1.0, savemodel="none", parallel=False)),
    dict(name="pipeline2017_bandpass_iter1", source=PIPE_2017, ms="alma", nvis=1,
         before="pipeline2017_bandpass_iter0",
         remap="as pipeline2017_bandpass_iter0; niter 40000000 -> 30",
         kw=dict(field="TARGET", spw=["0"], antenna=[",".join(str(i) for i in range(41))],
                 scan=["1"], intent=ALMA_INTENT, datacolumn="corrected", imsize=[64, 64],
                 cell=["0.047arcsec"], phasecenter=ALMA_PC, stokes="I", specmode="mfs", nchan=-1,
                 outframe="LSRK", gridder="standard", chanchunks=-1, usepointing=False,
                 mosweight=False, pblimit=0.2, deconvolver="hogbom", restoration=True,
                 restoringbeam="common", pbcor=True, weighting="briggs", robust=0.5, niter=30,
                 threshold="0.000996Jy", interactive=0, usemask="auto-multithresh",
                 sidelobethreshold=2.0, noisethreshold=7.0, lownoisethreshold=3.0,
                 negativethreshold=0.0, minbeamfrac=0.1, growiterations=75, dogrowprune=True,
                 minpercentchange=1.0, restart=True, savemodel="none", calcres=False,
                 calcpsf=False, parallel=False)),
    dict(name="stakeholder_standard_cube_iter0", source=STK, ms="alma", nvis=1,
         remap="field '1' -> '0'; scan '8,12,16' -> '1'; intent -> OBSERVE_TARGET*; phasecenter -> "
               "alma_small's; nchan 508, start 220.2526743594GHz, width 0.2441741MHz -> 6, "
               "230.001GHz, 1.0MHz (alma_small's band); parallel=self.parallel -> False",
         kw=dict(field="0", spw=["0"], imsize=[80, 80], antenna=["0,1,2,3,4,5,6,7,8"], scan=["1"],
                 intent=ALMA_INTENT, datacolumn="data", cell=["1.1arcsec"], phasecenter=ALMA_PC,
                 stokes="I", specmode="cube", nchan=6, start="230.001GHz", width="1.0MHz",
                 outframe="LSRK", pblimit=0.2, perchanweightdensity=False, gridder="standard",
                 mosweight=False, deconvolver="hogbom", usepointing=False, restoration=False,
                 pbcor=False, weighting="briggs", restoringbeam="common", robust=0.5, npixels=0,
                 niter=0, threshold="0.0mJy", nsigma=0.0, usemask="auto-multithresh",
                 sidelobethreshold=1.25, noisethreshold=5.0, lownoisethreshold=2.0,
                 negativethreshold=0.0, minbeamfrac=0.1, growiterations=75, dogrowprune=True,
                 minpercentchange=1.0, fastnoise=False, savemodel="none", parallel=False,
                 verbose=True)),
    dict(name="stakeholder_standard_cube_iter1", source=STK, ms="alma", nvis=1,
         before="stakeholder_standard_cube_iter0",
         remap="as stakeholder_standard_cube_iter0; niter 20000 -> 20",
         kw=dict(field="0", spw=["0"], imsize=[80, 80], antenna=["0,1,2,3,4,5,6,7,8"], scan=["1"],
                 intent=ALMA_INTENT, datacolumn="data", cell=["1.1arcsec"], phasecenter=ALMA_PC,
                 stokes="I", specmode="cube", nchan=6, start="230.001GHz", width="1.0MHz",
                 outframe="LSRK", perchanweightdensity=False, usepointing=False, pblimit=0.2,
                 nsigma=0.0, gridder="standard", mosweight=False, deconvolver="hogbom",
                 restoringbeam="common", restoration=True, pbcor=True, weighting="briggs",
                 robust=0.5, npixels=0, niter=20, threshold="0.354Jy", usemask="auto-multithresh",
                 sidelobethreshold=1.25, noisethreshold=5.0, lownoisethreshold=2.0,
                 negativethreshold=0.0, minbeamfrac=0.1, growiterations=75, dogrowprune=True,
                 minpercentchange=1.0, fastnoise=False, restart=True, calcres=False, calcpsf=False,
                 savemodel="none", parallel=False, verbose=True)),
    dict(name="stakeholder_standard_cube_pcwdT_iter0",
         source=STK.replace("test_standard_cube", "test_standard_cube_pcwdT"), ms="alma", nvis=1,
         remap="as stakeholder_standard_cube_iter0",
         kw=dict(field="0", spw=["0"], imsize=[80, 80], antenna=["0,1,2,3,4,5,6,7,8"], scan=["1"],
                 intent=ALMA_INTENT, datacolumn="data", cell=["1.1arcsec"], phasecenter=ALMA_PC,
                 stokes="I", specmode="cube", nchan=6, start="230.001GHz", width="1.0MHz",
                 outframe="LSRK", pblimit=0.2, perchanweightdensity=True, gridder="standard",
                 mosweight=False, deconvolver="hogbom", usepointing=False, restoration=False,
                 pbcor=False, weighting="briggs", restoringbeam="common", robust=0.5, npixels=0,
                 niter=0, threshold="0.0mJy", nsigma=0.0, usemask="auto-multithresh",
                 sidelobethreshold=1.25, noisethreshold=5.0, lownoisethreshold=2.0,
                 negativethreshold=0.0, minbeamfrac=0.1, growiterations=75, dogrowprune=True,
                 minpercentchange=1.0, fastnoise=False, savemodel="none", parallel=False,
                 verbose=True)),
    # ---------------------------------------------------------------- CASA Docs examples
    dict(name="casadocs_hogbom_mfs", source=CASADOCS + " (Using Hogbom CLEAN on a single MFS image)",
         ms="ngc5921", nvis=1, remap="vis test.ms -> ngc5921",
         kw=dict(imsize=100, cell="10.0arcsec", specmode="mfs", deconvolver="hogbom",
                 gridder="standard", weighting="natural", niter=100)),
    dict(name="casadocs_multiscale_cube_mosaic",
         source=CASADOCS + " (Using Multi-scale CLEAN on a Cube Mosaic image)", ms="ngc5921",
         nvis=1, remap="vis test.ms -> ngc5921; start 1.0GHz -> 1.4127GHz (the data's band)",
         kw=dict(imsize=100, cell="10.0arcsec", specmode="cube", nchan=10, start="1.4127GHz",
                 width="10MHz", deconvolver="multiscale", scales=[0, 3, 10, 30], gridder="mosaic",
                 pblimit=0.1, weighting="natural", niter=100)),
    dict(name="casadocs_wproject_mtmfs",
         source=CASADOCS + " (Using W-Projection with Multi-Term MFS wideband imaging)",
         ms="ngc5921", nvis=1, remap="vis test.ms -> ngc5921",
         kw=dict(imsize=100, cell="10.0arcsec", deconvolver="mtmfs", reffreq="1.5GHz", nterms=2,
                 gridder="wproject", wprojplanes=64, weighting="natural", niter=100)),
    dict(name="casadocs_automask", source=CASADOCS + " (Using automasking with any type of image)",
         ms="ngc5921", nvis=1,
         remap="vis test.ms -> ngc5921; the elided '....' filled with the first example's imsize/cell",
         kw=dict(niter=100, imsize=100, cell="10.0arcsec", usemask="auto-multithresh")),
    dict(name="casadocs_psf_pb_only", source=CASADOCS + " (Development: Make PSF and PB)",
         ms="ngc5921", nvis=1, remap="vis test.ms -> ngc5921 (the page's unterminated cell string closed)",
         kw=dict(imsize=100, cell="10.0arcsec", niter=0)),
    dict(name="casadocs_ephemeris_jupiter",
         source=CASADOCS + " (Using tclean with ephemerides tables: a known solar-system object)",
         ms="alma", nvis=2,
         remap="vis 4 EBs -> alma_small twice (spw list kept, 2 entries, '17,19,21,23' -> '0'); "
               "field Jupiter -> TARGET; intent -> OBSERVE_TARGET*; imsize 700 -> 64",
         kw=dict(selectdata=True, field="TARGET", spw=["0", "0"], intent=ALMA_INTENT,
                 datacolumn="corrected", imsize=[64, 64], cell=["0.16arcsec"],
                 phasecenter="JUPITER", stokes="I")),
    dict(name="casadocs_trackfield",
         source=CASADOCS + " (Using tclean with ephemerides: phasecenter='TRACKFIELD')",
         ms="alma", nvis=2,
         remap="vis 5 MSs -> alma_small twice (spw list kept, 2 entries); field DES_DEEDEE -> "
               "TARGET; intent -> OBSERVE_TARGET*; imsize 2000 -> 64",
         kw=dict(selectdata=True, field="TARGET", spw=["0", "0"], intent=ALMA_INTENT,
                 datacolumn="data", imsize=[64, 64], cell=["0.037arcsec"],
                 phasecenter="TRACKFIELD", stokes="I")),
    # ---------------------------------------------------------------- CASA Guides
    dict(name="casaguide_vla_selfcal",
         source="CASA Guides, VLA Self-calibration Tutorial (CASA 5.7.0): https://casaguides.nrao.edu/"
                "index.php?diff=next&oldid=28818&title=VLA_Self-calibration_Tutorial-CASA5.7.0",
         ms="ngc5921", nvis=1, remap="vis obj.ms -> ngc5921; imsize 900 -> 64",
         kw=dict(datacolumn="data", imsize=64, cell="0.2arcsec", pblimit=-0.1, gridder="standard",
                 deconvolver="mtmfs", nterms=2, niter=1000, interactive=True, weighting="briggs",
                 robust=0, savemodel="modelcolumn")),
    dict(name="casaguide_twhya_selfcal_first_image",
         source="CASA Guides, First Look at Self Calibration (CASA 6.5.4): https://casaguides.nrao.edu/"
                "index.php/First_Look_at_Self_Calibration_CASA_6.5.4",
         ms="alma", nvis=1, remap="vis twhya_calibrated.ms -> alma_small; field '5' -> '0'; imsize 250 -> 64",
         kw=dict(field="0", spw="", specmode="mfs", deconvolver="hogbom", nterms=1, gridder="standard",
                 imsize=[64, 64], cell=["0.1arcsec"], weighting="natural", threshold="0mJy",
                 niter=5000, interactive=True, savemodel="modelcolumn")),
    # ---------------------------------------------------------------- public imaging scripts
    dict(name="w51_alma_longbaseline_mtmfs",
         source="https://github.com/keflavich/W51_ALMA_2013.1.00308.S/blob/HEAD/"
                "script_longbaseline_b3/scriptForImaging_big_may2021.py",
         ms="alma", nvis=1,
         remap="vis -> alma_small; field w51n -> TARGET; imsize 20000 -> 64; niter 200000 -> 50; "
               "mask cleanmask_north.crtf -> '' (a local region file)",
         kw=dict(field="TARGET", specmode="mfs", deconvolver="mtmfs", nterms=2, imsize=64,
                 cell="0.005arcsec", weighting="briggs", robust=0.0, niter=50, threshold="0.5mJy",
                 interactive=False, gridder="standard", pbcor=True, savemodel="none", mask="")),
    dict(name="m33_aca_custom_pipeline_cube",
         source="https://github.com/Astroua/M33_CO21_ACA_mapping/blob/HEAD/calibration/custom_imaging.py",
         ms="alma", nvis=1,
         remap="vis -> alma_small; field M33 -> TARGET; spw '20' -> '0'; scan list -> '1'; "
               "phasecenter -> alma_small's; imsize [280, 486] -> [64, 96]; niter 100000 -> 50",
         kw=dict(field="TARGET", spw=["0"], antenna=["0,1,2,3,4,5,6,7,8,9"], scan=["1"],
                 intent=ALMA_INTENT, datacolumn="corrected", imsize=[64, 96], cell=["1arcsec"],
                 phasecenter=ALMA_PC, stokes="I", specmode="cube", nchan=-1, start=1, width=1,
                 outframe="LSRK", gridder="mosaic", chanchunks=-1, usepointing=False,
                 mosweight=True, pblimit=0.2, deconvolver="multiscale", scales=[0, 7, 14],
                 restoration=True, restoringbeam="common", pbcor=False, weighting="briggs",
                 robust=0.5, niter=50, cycleniter=2000, nsigma=3., usemask="auto-multithresh",
                 sidelobethreshold=1., noisethreshold=3.0, lownoisethreshold=2.0,
                 negativethreshold=0.0, minbeamfrac=0.1, growiterations=75, dogrowprune=True,
                 minpercentchange=1.0, threshold="0.0mJy", interactive=0, savemodel="none",
                 parallel=False)),
    dict(name="w51_alma_taper_mosaic",
         source="https://github.com/keflavich/W51_ALMA_2013.1.00308.S/blob/HEAD/"
                "script_merge/taper_imaging_test.py",
         ms="alma", nvis=1,
         remap="vis -> alma_small; imsize 3072 -> 64; niter 10000 -> 50; phasecenter -> "
               "alma_small's centre in the script's 'J2000 hh:mm:ss +dd.mm.ss' form",
         kw=dict(field="", spw="", outframe="LSRK", interpolation="linear", gridder="mosaic",
                 scales=[0, 5, 15, 45, 135], interactive=False, niter=50, threshold="100mJy",
                 imsize=[64, 64], specmode="mfs", pblimit=0.5, cell="0.05arcsec",
                 phasecenter="J2000 16:00:00.000000 -30.00.00.0000", weighting="briggs",
                 robust=-2.0, uvrange="0~50m")),
    dict(name="vlass_awproject",
         source="https://github.com/erikvcarlson/URI_Astro/blob/HEAD/VLASS/tclean_iteration.py",
         ms="ngc5921", nvis=1, remap="vis VLASS2.1_Guide.ms -> ngc5921; imsize 16384 -> 64",
         kw=dict(datacolumn="data", imsize=[64, 64], cell=["40mas", "40mas"], gridder="awproject",
                 conjbeams=True, rotatepastep=5.0, pblimit=0.02, deconvolver="mtmfs", nterms=2,
                 smallscalebias=0.4, weighting="briggs", threshold="0.0mJy", interactive=True)),
    dict(name="arp240_findlines_cube",
         source="https://github.com/heh15/Arp240/blob/HEAD/NGC5257/12CO21/script/clean_findlines.py",
         ms="alma", nvis=1,
         remap="vis -> alma_small; field NGC_5257 -> TARGET; spw '1' -> '0'; phasecenter -> "
               "alma_small's in the script's 'J2000 13h39m52.922 0d50m24.1' form; imsize "
               "[320, 320] -> [64, 64]",
         kw=dict(phasecenter="J2000 16h00m00.000 -30d00m00.0", field="TARGET", specmode="cube",
                 outframe="BARY", width="40km/s", cell="0.3arcsec", imsize=[64, 64],
                 weighting="briggs", robust=0.5, deconvolver="hogbom", gridder="mosaic",
                 niter=None, threshold="0.0Jy", cyclefactor=1.0, pblimit=0.2, interactive=False,
                 spw="0")),
    dict(name="w51_vla_qband_continuum",
         source="https://github.com/keflavich/W51_VLA-16B-202/blob/HEAD/reduction/imaging_continuum_sb3.py",
         ms="ngc5921", nvis=1,
         remap="vis -> ngc5921; field W51e2w -> N5921_2; spw list of 50 -> '0'; imsize 2560 -> 64; "
               "cell '0.01 arcsec' -> '15 arcsec' (L band; the spaced-unit form kept); niter 10000 -> 50",
         kw=dict(field="N5921_2", spw="0", weighting="briggs", robust=0.0, imsize=[64, 64],
                 cell=["15 arcsec"], threshold="1.0 mJy", niter=50, gridder="standard",
                 specmode="mfs", outframe="LSRK", savemodel="none", selectdata=True)),
]
