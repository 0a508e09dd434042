/*
 * FZ_QUIET marks a harness's own checks and builders: libFuzzer does not
 * trace their branches and compares (they guide nothing; what is fuzzed
 * is the code they check), and they are not inlined into a traced caller.
 * A checksum loop traced byte by byte was most of fuzz_gro's time.
 * ASan and UBSan still check them.
 */
#ifndef CV_FZ_QUIET_H
#define CV_FZ_QUIET_H

#define FZ_QUIET __attribute__((noinline, no_sanitize("coverage")))

#endif
