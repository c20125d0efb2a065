"""cnncalc: what a convolutional network *is* — shapes, parameters, and more — from a spec.

>>> import cnncalc
>>> net = cnncalc.load("Conv4-5-Pvalid-S2,Pool3,FC5", input_shape=(64, 64, 1))
>>> cnncalc.analyze(net).totals.params
2590
"""

from cnncalc.design.sweep import sweep
from cnncalc.errors import CnncalcError, SourcePos, SpecError
from cnncalc.graph import Network, Node
from cnncalc.loader import load
from cnncalc.report import LayerReport, Report, analyze

__version__ = "0.1.0"

__all__ = [
    "CnncalcError",
    "LayerReport",
    "Network",
    "Node",
    "Report",
    "SourcePos",
    "SpecError",
    "__version__",
    "analyze",
    "load",
    "sweep",
]
