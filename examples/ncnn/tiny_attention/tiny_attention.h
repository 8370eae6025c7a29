// TinyAttention: converted from tiny_attention.onnx (sha256 91f796b1fb1bad2df66f790183660cb774699445b2d121dfd23686dfbe96c6dc, opset 17) by transpiler 0.1.0.
//
// A small C++ class around ncnn::Net for this model. Inputs and outputs are ncnn::Mat in ncnn's
// batch-less layout (see tiny_attention.io.json for the ONNX shape each one stands for).
#ifndef TINY_ATTENTION_H
#define TINY_ATTENTION_H

#include <ncnn/net.h>

// Blob and layer indices in tiny_attention.param (as ncnn2mem makes them).
namespace tiny_attention_param_id {
const int LAYER_input = 0;
const int LAYER_splitncnn_input = 1;
const int LAYER_ln1_LayerNormalization = 2;
const int LAYER_splitncnn_ln1_LayerNormalization = 3;
const int LAYER_attn_q_Add = 4;
const int LAYER_attn_q_Add_reshape = 5;
const int LAYER_q_Transpose = 6;
const int LAYER_attn_k_Add = 7;
const int LAYER_attn_k_Add_reshape = 8;
const int LAYER_k_Transpose = 9;
const int LAYER_attn_v_Add = 10;
const int LAYER_attn_v_Add_reshape = 11;
const int LAYER_v_Transpose = 12;
const int LAYER_scores_MatMul = 13;
const int LAYER_scale_Mul = 14;
const int LAYER_attn_Softmax = 15;
const int LAYER_ctx_MatMul = 16;
const int LAYER_ctx_Transpose = 17;
const int LAYER_ctx_Transpose_reshape = 18;
const int LAYER_attn_proj_Add = 19;
const int LAYER_res1_Add = 20;
const int LAYER_splitncnn_res1_Add = 21;
const int LAYER_ln2_LayerNormalization = 22;
const int LAYER_mlp_fc1_Add = 23;
const int LAYER_gelu_Gelu = 24;
const int LAYER_mlp_fc2_Add = 25;
const int LAYER_res2_Add = 26;
const int BLOB_input = 0;
const int BLOB_input_splitncnn_0 = 1;
const int BLOB_input_splitncnn_1 = 2;
const int BLOB_ln1_LayerNormalization = 3;
const int BLOB_ln1_LayerNormalization_splitncnn_0 = 4;
const int BLOB_ln1_LayerNormalization_splitncnn_1 = 5;
const int BLOB_ln1_LayerNormalization_splitncnn_2 = 6;
const int BLOB_attn_q_Add = 7;
const int BLOB_attn_q_Add_reshape = 8;
const int BLOB_q_Transpose = 9;
const int BLOB_attn_k_Add = 10;
const int BLOB_attn_k_Add_reshape = 11;
const int BLOB_k_Transpose = 12;
const int BLOB_attn_v_Add = 13;
const int BLOB_attn_v_Add_reshape = 14;
const int BLOB_v_Transpose = 15;
const int BLOB_scores_MatMul = 16;
const int BLOB_scale_Mul = 17;
const int BLOB_attn_Softmax = 18;
const int BLOB_ctx_MatMul = 19;
const int BLOB_ctx_Transpose = 20;
const int BLOB_ctx_Transpose_reshape = 21;
const int BLOB_attn_proj_Add = 22;
const int BLOB_res1_Add = 23;
const int BLOB_res1_Add_splitncnn_0 = 24;
const int BLOB_res1_Add_splitncnn_1 = 25;
const int BLOB_ln2_LayerNormalization = 26;
const int BLOB_mlp_fc1_Add = 27;
const int BLOB_gelu_Gelu = 28;
const int BLOB_mlp_fc2_Add = 29;
const int BLOB_res2_Add = 30;
} // namespace

class TinyAttention
{
public:
    struct Outputs
    {
        ncnn::Mat output; // output: ncnn shape [6, 16] (ONNX [1, 6, 16])
    };

    TinyAttention();

    // Load tiny_attention.param and tiny_attention.bin; returns 0 on success.
    int load(const char* param_path, const char* bin_path);

    // Run the network; returns 0 on success.
    // input: input, ncnn shape [6, 16] (ONNX [1, 6, 16])
    int run(const ncnn::Mat& input, Outputs& outputs) const;

    ncnn::Net& net() { return net_; }

private:
    ncnn::Net net_;
};

#endif // TINY_ATTENTION_H
