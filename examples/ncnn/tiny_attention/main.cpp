// TinyAttention: converted from tiny_attention.onnx (sha256 91f796b1fb1bad2df66f790183660cb774699445b2d121dfd23686dfbe96c6dc, opset 17) by transpiler 0.1.0.
//
// Usage: main [--model DIR] [--out DIR] [--repeat N] input.raw
//   Each input file holds the raw little-endian float32 values in
//   ONNX order; each output is written to DIR/<name>.raw as float32. --repeat N times N runs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tiny_attention.h"

static bool read_raw(const char* path, std::vector<unsigned char>& data, size_t bytes)
{
    FILE* f = fopen(path, "rb");
    if (!f)
        return false;
    data.resize(bytes);
    size_t n = fread(data.data(), 1, bytes, f);
    bool ok = n == bytes && fgetc(f) == EOF;
    fclose(f);
    return ok;
}

// An ncnn::Mat of the given batch-less shape (outermost first) filled from packed data.
static ncnn::Mat make_mat(const std::vector<int>& shape, const unsigned char* data)
{
    ncnn::Mat m;
    if (shape.size() == 1)
        m.create(shape[0], (size_t)4u);
    else if (shape.size() == 2)
        m.create(shape[1], shape[0], (size_t)4u);
    else if (shape.size() == 3)
        m.create(shape[2], shape[1], shape[0], (size_t)4u);
    else
        m.create(shape[3], shape[2], shape[1], shape[0], (size_t)4u);
    size_t plane = (size_t)m.w * m.h * m.d * 4u;
    for (int q = 0; q < m.c; q++)
        memcpy(m.channel(q).data, data + plane * q, plane);
    return m;
}

static bool write_mat(const std::string& path, const ncnn::Mat& m)
{
    FILE* f = fopen(path.c_str(), "wb");
    if (!f)
        return false;
    size_t plane = (size_t)m.w * m.h * m.d;
    bool ok = true;
    for (int q = 0; q < m.c; q++)
        ok = ok && fwrite(m.channel(q).data, 4u, plane, f) == plane;
    return fclose(f) == 0 && ok;
}

int main(int argc, char** argv)
{
    std::string model_dir = ".";
    std::string out_dir = ".";
    int repeat = 1;
    std::vector<const char*> files;
    for (int i = 1; i < argc; i++)
    {
        std::string arg = argv[i];
        if (arg == "--model" && i + 1 < argc)
            model_dir = argv[++i];
        else if (arg == "--out" && i + 1 < argc)
            out_dir = argv[++i];
        else if (arg == "--repeat" && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            files.push_back(argv[i]);
    }
    if (files.size() != 1 || repeat < 1)
    {
        fprintf(stderr, "usage: %s [--model DIR] [--out DIR] [--repeat N] input.raw\n", argv[0]);
        return 2;
    }

    TinyAttention model;
    if (model.load((model_dir + "/tiny_attention.param").c_str(), (model_dir + "/tiny_attention.bin").c_str()) != 0)
    {
        fprintf(stderr, "cannot load the model\n");
        return 1;
    }

    const std::vector<int> shape_0 = { 6, 16 };
    std::vector<unsigned char> data_0;
    if (!read_raw(files[0], data_0, 6 * 16 * 4u))
    {
        fprintf(stderr, "%s: expected 6 * 16 4-byte values\n", files[0]);
        return 1;
    }
    ncnn::Mat input = make_mat(shape_0, data_0.data());

    TinyAttention::Outputs outputs;
    auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < repeat; r++)
    {
        if (model.run(input, outputs) != 0)
        {
            fprintf(stderr, "inference failed\n");
            return 1;
        }
    }
    auto stop = std::chrono::steady_clock::now();
    if (repeat > 1)
        fprintf(stderr, "%.3f ms per run\n", std::chrono::duration<double, std::milli>(stop - start).count() / repeat);

    if (!write_mat(out_dir + "/output.raw", outputs.output))
    {
        fprintf(stderr, "cannot write output.raw\n");
        return 1;
    }
    return 0;
}
