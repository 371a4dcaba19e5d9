"""The seed's ``pclean.utils``: memory estimates, cube partitioning, image concatenation and the
ADIOS2 storage checks, on pclean's engine and tools (``pclean._native``)."""
