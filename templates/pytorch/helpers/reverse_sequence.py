def reverse_sequence(x: torch.Tensor, lengths: torch.Tensor, time_axis: int, batch_axis: int) -> torch.Tensor:
    """ONNX ReverseSequence: reverse the first lengths[b] steps along time_axis of batch entry b."""
    steps = torch.arange(x.shape[time_axis], device=x.device)
    lengths = lengths.long().unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # (batch, time) source step
    moved = x.movedim((batch_axis, time_axis), (0, 1))
    index = index.reshape(*index.shape, *[1] * (moved.dim() - 2)).expand_as(moved)
    return moved.gather(1, index).movedim((0, 1), (batch_axis, time_axis))
