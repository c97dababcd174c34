# Secondary build with node-gyp (`npx node-gyp rebuild`). The primary build
# is CMakeLists.txt via cmake-js; keep both source lists identical (a test
# checks it). Each SIMD level is its own static library so that only its
# translation unit gets the wider target flags. The benchmarks' probe module
# (native/bench/, semvec_bench.node) is built by CMakeLists.txt only.
{
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fvisibility=hidden", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y"],
    "cflags!": ["-fno-exceptions"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS",
                "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "include_dirs": ["native/core"]
  },
  "targets": [
    {
      "target_name": "semvec_avx2",
      "type": "static_library",
      "sources": ["native/core/distances_avx2.cpp", "native/core/encoder_kernels_avx2.cpp"],
      "cflags_cc": ["-mavx2", "-mfma"]
    },
    {
      "target_name": "semvec_avx512",
      "type": "static_library",
      "sources": ["native/core/distances_avx512.cpp", "native/core/encoder_kernels_avx512.cpp"],
      "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"]
    },
    {
      "target_name": "semvec",
      "dependencies": ["semvec_avx2", "semvec_avx512"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "sources": [
        "native/core/allow_mask.cpp",
        "native/core/buffer.cpp",
        "native/core/crc32c.cpp",
        "native/core/dispatch.cpp",
        "native/core/distances_scalar.cpp",
        "native/core/encoder.cpp",
        "native/core/encoder_kernels_scalar.cpp",
        "native/core/errors.cpp",
        "native/core/file_format.cpp",
        "native/core/file_lock.cpp",
        "native/core/file_mapping.cpp",
        "native/core/file_payload.cpp",
        "native/core/file_sections.cpp",
        "native/core/flat_index.cpp",
        "native/core/flat_index_io.cpp",
        "native/core/graph_build.cpp",
        "native/core/graph_codes.cpp",
        "native/core/graph_filter.cpp",
        "native/core/graph_index.cpp",
        "native/core/graph_index_io.cpp",
        "native/core/graph_partition.cpp",
        "native/core/graph_layers.cpp",
        "native/core/graph_prune.cpp",
        "native/core/graph_repair.cpp",
        "native/core/graph_search.cpp",
        "native/core/graph_store.cpp",
        "native/core/id_assignment.cpp",
        "native/core/id_table.cpp",
        "native/core/ivf_index.cpp",
        "native/core/ivf_index_io.cpp",
        "native/core/ivf_index_v3.cpp",
        "native/core/ivf_list.cpp",
        "native/core/ivf_search.cpp",
        "native/core/kmeans.cpp",
        "native/core/metric.cpp",
        "native/core/packed_store.cpp",
        "native/core/query_preparation.cpp",
        "native/core/rabitq.cpp",
        "native/core/quantized_linear.cpp",
        "native/core/row_store.cpp",
        "native/core/rq_scan.cpp",
        "native/core/rw_lock.cpp",
        "native/core/scan.cpp",
        "native/core/search_results.cpp",
        "native/core/similarity_matrix.cpp",
        "native/core/sq8.cpp",
        "native/core/sq8_scan.cpp",
        "native/core/temp_files.cpp",
        "native/core/thread_pool.cpp",
        "native/core/vectors.cpp",
        "native/binding/addon.cpp",
        "native/binding/async_progress.cpp",
        "native/binding/constants.cpp",
        "native/binding/encoder_wrap.cpp",
        "native/binding/errors.cpp",
        "native/binding/flat_index_wrap.cpp",
        "native/binding/graph_index_wrap.cpp",
        "native/binding/ivf_index_wrap.cpp",
        "native/binding/kmeans_binding.cpp"
      ]
    }
  ]
}
