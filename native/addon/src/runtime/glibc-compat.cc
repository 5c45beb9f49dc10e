// Only in the linux-x64 glibc prebuild (binding.gyp: opu_native_glibc_compat, set by scripts/build.mjs): the glibc
// symbols whose default version is newer than Node 20's own floor (glibc 2.28) are bound to their first versions, so a
// binary built on a new distribution loads on an old one. The linker's --wrap sends every reference to them, those
// in the static libstdc++ included, to the functions below:
//   pthread_create, pthread_join  GLIBC_2.34 (moved from libpthread into libc) → GLIBC_2.2.5, which glibc ≥ 2.34
//                                 keeps in libc and older ones have in libpthread.so.0 (linked for them)
//   fcntl64                       GLIBC_2.28 → fcntl@GLIBC_2.2.5: the same call on 64-bit, where off_t is 64 bits
//   __libc_single_threaded        GLIBC_2.32, read by libstdc++ to skip atomic reference counts while one thread
//                                 runs; ours always says "several", which is always correct
// What remains is at most GLIBC_2.18 (native/README.md: the glibc floor).
#if defined(OPU_NATIVE_GLIBC_COMPAT)
#include <pthread.h>

#include <cstdarg>

#if !defined(__GLIBC__) || !defined(__x86_64__)
#error "OPU_NATIVE_GLIBC_COMPAT names x86-64 glibc symbol versions: build it only there"
#endif

extern "C" {
// Each alias is an undefined symbol that .symver turns into a reference to the versioned one.
int opu_pthread_create_2_2_5(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
__asm__(".symver opu_pthread_create_2_2_5, pthread_create@GLIBC_2.2.5");
int opu_pthread_join_2_2_5(pthread_t, void**);
__asm__(".symver opu_pthread_join_2_2_5, pthread_join@GLIBC_2.2.5");
int opu_fcntl_2_2_5(int, int, ...);
__asm__(".symver opu_fcntl_2_2_5, fcntl@GLIBC_2.2.5");

#define OPU_HIDDEN __attribute__((visibility("hidden")))

OPU_HIDDEN int __wrap_pthread_create(pthread_t* thread, const pthread_attr_t* attributes, void* (*start)(void*),
                                     void* argument) {
  return opu_pthread_create_2_2_5(thread, attributes, start, argument);
}

OPU_HIDDEN int __wrap_pthread_join(pthread_t thread, void** result) { return opu_pthread_join_2_2_5(thread, result); }

// fcntl's third argument is an int or a pointer, by command; read as a pointer it passes both unchanged on x86-64.
OPU_HIDDEN int __wrap_fcntl64(int fd, int command, ...) {
  va_list arguments;
  va_start(arguments, command);
  void* argument = va_arg(arguments, void*);
  va_end(arguments);
  return opu_fcntl_2_2_5(fd, command, argument);
}

OPU_HIDDEN char __wrap___libc_single_threaded = 0;
}
#endif
