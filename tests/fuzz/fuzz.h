/*
 * fuzz.h - the libFuzzer entry point every target in tests/fuzz defines.
 *
 * Build a target with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -D_GNU_SOURCE \
 *       tests/fuzz/fuzz_uri.c crypto/[a-z]*.c -lsodium -lzstd -lcrypto
 * or without it, over files and directories given as arguments:
 *   gcc -g -I. -D_GNU_SOURCE tests/fuzz/fuzz_uri.c tests/fuzz/standalone.c \
 *       crypto/[a-z]*.c -lsodium -lzstd -lcrypto
 * A target calls abort() when an invariant breaks.
 */
#ifndef UMBRA_FUZZ_H
#define UMBRA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
