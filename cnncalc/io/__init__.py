"""Bridges between cnncalc's IR and the frameworks: one module per format.

`frameworks` is the one table from layer kind to PyTorch module and Keras layer; the code
writers (`pytorch_code`, `keras_code`) print it as source, and `cnncalc.reference.torch_model`
builds live modules from it. Nothing here imports a framework.
"""
