# The runtime files of the shipped binaries (src/cli/runtime_files.h, docs/install.md): one
# directory, share/bucketpay beside bin/. In the build tree, build/share/bucketpay is made of links
# into the build and the checkout (made here, at configure time; they resolve once the build has
# run); `cmake --install` copies the same files under <prefix>/share/bucketpay, with the Node
# modules the witness server imports, so that <prefix>/bin/bucketpay needs no checkout.
set(BUCKETPAY_RUNTIME_BUILD_DIR ${CMAKE_BINARY_DIR}/share/bucketpay)
file(MAKE_DIRECTORY ${BUCKETPAY_RUNTIME_BUILD_DIR})
foreach(entry
    "circuits|${CMAKE_BINARY_DIR}/circuits"
    "witness_server.mjs|${PROJECT_SOURCE_DIR}/scripts/witness_server.mjs"
    "bb|${BUCKETPAY_BB}"
    "contracts|${PROJECT_SOURCE_DIR}/contracts/out")
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 link)
  list(GET entry 1 target)
  file(REMOVE ${BUCKETPAY_RUNTIME_BUILD_DIR}/${link})
  file(CREATE_LINK ${target} ${BUCKETPAY_RUNTIME_BUILD_DIR}/${link} SYMBOLIC)
endforeach()

# The shipped binaries: the wallet's CLI (with `relay`) and the relayer alone. bucketpay-devnet and
# bucketpay-fixtures are developers' tools and stay in the build.
install(TARGETS bucketpay bucketpay-relay RUNTIME DESTINATION bin)
set(runtime_dest share/bucketpay)
install(FILES ${CMAKE_BINARY_DIR}/circuits/spend.json ${CMAKE_BINARY_DIR}/circuits/split.json
        DESTINATION ${runtime_dest}/circuits)
install(FILES ${PROJECT_SOURCE_DIR}/scripts/witness_server.mjs DESTINATION ${runtime_dest})
install(PROGRAMS ${BUCKETPAY_BB} DESTINATION ${runtime_dest})
# `bucketpay deploy`'s forge artifacts: the token for test chains, the two verifiers, the Pool.
foreach(artifact TestToken.sol/TestToken BatchSpendVerifier.sol/BatchSpendVerifier
                 BatchSplitVerifier.sol/BatchSplitVerifier Pool.sol/Pool)
  get_filename_component(artifact_dir ${artifact} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/contracts/out/${artifact}.json DESTINATION ${runtime_dest}/contracts/${artifact_dir})
endforeach()
# What the witness server imports (noir_js and its dependencies, pinned by package-lock.json); the
# install test runs it from the installed copy, so a missing one fails there.
foreach(package @noir-lang/noir_js @noir-lang/acvm_js @noir-lang/noirc_abi @noir-lang/types pako)
  get_filename_component(package_parent ${package} DIRECTORY)  # "@noir-lang", or "" for pako
  set(package_dest ${runtime_dest}/node_modules)
  if(package_parent)
    string(APPEND package_dest /${package_parent})
  endif()
  install(DIRECTORY ${BUCKETPAY_NODE_MODULES}/${package} DESTINATION ${package_dest} USE_SOURCE_PERMISSIONS)
endforeach()
