# Compiles every nargo package under circuits/ with noir_wasm (scripts/compile_circuit.mjs) into
# build/circuits/<name>.json. A circuit is recompiled when any of its sources changes.
set(BUCKETPAY_CIRCUITS_OUT ${CMAKE_BINARY_DIR}/circuits)
file(GLOB circuit_dirs LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/circuits/*)
set(circuit_outputs "")
foreach(dir ${circuit_dirs})
  if(EXISTS ${dir}/Nargo.toml)
    get_filename_component(cname ${dir} NAME)
    # A circuit depends on its own sources and on the shared Noir library in circuits/lib.
    file(GLOB_RECURSE csrc CONFIGURE_DEPENDS ${dir}/*.nr ${dir}/Nargo.toml
         ${PROJECT_SOURCE_DIR}/circuits/lib/*.nr ${PROJECT_SOURCE_DIR}/circuits/lib/*.toml)
    set(out ${BUCKETPAY_CIRCUITS_OUT}/${cname}.json)
    add_custom_command(
      OUTPUT ${out}
      COMMAND node ${PROJECT_SOURCE_DIR}/scripts/compile_circuit.mjs ${dir} ${out}
      DEPENDS ${csrc} ${PROJECT_SOURCE_DIR}/scripts/compile_circuit.mjs
      COMMENT "Compiling Noir circuit ${cname}"
      VERBATIM)
    list(APPEND circuit_outputs ${out})
  endif()
endforeach()
add_custom_target(circuits ALL DEPENDS ${circuit_outputs})
