def tree_leaves(
    x: torch.Tensor,
    roots: torch.Tensor,
    features: torch.Tensor,
    modes: torch.Tensor,
    splits: torch.Tensor,
    true_next: torch.Tensor,
    false_next: torch.Tensor,
    members: torch.Tensor | None = None,
    missing: torch.Tensor | None = None,
) -> torch.Tensor:
    """The leaf each row of x reaches in each tree (ONNX TreeEnsemble). Links >= 0 are nodes, -1 - i is leaf i;
    modes 0-6 test x <= split, <, >=, >, ==, != or membership in the node's row of `members`."""
    link = roots.expand(x.shape[0], -1).clone()  # [rows, trees]
    for _ in range(len(features)):  # no path is longer than the number of nodes
        active = link >= 0
        if not active.any():
            break
        node = link.clamp(min=0)
        v = x.gather(1, features[node])
        split = splits[node]
        tests = [v <= split, v < split, v >= split, v > split, v == split, v != split]
        if members is not None:
            tests.append((v.unsqueeze(-1) == members[node]).any(-1))
        go_true = torch.stack(tests, -1).gather(-1, modes[node].unsqueeze(-1)).squeeze(-1)
        if missing is not None:
            go_true |= missing[node] & v.isnan()
        link = torch.where(active, torch.where(go_true, true_next[node], false_next[node]), link)
    return -1 - link
