"""The tfdash agent: runs in the container, standard library only, Python 3.8+."""

__version__ = "0.1.0"
