def onnx_reshape(x: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
    """ONNX Reshape with a computed shape: 0 copies the input's dimension, -1 is inferred."""
    dims = [x.shape[i] if d == 0 else d for i, d in enumerate(shape.tolist())]
    return x.reshape(dims)
