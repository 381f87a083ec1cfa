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

# The same command (cmake/Circuits.cmake) also writes BatchSpendVerifier.sol with
# contracts/tools/gen_batch_verifier.py from spend's verification key and the CRS's [x]_2, and
# SpendVerifierPlain.sol (bb's non-optimized verifier, for the batch verifier's tests): it reruns
# when the generator or the Poseidon2 parameters it reads change.
add_custom_command(OUTPUT ${BUCKETPAY_VERIFIERS_OUT}/SpendVerifier.sol APPEND
  DEPENDS ${PROJECT_SOURCE_DIR}/contracts/tools/gen_batch_verifier.py
          ${PROJECT_SOURCE_DIR}/src/poseidon2/poseidon2_params.h)
