# bucketpay_module(NAME [DEPS lib...] [PRIVATE_DEPS lib...])
#
# One module = one folder src/NAME = one static library `bucketpay_NAME`.
# Sources: src/NAME/*.cpp except *_test.cpp, *_bench.cpp and *_main.cpp.
# Tests:   src/NAME/*_test.cpp  -> executable `NAME_test`, registered with CTest (label: NAME).
# Benches: src/NAME/*_bench.cpp -> executable `NAME_bench` (Google Benchmark), not run by ctest.
# Fuzzers: src/NAME/X_fuzzer.cpp -> executable `X_fuzzer` (libFuzzer), only when BUCKETPAY_FUZZ is
#          on; its seed corpus is src/NAME/corpus/X/ (scripts/fuzz.sh runs them).
function(bucketpay_module name)
  cmake_parse_arguments(M "" "" "DEPS;PRIVATE_DEPS;TEST_DEPS" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  file(GLOB all_sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  set(lib_sources "")
  set(test_sources "")
  set(bench_sources "")
  set(fuzzer_sources "")
  foreach(src ${all_sources})
    if(src MATCHES "_test\\.cpp$")
      list(APPEND test_sources ${src})
    elseif(src MATCHES "_bench\\.cpp$")
      list(APPEND bench_sources ${src})
    elseif(src MATCHES "_fuzzer\\.cpp$")
      list(APPEND fuzzer_sources ${src})
    elseif(NOT src MATCHES "_main\\.cpp$")
      list(APPEND lib_sources ${src})
    endif()
  endforeach()

  add_library(bucketpay_${name} STATIC ${lib_sources})
  # Library code sees the public headers and its own folder only: another module's private header
  # does not compile (scripts/check_layers.py also names it). Tests, benchmarks and fuzzers also see
  # src/, for the test support of other modules (*_testing.h).
  target_include_directories(bucketpay_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${dir})
  target_link_libraries(bucketpay_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS} bucketpay_warnings)

  if(test_sources AND BUCKETPAY_BUILD_TESTS)
    add_executable(${name}_test ${test_sources})
    target_include_directories(${name}_test PRIVATE ${dir} ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name}_test PRIVATE bucketpay_${name} bucketpay_testing ${M_TEST_DEPS}
                          GTest::gtest GTest::gmock GTest::gtest_main bucketpay_warnings)
    gtest_discover_tests(${name}_test
      PROPERTIES LABELS ${name} ENVIRONMENT "${BUCKETPAY_TEST_ENV}"
      DISCOVERY_TIMEOUT 60)
  endif()

  if(bench_sources AND BUCKETPAY_BUILD_BENCHMARKS)
    add_executable(${name}_bench ${bench_sources})
    target_include_directories(${name}_bench PRIVATE ${dir} ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name}_bench PRIVATE bucketpay_${name} bucketpay_testing ${M_TEST_DEPS}
                          benchmark::benchmark bucketpay_warnings)
  endif()

  if(BUCKETPAY_FUZZ)
    foreach(src ${fuzzer_sources})
      get_filename_component(fuzzer ${src} NAME_WE)
      add_executable(${fuzzer} ${src})
      target_include_directories(${fuzzer} PRIVATE ${dir} ${PROJECT_SOURCE_DIR}/src)
      target_link_libraries(${fuzzer} PRIVATE bucketpay_${name} ${M_TEST_DEPS} bucketpay_warnings)
      target_link_options(${fuzzer} PRIVATE -fsanitize=fuzzer)
      set_property(GLOBAL APPEND PROPERTY BUCKETPAY_FUZZERS ${fuzzer})
    endforeach()
  endif()
endfunction()
