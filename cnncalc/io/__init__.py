"""Bridges between cnncalc's IR and the frameworks: one module per format.

`frameworks` is the one table from layer kind to PyTorch module and Keras layer; the code
writers (`pytorch_code`, `keras_code`) print it as source, and `cnncalc.reference.torch_model`
builds live modules from it. The readers (`onnx_reader`, `torch_fx`, `keras_reader`) turn
model files into a `Network`, `structure` recovers blocks and `spec_writer` writes the YAML.
Nothing here imports a framework at module level.
"""
