def image_decode(data: torch.Tensor, pixel_format: str) -> torch.Tensor:
    """ONNX ImageDecoder: decode encoded image bytes (uint8) with Pillow into an [H, W, C] uint8 image."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data.numpy().tobytes()))
    if pixel_format == "Grayscale":
        pixels = np.array(image.convert("L"))[:, :, None]
    else:
        pixels = np.array(image.convert("RGB"))
        if pixel_format == "BGR":
            pixels = pixels[:, :, ::-1]
    return torch.from_numpy(np.ascontiguousarray(pixels))
