# Compiles the Foundry project (contracts/ -> contracts/out) with forge and the solcjs wrapper, after
# the verifiers are generated, so C++ tests that deploy the Pool on anvil find its bytecode.
# forge's own cache makes an unchanged rebuild take a few seconds.
set(BUCKETPAY_FORGE ${BUCKETPAY_NODE_MODULES}/@foundry-rs/forge-linux-amd64/bin/forge)
add_custom_target(contracts ALL
  COMMAND ${CMAKE_COMMAND} -E env FOUNDRY_OFFLINE=true ${BUCKETPAY_FORGE} build --quiet
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/contracts
  COMMENT "Compiling the contracts with forge"
  VERBATIM)
add_dependencies(contracts verifiers)
