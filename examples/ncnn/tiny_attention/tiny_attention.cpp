// TinyAttention: converted from tiny_attention.onnx (sha256 91f796b1fb1bad2df66f790183660cb774699445b2d121dfd23686dfbe96c6dc, opset 17) by transpiler 0.1.0.
#include "tiny_attention.h"

TinyAttention::TinyAttention()
{
    // fp32 storage and arithmetic: the results match the ONNX model (fp16/bf16 would round).
    net_.opt.use_vulkan_compute = false;
    net_.opt.use_fp16_storage = false;
    net_.opt.use_fp16_packed = false;
    net_.opt.use_fp16_arithmetic = false;
    net_.opt.use_bf16_storage = false;
}

int TinyAttention::load(const char* param_path, const char* bin_path)
{
    int ret = net_.load_param(param_path);
    if (ret != 0)
        return ret;
    return net_.load_model(bin_path);
}

int TinyAttention::run(const ncnn::Mat& input, Outputs& outputs) const
{
    ncnn::Extractor ex = net_.create_extractor();
    int ret = 0;
    ret = ex.input(tiny_attention_param_id::BLOB_input, input);
    if (ret != 0)
        return ret;
    ret = ex.extract(tiny_attention_param_id::BLOB_res2_Add, outputs.output);
    if (ret != 0)
        return ret;
    return 0;
}
