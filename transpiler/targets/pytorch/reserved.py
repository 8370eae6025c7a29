"""Names a generated PyTorch file must never hand out to its own attributes or locals."""

# nn.Module's own attributes: a generated submodule or weight must never shadow one.
NN_MODULE_ATTRS = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
    named_parameters parameters register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
    zero_grad""".split()
)
# Names the generated file itself uses at module level.
FILE_NAMES = frozenset({"torch", "nn", "F", "math", "np", "os", "Path", "load_file", "load_model", "self"})
