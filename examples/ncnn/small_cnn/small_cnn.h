// SmallCnn: converted from small_cnn.onnx (sha256 79822af1c471c9c023a33765de60be984c10f2bfaa88dddff2fa1917b531cd26, opset 17) by transpiler 0.1.0.
//
// A small C++ class around ncnn::Net for this model. Inputs and outputs are ncnn::Mat in ncnn's
// batch-less layout (see small_cnn.io.json for the ONNX shape each one stands for).
#ifndef SMALL_CNN_H
#define SMALL_CNN_H

#include <ncnn/net.h>

// Blob and layer indices in small_cnn.param (as ncnn2mem makes them).
namespace small_cnn_param_id {
const int LAYER_input = 0;
const int LAYER_features_conv1_Conv = 1;
const int LAYER_features_bn1_BatchNormalization = 2;
const int LAYER_relu1_Relu = 3;
const int LAYER_pool_MaxPool = 4;
const int LAYER_features_conv2_Conv = 5;
const int LAYER_features_bn2_BatchNormalization = 6;
const int LAYER_relu2_Relu = 7;
const int LAYER_pool_GlobalAveragePool = 8;
const int LAYER_classifier_Gemm = 9;
const int BLOB_input = 0;
const int BLOB_features_conv1_Conv = 1;
const int BLOB_features_bn1_BatchNormalization = 2;
const int BLOB_relu1_Relu = 3;
const int BLOB_pool_MaxPool = 4;
const int BLOB_features_conv2_Conv = 5;
const int BLOB_features_bn2_BatchNormalization = 6;
const int BLOB_relu2_Relu = 7;
const int BLOB_pool_GlobalAveragePool = 8;
const int BLOB_classifier_Gemm = 9;
} // namespace

class SmallCnn
{
public:
    struct Outputs
    {
        ncnn::Mat logits; // logits: ncnn shape [10] (ONNX [1, 10])
    };

    SmallCnn();

    // Load small_cnn.param and small_cnn.bin; returns 0 on success.
    int load(const char* param_path, const char* bin_path);

    // Run the network; returns 0 on success.
    // input: input, ncnn shape [3, 16, 16] (ONNX [1, 3, 16, 16])
    int run(const ncnn::Mat& input, Outputs& outputs) const;

    ncnn::Net& net() { return net_; }

private:
    ncnn::Net net_;
};

#endif // SMALL_CNN_H
