# Sanitizer and libFuzzer builds. Included by the top-level CMakeLists.txt before any target, so
# that every library, test and tool of the build is instrumented alike (a partly instrumented
# program gives false reports under ThreadSanitizer and misses bugs under the others).
#
#   cmake -B build-asan -DCMAKE_CXX_COMPILER=clang++-14 -DBUCKETPAY_SANITIZE=address,undefined -DBUCKETPAY_FUZZ=ON
#   cmake -B build-tsan -DCMAKE_CXX_COMPILER=clang++-14 -DBUCKETPAY_SANITIZE=thread
#
# Findings are fatal: -fno-sanitize-recover makes UndefinedBehaviorSanitizer abort at the first
# report instead of printing and going on, so a test that triggers one fails.
if(BUCKETPAY_SANITIZE)
  set(san_flags -fsanitize=${BUCKETPAY_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  # Stack traces with file and line at a fraction of full debug information's build time; -O1
  # keeps the instrumented tests fast without the optimizer folding away the accesses it checks.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND san_flags -O1 -gline-tables-only)
  else()
    list(APPEND san_flags -O1 -g1)
  endif()
  add_compile_options(${san_flags})
  add_link_options(-fsanitize=${BUCKETPAY_SANITIZE})
  message(STATUS "bucketpay: sanitizers ${BUCKETPAY_SANITIZE}")
endif()

if(BUCKETPAY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "BUCKETPAY_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # Coverage instrumentation everywhere; only the harnesses link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
  message(STATUS "bucketpay: libFuzzer harnesses")
endif()
