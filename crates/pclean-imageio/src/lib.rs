//! pclean-imageio
