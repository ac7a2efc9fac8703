// libFuzzer's driver, as its runtime (libclang_rt.fuzzer) exports it.
//
// SwiftPM links every executable with `main` renamed to the module's entry
// point (`<Module>_main`), so an executable cannot leave `main` to libFuzzer
// as `swiftc -sanitize=fuzzer -parse-as-library` alone would. Each target's
// main.swift calls this driver instead, which is what libFuzzer's own `main`
// does (compiler-rt's FuzzerMain.cpp).
#pragma once
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*callback)(const uint8_t *data, size_t size));
