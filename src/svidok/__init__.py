"""Svidok: a register of testimonies, crimes and suspects built to hold up in court."""

__version__ = "0.1.0"
__all__ = ["__version__"]
