{
  "variables": { "opu_native_simd%": "on" },
  "targets": [
    {
      "target_name": "opu_native",
      "sources": [
        "src/runtime/addon.cc",
        "src/runtime/pool.cc",
        "src/linalg/sgemm.cc",
        "src/linalg/dense.cc",
        "src/optics/medium.cc",
        "src/optics/camera.cc",
        "src/training/elementwise.cc",
        "src/io/bindings.cc",
        "src/io/pty.cc",
        "src/io/cobs.cc"
      ],
      "include_dirs": ["src", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "conditions": [
        ["OS=='mac'", { "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES" } }],
        ["opu_native_simd=='off'", { "defines": ["OPU_NATIVE_NO_SIMD"] }]
      ]
    }
  ]
}
