// EIP-712 against the EIP's own published example (domain separator, digest, and the signature of
// keccak256("cow"), which RFC 6979 makes deterministic), the 65-byte signature form's strictness,
// and the auth key derivation's properties. The Payment type's encoding and the auth key derivation
// are checked against independent implementations on random inputs by forge: bucketpay-fixtures
// writes build/fixtures/payments.json and contracts/test/PaymentVectors.t.sol recomputes every
// digest with the Pool and with forge's EIP-712 cheatcode, recovers every signature, and derives
// every auth key again in Solidity.
#include "bucketpay/payment.h"

#include <gtest/gtest.h>

#include <set>

namespace bucketpay::eth {
namespace {

Hash32 h(std::string_view hex) {
  Result<Hash32> r = hash_from_hex(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? *r : Hash32{};
}

Address addr(std::string_view s) {
  Result<Address> a = Address::from_string(s);
  EXPECT_TRUE(a.ok()) << s;
  return a.ok() ? *a : Address{};
}

// EIP-712's example (eips.ethereum.org/EIPS/eip-712, assets/eip-712/Example.js): the Ether Mail
// domain, the Mail message's struct hash, the digest, and the signature by keccak256("cow").
TEST(Eip712, PublishedExample) {
  const Hash32 domain =
      eip712_domain_separator("Ether Mail", "1", U256(1), addr("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"));
  EXPECT_EQ(to_hex(domain), "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");
  const Hash32 mail = h("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
  const Hash32 digest = eip712_digest(domain, mail);
  EXPECT_EQ(to_hex(digest), "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");

  const Hash32 cow = keccak256("cow");
  Result<PrivateKey> key = PrivateKey::from_bytes(cow);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->address(), addr("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"));
  const RsvSignature sig = sign_digest(*key, digest);
  EXPECT_EQ(to_hex(sig),
            "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
            "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c");
  Result<Address> signer = recover_signer(digest, sig);
  ASSERT_TRUE(signer.ok()) << signer.status().to_string();
  EXPECT_EQ(*signer, key->address());
}

TEST(Eip712, TypeStringsAreTheSpecs) {
  EXPECT_EQ(kPaymentType,
            "Payment(uint256[] nullifiers,address recipient,uint256 fee,address feeRecipient,uint256 deadline)");
  EXPECT_EQ(kPaymentDomainName, "bucketpay");
  EXPECT_EQ(kPaymentDomainVersion, "2");
}

Payment sample_payment() {
  return Payment{
      {U256(1), U256(2), *U256::from_string("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000")},
      addr("0x00000000000000000000000000000000000b0b01"),
      U256(250),
      addr("0x000000000000000000000000000000000000fee1"),
      U256(1'800'000'000)};
}

// Every field of the message and of the domain changes the digest (the forge test checks the
// exact encoding).
TEST(PaymentDigest, EveryFieldMatters) {
  const PaymentDomain domain{U256(31337), addr("0x5FbDB2315678afecb367f032d93F642f64180aa3")};
  const Payment p = sample_payment();
  const Hash32 d = payment_digest(domain, p);
  EXPECT_EQ(d, eip712_digest(domain.separator(), payment_struct_hash(p)));
  std::set<Hash32> seen = {d};
  auto differs = [&](const PaymentDomain& dom, const Payment& q) {
    EXPECT_TRUE(seen.insert(payment_digest(dom, q)).second);
  };
  Payment q = p;
  q.nullifiers[1] = U256(3);
  differs(domain, q);
  q = p;
  std::swap(q.nullifiers[0], q.nullifiers[1]);  // order matters
  differs(domain, q);
  q = p;
  q.nullifiers.pop_back();
  differs(domain, q);
  q = p;
  q.nullifiers.clear();
  differs(domain, q);
  q = p;
  q.recipient = q.fee_recipient;
  differs(domain, q);
  q = p;
  q.fee = U256(251);
  differs(domain, q);
  q = p;
  q.fee_recipient = p.recipient;
  differs(domain, q);
  q = p;
  q.deadline = U256(1'800'000'001);
  differs(domain, q);
  differs(PaymentDomain{U256(1), domain.pool}, p);
  differs(PaymentDomain{domain.chain_id, addr("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")}, p);
}

TEST(PaymentSignature, SignAndRecover) {
  const PrivateKey key = PrivateKey::random();
  const Hash32 digest = payment_digest({U256(1), Address{}}, sample_payment());
  const RsvSignature sig = sign_digest(key, digest);
  EXPECT_TRUE(sig[64] == 27 || sig[64] == 28);
  EXPECT_EQ(*recover_signer(digest, sig), key.address());
  Hash32 other = digest;
  other[0] ^= 1;
  Result<Address> wrong = recover_signer(other, sig);
  EXPECT_TRUE(!wrong.ok() || *wrong != key.address());
  Result<Signature> parsed = from_rsv(sig);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(to_rsv(*parsed), sig);
}

// n - s, the malleable twin of a low-s signature (the same key recovers from it with v flipped),
// is refused, as the Pool refuses it; so are bad lengths, v, r and s.
TEST(PaymentSignature, StrictForm) {
  const PrivateKey key = PrivateKey::random();
  const Hash32 digest = keccak256("a payment");
  const RsvSignature sig = sign_digest(key, digest);

  const U256 n = *U256::from_string("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  const U256 s = U256::from_word(*reinterpret_cast<const Hash32*>(sig.data() + 32));
  RsvSignature twin = sig;
  const Hash32 high = (n - s).to_word();
  std::copy(high.begin(), high.end(), twin.begin() + 32);
  twin[64] = sig[64] == 27 ? 28 : 27;
  Signature raw{};
  std::copy(twin.begin(), twin.begin() + 32, raw.r.begin());
  std::copy(twin.begin() + 32, twin.begin() + 64, raw.s.begin());
  raw.recovery_id = static_cast<std::uint8_t>(twin[64] - 27);
  // libsecp256k1's recovery (which normalizes nothing here) accepts the twin: it is a real signature...
  Result<Address> twin_signer = recover_address(digest, raw);
  ASSERT_TRUE(twin_signer.ok()) << twin_signer.status().to_string();
  EXPECT_EQ(*twin_signer, key.address());
  // ...that recover_signer refuses.
  Result<Address> refused = recover_signer(digest, twin);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("malleable"), std::string::npos) << refused.status().message();

  EXPECT_FALSE(recover_signer(digest, std::span(sig).first(64)).ok());
  Bytes longer(sig.begin(), sig.end());
  longer.push_back(0);
  EXPECT_FALSE(recover_signer(digest, longer).ok());
  for (const std::uint8_t v : std::initializer_list<std::uint8_t>{0, 1, 26, 29}) {
    RsvSignature bad = sig;
    bad[64] = v;
    EXPECT_FALSE(recover_signer(digest, bad).ok()) << int{v};
  }
  RsvSignature zero_r = sig;
  std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
  EXPECT_FALSE(recover_signer(digest, zero_r).ok());
  RsvSignature zero_s = sig;
  std::fill(zero_s.begin() + 32, zero_s.begin() + 64, 0);
  EXPECT_FALSE(recover_signer(digest, zero_s).ok());
  RsvSignature big_r = sig;
  const Hash32 nw = n.to_word();
  std::copy(nw.begin(), nw.end(), big_r.begin());
  EXPECT_FALSE(recover_signer(digest, big_r).ok());
}

Hash32 word(const U256& x) { return x.to_word(); }

TEST(AuthKey, DeterministicDistinctAndValid) {
  const Hash32 sk = word(*U256::from_string("0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"));
  const Hash32 cm = word(U256(42));
  Result<PrivateKey> a = derive_auth_key(sk, cm);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  Result<PrivateKey> again = derive_auth_key(sk, cm);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(a->address(), again->address());
  EXPECT_EQ(*derive_auth_address(sk, cm), a->address());
  EXPECT_NE(*derive_auth_address(sk, word(U256(43))), a->address());
  Hash32 sk2 = sk;
  sk2[31] ^= 1;
  EXPECT_NE(*derive_auth_address(sk2, cm), a->address());
  // sk and cm are not interchangeable (the tag and the order fix their roles).
  EXPECT_NE(*derive_auth_address(cm, sk), a->address());
  // The key signs: its address recovers.
  const Hash32 digest = keccak256("x");
  EXPECT_EQ(*recover_signer(digest, sign_digest(*a, digest)), a->address());
  // Zero inputs and p - 1 are canonical.
  EXPECT_TRUE(derive_auth_key(Hash32{}, Hash32{}).ok());
  const Hash32 p_minus_1 =
      word(*U256::from_string("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000"));
  EXPECT_TRUE(derive_auth_key(p_minus_1, p_minus_1).ok());
}

TEST(AuthKey, NonCanonicalFieldElementsAreRefused) {
  const Hash32 p = word(*U256::from_string("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001"));
  const Hash32 one = word(U256(1));
  Result<PrivateKey> bad_sk = derive_auth_key(p, one);
  ASSERT_FALSE(bad_sk.ok());
  EXPECT_EQ(bad_sk.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_sk.status().message().find("sk"), std::string::npos);
  EXPECT_FALSE(derive_auth_key(one, p).ok());
  EXPECT_FALSE(derive_auth_address(one, word(U256::max())).ok());
}

// The derivation is the spec's formula: recomputed here with U256 arithmetic (the implementation
// works on bytes with a conditional subtraction) over many random inputs, including the reduction.
TEST(AuthKey, MatchesTheFormulaComputedWithU256) {
  const U256 n = *U256::from_string("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  const U256 p = *U256::from_string("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001");
  for (int i = 0; i < 200; ++i) {
    const Hash32 sk = (U256::from_word(keccak256("sk" + std::to_string(i))) % p).to_word();
    const Hash32 cm = (U256::from_word(keccak256("cm" + std::to_string(i))) % p).to_word();
    Bytes pre(kAuthKeyTag.begin(), kAuthKeyTag.end());
    pre.insert(pre.end(), sk.begin(), sk.end());
    pre.insert(pre.end(), cm.begin(), cm.end());
    const U256 a = U256::from_word(keccak256(pre)) % (n - U256(1)) + U256(1);
    Result<PrivateKey> expected = PrivateKey::from_bytes(a.to_word());
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(*derive_auth_address(sk, cm), expected->address()) << i;
  }
}

// The reduction at its edges, against U256 arithmetic: k = 0, n - 2, n - 1 (wraps to 1), n, and
// 2^256 - 1.
TEST(AuthKey, ReductionEdges) {
  const U256 n = *U256::from_string("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  const U256 n1 = n - U256(1);
  const std::vector<std::pair<U256, U256>> cases = {
      {U256(0), U256(1)}, {n1 - U256(1), n1}, {n1, U256(1)}, {n, U256(2)}, {U256::max(), U256::max() - n1 + U256(1)},
  };
  for (const auto& [k, want] : cases) {
    EXPECT_EQ(U256::from_word(detail::auth_scalar(k.to_word())), want) << k.to_quantity();
    EXPECT_EQ(want, k % n1 + U256(1)) << k.to_quantity();
  }
}

}  // namespace
}  // namespace bucketpay::eth
