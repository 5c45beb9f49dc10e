# node-gyp builds this from the package root (npm run build:native through prebuildify, npm rebuild opu-native).
# opu_native_simd=off: only the portable paths (build-nosimd, scripts/build.mjs --no-simd).
# opu_native_static_libstdcxx=on: what the prebuilds are linked with (scripts/build.mjs sets it): libstdc++ linked in
# and hidden, so the binary does not need the building machine's libstdc++ (GLIBCXX_3.4.30 here), and the unused
# parts of it dropped, with them their newer glibc symbols (arc4random@GLIBC_2.36). libgcc stays shared: node itself
# links libgcc_s.so.1, and the static unwinder would need _dl_find_object@GLIBC_2.35. A compile on the user's machine
# leaves it off: it needs libstdc++.a, which Fedora and RHEL only ship in libstdc++-static.
# opu_native_glibc_compat=on (scripts/build.mjs, on x86-64 glibc): the few newer glibc symbol versions bound to their
# first ones (addon/src/runtime/glibc-compat.cc says which and why), so the prebuild needs no glibc newer than 2.18;
# libpthread.so.0 is linked because glibc before 2.34 has pthread_create there.
{
  "variables": {
    "opu_native_simd%": "on",
    "opu_native_static_libstdcxx%": "off",
    "opu_native_glibc_compat%": "off"
  },
  "targets": [
    {
      "target_name": "opu_native",
      "sources": [
        "addon/src/runtime/addon.cc",
        "addon/src/runtime/pool.cc",
        "addon/src/runtime/runner.cc",
        "addon/src/runtime/glibc-compat.cc",
        "addon/src/linalg/sgemm.cc",
        "addon/src/linalg/dense.cc",
        "addon/src/optics/medium.cc",
        "addon/src/optics/camera.cc",
        "addon/src/training/elementwise.cc",
        "addon/src/measure/cross-terms.cc",
        "addon/src/io/bindings.cc",
        "addon/src/io/pty.cc",
        "addon/src/io/cobs.cc"
      ],
      "include_dirs": ["addon/src", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"],
      "conditions": [
        ["OS=='mac'", { "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES" } }],
        [
          "OS=='linux' and opu_native_static_libstdcxx=='on'",
          { "ldflags": ["-static-libstdc++", "-Wl,--exclude-libs,ALL", "-Wl,--gc-sections"] }
        ],
        [
          "OS=='linux' and opu_native_glibc_compat=='on'",
          {
            "defines": ["OPU_NATIVE_GLIBC_COMPAT"],
            "ldflags": [
              "-Wl,--wrap=pthread_create",
              "-Wl,--wrap=pthread_join",
              "-Wl,--wrap=fcntl64",
              "-Wl,--wrap=__libc_single_threaded"
            ],
            "libraries": ["-Wl,--no-as-needed", "-l:libpthread.so.0"]
          }
        ],
        ["opu_native_simd=='off'", { "defines": ["OPU_NATIVE_NO_SIMD"] }]
      ]
    }
  ]
}
