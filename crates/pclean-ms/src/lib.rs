//! pclean-ms
