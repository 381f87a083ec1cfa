// The Pool's custom errors (contracts/src/Pool.sol and the OpenZeppelin code it uses), to decode
// reverts by name. wallet_test checks this list against the compiled Pool's ABI.
#pragma once

#include <string>
#include <vector>

namespace bucketpay {

inline std::vector<std::string> pool_error_signatures() {
  return {
      "ValueTooLarge(uint256)",
      "ZeroValue()",
      "ZeroRecipient()",
      "ZeroFeeRecipient()",
      "NotAFieldElement(uint256)",
      "LengthMismatch(uint256,uint256)",
      "EmptyBatch()",
      "UnknownRoot(uint256)",
      "NullifierAlreadySpent(uint256)",
      "InvalidProof()",
      "TreeFull()",
      "InvalidUnit()",
      "ZeroAddress()",
      "PaymentExpired(uint256)",
      "PaymentMismatch(uint256)",
      "WrongSigner(uint256)",
      "FeeTooHigh(uint256,uint256)",
      "ZeroAuth(uint256)",
      "SafeERC20FailedOperation(address)",
      "ReentrancyGuardReentrantCall()",
      "HasherDeploymentFailed()",
      "HasherCallFailed()",
      "InvalidShortString()",
      "StringTooLong(string)",
  };
}

}  // namespace bucketpay
