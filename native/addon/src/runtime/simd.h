// Whether this build may use x86 vector instructions: on x86-64, unless built with -DOPU_NATIVE_NO_SIMD (node
// native/scripts/build.mjs --no-simd), which, like any other architecture, compiles only the portable paths. Every
// intrinsic include and every target-attributed function of the addon stands behind OPU_NATIVE_X86_SIMD.
#pragma once

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(OPU_NATIVE_NO_SIMD)
#define OPU_NATIVE_X86_SIMD 1
// One copy of the function per instruction set; the best one the CPU has is bound when the addon loads.
#define OPU_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define OPU_NATIVE_X86_SIMD 0
#define OPU_VECTOR_CLONES
#endif
