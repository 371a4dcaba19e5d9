"""The seed's ``pclean.parallel`` package: its cluster manager, imagers, worker tasks and SLURM
submission, as thin layers over pclean's Dask driver (``pclean.distributed``) and engine."""
