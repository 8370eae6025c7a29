def tensor_to_strings(x: torch.Tensor) -> np.ndarray:
    """ONNX Cast to string: each number as numpy prints it (the shortest exact form), in an array
    of Python str."""
    return x.detach().cpu().numpy().astype(str).astype(object)
