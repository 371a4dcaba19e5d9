//! pclean-engine
