"""Names Keras gives its own operations, which the generated file's layer and input names avoid.

Keras names every op it records in a functional model `<snake_case class name>[_N]` (N counts up
per process), and refuses a model in which two operations share a name: an input named `split`
clashes with the first `ops.split`. Listed from keras 3.15.1 (every Operation subclass).
"""

from __future__ import annotations

import re

AUTO_NAME_STEMS = frozenset(
    """
    abs absolute activation activity_regularization adaptive_average_pool
    adaptive_average_pooling1d adaptive_average_pooling2d adaptive_average_pooling3d
    adaptive_max_pool adaptive_max_pooling1d adaptive_max_pooling2d adaptive_max_pooling3d add
    additive_attention affine_transform all all_close alpha_dropout amax amin angle any append
    arange arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin argpartition
    argsort array array_split associative_scan attention aug_mix auto_contrast average
    average_pool average_pooling1d average_pooling2d average_pooling3d
    base_adaptive_average_pooling base_adaptive_max_pooling base_adaptive_pooling base_conv
    base_conv_transpose base_depthwise_conv base_global_pooling base_image_preprocessing_layer
    base_pooling base_separable_conv base_spatial_dropout batch_norm batch_normalization
    bidirectional binary_crossentropy bincount bitwise_and bitwise_invert bitwise_left_shift
    bitwise_not bitwise_or bitwise_right_shift bitwise_xor broadcast_to c_dist cast
    categorical_crossentropy category_encoding cbrt ceil celu center_crop cholesky
    cholesky_inverse clip concatenate cond conj conjugate
    contrast_limited_adaptive_histogram_equalization conv conv1d conv1d_transpose conv2d
    conv2d_transpose conv3d conv3d_transpose conv_lstm conv_lstm1d conv_lstm2d conv_lstm3d
    conv_lstm_cell conv_transpose convert_to_tensor copy corrcoef correlate cos cosh
    count_nonzero crop_images cropping1d cropping2d cropping3d cross ctc_decode ctc_loss cumprod
    cumsum cut_mix data_layer deg2rad dense depth_to_space depthwise_conv depthwise_conv1d
    depthwise_conv2d det diag diagflat diagonal diff digitize discretization distiller divide
    divide_no_nan dot dot_product_attention dropout dsplit dstack eig eigh einsum einsum_dense
    elastic_transform elu embedding empty_like equal equalization erf erfc erfinv exp exp2
    expand_dims expm1 extract_patches extract_sequences fabs fake_quant_with_min_max_vars
    feature_space fft fft2 flatten flip fliplr flipud floor floor_divide fmax fmin fmod fold
    fori_loop full full_like function functional gaussian_blur gaussian_dropout gaussian_noise
    gcd gelu geomspace get_item global_average_pooling1d global_average_pooling2d
    global_average_pooling3d global_max_pooling1d global_max_pooling2d global_max_pooling3d glu
    greater greater_equal group_normalization grouped_query_attention gru gru_cell hard_shrink
    hard_sigmoid hard_silu hard_tanh hashed_crossing hashing heaviside histogram hsplit hstack
    hsv_to_rgb hypot i0 identity ifft2 imag in_top_k index_lookup inner input_layer
    integer_lookup inv irfft is_in isclose isfinite isinf isnan isneginf isposinf isreal istft
    jvp kron lambda layer layer_norm layer_normalization lcm ldexp leaky_re_lu leaky_relu
    left_shift less less_equal linspace log log10 log1p log2 log_sigmoid log_softmax logaddexp
    logaddexp2 logdet logical_and logical_not logical_or logical_xor logspace logsumexp lstm
    lstm_cell lstsq lu_factor map map_coordinates masking matmul matrix_rank max
    max_num_bounding_boxes max_pool max_pooling1d max_pooling2d max_pooling3d maximum mean
    median mel_spectrogram merge meshgrid min minimum mish mix_up mod model moments moveaxis
    multi_head_attention multi_hot multiply nan_to_num nanargmax nanargmin nancumprod nancumsum
    nanmax nanmean nanmedian nanmin nanpercentile nanprod nanquantile nanstd nansum nanvar ndim
    negative nextafter nonzero norm normalization normalize not_equal one_hot ones_like
    operation outer p_re_lu pad pad_images percentile permute perspective_transform pinv
    pipeline polar power prod psnr ptp qr quantile rad2deg rand_augment random_brightness
    random_color_degeneration random_color_jitter random_contrast random_crop
    random_elastic_transform random_erasing random_flip random_gaussian_blur random_grayscale
    random_hue random_invert random_perspective random_posterization random_rotation
    random_saturation random_sharpness random_shear random_translation random_zoom ravel re_lu
    real rearrange reciprocal relu relu6 repeat repeat_vector rescaling reshape resize resizing
    reversible_embedding rfft rgb_to_grayscale rgb_to_hsv right_shift rms_norm rms_normalization
    rnn roll rot90 round rsqrt saturate_cast scale_and_translate scan scatter scatter_update
    search_sorted segment_max segment_min segment_prod segment_reduction segment_sum select selu
    separable_conv separable_conv1d separable_conv2d sequential sigmoid sign signbit silu
    simple_rnn simple_rnn_cell sin sinc sinh size slice slice_update slogdet sobel_edges
    soft_shrink softmax softplus softsign solarization solve solve_triangular sort
    space_to_depth sparse_categorical_crossentropy sparse_plus sparse_sigmoid sparsemax
    spatial_dropout1d spatial_dropout2d spatial_dropout3d spectral_normalization split sqrt
    square squareplus squeeze ssim stack stacked_rnn_cells std stft stft_spectrogram
    stop_gradient string_lookup subtract sum svd swapaxes switch take take_along_axis tan tanh
    tanh_shrink tensordot text_vectorization tfd_concat tfd_identity threshold tile
    time_distributed top_k trace transpose trapezoid tril triu true_divide trunc unfold unique
    unit_normalization unravel_index unstack up_sampling1d up_sampling2d up_sampling3d vander
    var vdot vectorized_map view view_as_complex view_as_real vsplit vstack where while_loop
    wrapper zero_padding1d zero_padding2d zero_padding3d zeros_like
    """.split()
)
_AUTO = re.compile(r"(.+?)(?:_\d+)?")


def looks_auto(name: str) -> bool:
    """Whether Keras could give one of its own operations this name."""
    m = _AUTO.fullmatch(name)
    return name in AUTO_NAME_STEMS or (m is not None and m.group(1) in AUTO_NAME_STEMS)
