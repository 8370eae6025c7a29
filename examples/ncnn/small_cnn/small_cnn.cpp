// SmallCnn: converted from small_cnn.onnx (sha256 79822af1c471c9c023a33765de60be984c10f2bfaa88dddff2fa1917b531cd26, opset 17) by transpiler 0.1.0.
#include "small_cnn.h"

SmallCnn::SmallCnn()
{
    // fp32 storage and arithmetic: the results match the ONNX model (fp16/bf16 would round).
    net_.opt.use_vulkan_compute = false;
    net_.opt.use_fp16_storage = false;
    net_.opt.use_fp16_packed = false;
    net_.opt.use_fp16_arithmetic = false;
    net_.opt.use_bf16_storage = false;
}

int SmallCnn::load(const char* param_path, const char* bin_path)
{
    int ret = net_.load_param(param_path);
    if (ret != 0)
        return ret;
    return net_.load_model(bin_path);
}

int SmallCnn::run(const ncnn::Mat& input, Outputs& outputs) const
{
    ncnn::Extractor ex = net_.create_extractor();
    int ret = 0;
    ret = ex.input(small_cnn_param_id::BLOB_input, input);
    if (ret != 0)
        return ret;
    ret = ex.extract(small_cnn_param_id::BLOB_classifier_Gemm, outputs.logits);
    if (ret != 0)
        return ret;
    return 0;
}
