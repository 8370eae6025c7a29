// TinyMlp: converted from tiny_mlp.onnx (sha256 ef560417571ee6d98ec37ab930da6b27ca2eefd0f97d4203fe62b7edbc9be7f5, opset 17) by transpiler 0.1.0.
#include "tiny_mlp.h"

TinyMlp::TinyMlp()
{
    // fp32 storage and arithmetic: the results match the ONNX model (fp16/bf16 would round).
    net_.opt.use_vulkan_compute = false;
    net_.opt.use_fp16_storage = false;
    net_.opt.use_fp16_packed = false;
    net_.opt.use_fp16_arithmetic = false;
    net_.opt.use_bf16_storage = false;
}

int TinyMlp::load(const char* param_path, const char* bin_path)
{
    int ret = net_.load_param(param_path);
    if (ret != 0)
        return ret;
    return net_.load_model(bin_path);
}

int TinyMlp::run(const ncnn::Mat& input, Outputs& outputs) const
{
    ncnn::Extractor ex = net_.create_extractor();
    int ret = 0;
    ret = ex.input(tiny_mlp_param_id::BLOB_input, input);
    if (ret != 0)
        return ret;
    ret = ex.extract(tiny_mlp_param_id::BLOB_Softmax, outputs.probs);
    if (ret != 0)
        return ret;
    return 0;
}
