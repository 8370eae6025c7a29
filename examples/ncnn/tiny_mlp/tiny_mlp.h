// TinyMlp: converted from tiny_mlp.onnx (sha256 ef560417571ee6d98ec37ab930da6b27ca2eefd0f97d4203fe62b7edbc9be7f5, opset 17) by transpiler 0.1.0.
//
// A small C++ class around ncnn::Net for this model. Inputs and outputs are ncnn::Mat in ncnn's
// batch-less layout (see tiny_mlp.io.json for the ONNX shape each one stands for).
#ifndef TINY_MLP_H
#define TINY_MLP_H

#include <ncnn/net.h>

// Blob and layer indices in tiny_mlp.param (as ncnn2mem makes them).
namespace tiny_mlp_param_id {
const int LAYER_input = 0;
const int LAYER_fc1_Gemm = 1;
const int LAYER_fc2_Gemm = 2;
const int LAYER_Gelu = 3;
const int LAYER_fc3_Gemm = 4;
const int LAYER_Softmax = 5;
const int BLOB_input = 0;
const int BLOB_Relu = 1;
const int BLOB_fc2_Gemm = 2;
const int BLOB_Gelu = 3;
const int BLOB_fc3_Gemm = 4;
const int BLOB_Softmax = 5;
} // namespace

class TinyMlp
{
public:
    struct Outputs
    {
        ncnn::Mat probs; // probs: ncnn shape [10] (ONNX [1, 10])
    };

    TinyMlp();

    // Load tiny_mlp.param and tiny_mlp.bin; returns 0 on success.
    int load(const char* param_path, const char* bin_path);

    // Run the network; returns 0 on success.
    // input: input, ncnn shape [64] (ONNX [1, 64])
    int run(const ncnn::Mat& input, Outputs& outputs) const;

    ncnn::Net& net() { return net_; }

private:
    ncnn::Net net_;
};

#endif // TINY_MLP_H
