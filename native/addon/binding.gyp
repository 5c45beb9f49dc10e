{
  "targets": [
    {
      "target_name": "opu_native",
      "sources": ["src/addon.cc", "src/pool.cc", "src/sgemm.cc", "src/medium.cc", "src/camera.cc", "src/elementwise.cc", "src/pty.cc", "src/cobs.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "conditions": [["OS=='mac'", { "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES" } }]]
    }
  ]
}
