"""A NumPy reference forward pass, kept apart from the analytic rules so it can catch them.

Like JAX's `lax_reference`, nothing here reads the analytic passes' formulas: every layer kind
has its own small NumPy implementation (`ops`), the network really runs forward on seeded
random weights (`forward`), the receptive field is measured from the data flow (`receptive`),
and `verify` compares all of it with `cnncalc.analyze()`.

NumPy is imported only by this package, and this package only when `cnncalc verify` (or the
Python API below) asks for it: the analytic commands never pay for it.
"""

from __future__ import annotations

from cnncalc.reference.verify import verify, verify_network
from cnncalc.reference.verify_result import VerifyResult

__all__ = ["VerifyResult", "verify", "verify_network"]
