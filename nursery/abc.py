"""Abstract base classes: what a clock and an instrument must provide."""

from ._core._abc import Clock as Clock
from ._core._abc import Instrument as Instrument
