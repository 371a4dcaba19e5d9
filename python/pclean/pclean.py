"""The seed's module path of the entry point: ``from pclean.pclean import pclean`` (the same
function as ``pclean.pclean``, pclean's engine behind it; see ``pclean.api``)."""
from .api import pclean

__all__ = ["pclean"]
