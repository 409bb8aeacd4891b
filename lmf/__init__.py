"""lmf — reference companion to "LMFLOSS: a hybrid loss for imbalanced medical image classification".

Sadi et al. (the LMF paper) combine the label-distribution-aware margin (LDAM) loss with the focal
loss. This package holds the losses, datasets, training engine, sweeps and figure code that the
numbered notebooks in ``notebooks/`` call. Importing it pins the CPU numerics first
(``lmf.numerics``), before torch or NumPy load.
"""

from lmf.numerics import pin as _pin_numerics

_pin_numerics()

__version__ = "0.1.0"
