def non_max_suppression(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    max_per_class: int,
    iou_threshold: float,
    score_threshold: float | None = None,
    center_point_box: bool = False,
) -> torch.Tensor:
    """ONNX NonMaxSuppression: [batch, class, box] rows of the boxes kept, best first per class."""
    if center_point_box:  # [x_center, y_center, width, height]
        half = boxes[..., 2:] / 2
        lo, hi = boxes[..., :2] - half, boxes[..., :2] + half
    else:  # [y1, x1, y2, x2] with the corners in either order
        lo = torch.minimum(boxes[..., :2], boxes[..., 2:])
        hi = torch.maximum(boxes[..., :2], boxes[..., 2:])
    size = hi - lo
    area = size[..., 0] * size[..., 1]
    selected = []
    for b in range(scores.shape[0]):
        for c in range(scores.shape[1]):
            s = scores[b, c]
            order = torch.sort(s, descending=True, stable=True).indices  # ties: lower index first
            if score_threshold is not None:
                order = order[s[order] > score_threshold]
            kept = 0
            while order.numel() > 0 and kept < max_per_class:
                best, rest = order[0], order[1:]
                selected.append([b, c, int(best)])
                kept += 1
                # drop the remaining boxes that overlap the one just kept by more than the threshold
                inter_size = torch.minimum(hi[b, best], hi[b, rest]) - torch.maximum(lo[b, best], lo[b, rest])
                inter = inter_size[:, 0] * inter_size[:, 1]
                union = area[b, rest] + area[b, best] - inter
                overlaps = (
                    (inter_size > 0).all(1)
                    & (inter > 0)
                    & (area[b, rest] > 0)
                    & (area[b, best] > 0)
                    & (union > 0)
                    & (inter / union > iou_threshold)
                )
                order = rest[~overlaps]
    return torch.tensor(selected, dtype=torch.int64).reshape(-1, 3)
