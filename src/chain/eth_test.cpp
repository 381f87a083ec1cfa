// Primitives against published vectors: Keccak-256, selectors, EIP-55 (from the EIP), RLP (from the
// Ethereum wiki), well-known anvil/Hardhat addresses; signatures round-trip through libsecp256k1's
// recovery (and are checked independently by anvil in chain_test).
#include "bucketpay/eth.h"

#include <gtest/gtest.h>

#include "bucketpay/abi.h"

namespace bucketpay::eth {
namespace {

std::string hex(std::span<const std::uint8_t> b) { return to_hex(b); }

TEST(Keccak, EmptyAndKnownStrings) {
  EXPECT_EQ(hex(keccak256("")), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  // Not SHA3-256 (which gives a7ffc6f8... for the empty string).
  EXPECT_EQ(hex(keccak256("abc")), "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  EXPECT_EQ(hex(keccak256("Transfer(address,address,uint256)")),
            "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

TEST(Keccak, FunctionSelectors) {
  EXPECT_EQ(hex(abi::selector("transfer(address,uint256)")), "0xa9059cbb");
  EXPECT_EQ(hex(abi::selector("balanceOf(address)")), "0x70a08231");
  EXPECT_EQ(hex(abi::selector("Error(string)")), "0x08c379a0");
  EXPECT_EQ(hex(abi::selector("Panic(uint256)")), "0x4e487b71");
}

TEST(Hex, StrictParsing) {
  EXPECT_EQ(*from_hex("0x"), Bytes{});
  EXPECT_EQ(*from_hex("0x00fF"), (Bytes{0x00, 0xff}));
  EXPECT_FALSE(from_hex("00ff").ok());   // no prefix
  EXPECT_FALSE(from_hex("0x0ff").ok());  // odd
  EXPECT_FALSE(from_hex("0xzz").ok());
  EXPECT_FALSE(from_hex("0X00").ok());
  EXPECT_FALSE(hash_from_hex("0x00").ok());
}

TEST(U256, ParseFormatArithmetic) {
  U256 max = U256::max();
  EXPECT_EQ(max.to_decimal(), "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  EXPECT_EQ(*U256::from_string(max.to_decimal()), max);
  EXPECT_FALSE(
      U256::from_string("115792089237316195423570985008687907853269984665640564039457584007913129639936").ok());
  EXPECT_EQ(max.to_quantity(), "0x" + std::string(64, 'f'));
  EXPECT_EQ(U256().to_quantity(), "0x0");
  EXPECT_EQ(U256(1024).to_quantity(), "0x400");
  EXPECT_EQ(*U256::from_quantity("0x400"), U256(1024));
  EXPECT_FALSE(U256::from_quantity("0x0400").ok());  // leading zero
  EXPECT_FALSE(U256::from_quantity("0x").ok());
  EXPECT_FALSE(U256::from_quantity("400").ok());
  EXPECT_FALSE(U256::from_string("01").ok());
  EXPECT_FALSE(U256::from_string("-1").ok());
  EXPECT_FALSE(U256::from_string("").ok());
  EXPECT_EQ(*U256::from_string("0x0001"), U256(1));

  U256 e18 = *U256::from_string("1000000000000000000");
  U256 big = e18 * e18 * e18;  // 10^54
  EXPECT_EQ(big.to_decimal(), "1" + std::string(54, '0'));
  EXPECT_EQ(big / e18, e18 * e18);
  EXPECT_EQ((big + U256(7)) % e18, U256(7));
  EXPECT_EQ(U256() - U256(1), max);
  EXPECT_FALSE(U256::checked_add(max, U256(1)).has_value());
  EXPECT_FALSE(U256::checked_sub(U256(1), U256(2)).has_value());
  EXPECT_FALSE(U256::checked_mul(big, big).has_value());
  EXPECT_EQ(*U256::checked_mul(e18, e18), e18 * e18);
  EXPECT_LT(U256(5), e18);
  EXPECT_EQ(U256::from_word(big.to_word()), big);
  EXPECT_EQ(U256(0x1234).to_minimal_bytes(), (Bytes{0x12, 0x34}));
}

TEST(Address, Eip55Vectors) {
  // From EIP-55 itself.
  for (const char* s : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
                        "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
                        "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"}) {
    Result<Address> a = Address::from_string(s);
    ASSERT_TRUE(a.ok()) << s << ": " << a.status().to_string();
    EXPECT_EQ(a->to_checksum(), s);
  }
}

TEST(Address, StrictParsing) {
  // One letter's case flipped: a bad checksum.
  Result<Address> bad = Address::from_string("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("checksum"), std::string::npos);
  // All lowercase or uppercase carries no checksum and is accepted.
  EXPECT_TRUE(Address::from_string("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
  EXPECT_TRUE(Address::from_string("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").ok());
  EXPECT_FALSE(Address::from_string("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
  EXPECT_FALSE(Address::from_string("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea").ok());
  EXPECT_FALSE(Address::from_string("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedff").ok());
  EXPECT_FALSE(Address::from_string("0xgaaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
  EXPECT_FALSE(Address::from_string("").ok());
}

Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Rlp, WikiVectors) {
  EXPECT_EQ(rlp::encode_string("dog"), (Bytes{0x83, 'd', 'o', 'g'}));
  std::vector<Bytes> cat_dog = {rlp::encode_string("cat"), rlp::encode_string("dog")};
  EXPECT_EQ(rlp::encode_list(cat_dog), (Bytes{0xc8, 0x83, 'c', 'a', 't', 0x83, 'd', 'o', 'g'}));
  EXPECT_EQ(rlp::encode_string(""), (Bytes{0x80}));
  EXPECT_EQ(rlp::encode_list({}), (Bytes{0xc0}));
  EXPECT_EQ(rlp::encode_uint(U256(0)), (Bytes{0x80}));
  EXPECT_EQ(rlp::encode_bytes(Bytes{0x00}), (Bytes{0x00}));
  EXPECT_EQ(rlp::encode_bytes(Bytes{0x0f}), (Bytes{0x0f}));
  EXPECT_EQ(rlp::encode_uint(U256(15)), (Bytes{0x0f}));
  EXPECT_EQ(rlp::encode_bytes(Bytes{0x04, 0x00}), (Bytes{0x82, 0x04, 0x00}));
  EXPECT_EQ(rlp::encode_uint(U256(1024)), (Bytes{0x82, 0x04, 0x00}));
  // The set-theoretical representation of three: [ [], [[]], [ [], [[]] ] ].
  Bytes empty = rlp::encode_list({});
  std::vector<Bytes> one = {empty};
  Bytes l1 = rlp::encode_list(one);
  std::vector<Bytes> two = {empty, l1};
  Bytes l2 = rlp::encode_list(two);
  std::vector<Bytes> three = {empty, l1, l2};
  EXPECT_EQ(rlp::encode_list(three), (Bytes{0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0}));
  // A string longer than 55 bytes.
  std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
  Bytes want = {0xb8, 0x38};
  Bytes body = str(lorem);
  want.insert(want.end(), body.begin(), body.end());
  EXPECT_EQ(rlp::encode_string(lorem), want);
  // A list longer than 55 bytes: prefix 0xf8 <len>.
  std::vector<Bytes> long_list = {rlp::encode_string(lorem)};
  EXPECT_EQ(rlp::encode_list(long_list)[0], 0xf8);
  EXPECT_EQ(rlp::encode_list(long_list)[1], 58);
}

TEST(Secp256k1, AnvilDevKeyAddress) {
  Result<PrivateKey> k = PrivateKey::from_hex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->address().to_checksum(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
}

TEST(Secp256k1, InvalidKeysRejectedWithoutEcho) {
  Result<PrivateKey> zero = PrivateKey::from_hex("0x" + std::string(64, '0'));
  EXPECT_FALSE(zero.ok());
  // n itself is out of range.
  Result<PrivateKey> n = PrivateKey::from_hex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  EXPECT_FALSE(n.ok());
  std::string secretish = "0x59c6995e998f97a5a0044966f0945389dc9c86dae88c7a8412f7603b6b7869zz";
  Result<PrivateKey> bad = PrivateKey::from_hex(secretish);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("59c6995e"), std::string::npos);
}

TEST(Secp256k1, SignRecoverRoundTrips) {
  for (int i = 0; i < 20; ++i) {
    PrivateKey k = PrivateKey::random();
    Hash32 digest = keccak256("message " + std::to_string(i));
    Signature sig = k.sign(digest);
    EXPECT_EQ(sig, k.sign(digest));  // RFC 6979: deterministic
    // Low s (EIP-2): s <= n/2.
    U256 half_n = *U256::from_string("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
    EXPECT_LE(U256::from_word(sig.s), half_n);
    Result<Address> who = recover_address(digest, sig);
    ASSERT_TRUE(who.ok());
    EXPECT_EQ(*who, k.address());
    // Another digest or a flipped recovery id recovers someone else.
    Result<Address> other = recover_address(keccak256("other"), sig);
    EXPECT_TRUE(!other.ok() || *other != k.address());
    Signature flipped = sig;
    flipped.recovery_id ^= 1;
    Result<Address> f = recover_address(digest, flipped);
    EXPECT_TRUE(!f.ok() || *f != k.address());
  }
}

TEST(CreateAddress, WellKnownDeployments) {
  // The first contracts deployed by anvil/Hardhat's account 0.
  Address deployer = *Address::from_string("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  EXPECT_EQ(create_address(deployer, 0).to_checksum(), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  EXPECT_EQ(create_address(deployer, 1).to_checksum(), "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
}

}  // namespace
}  // namespace bucketpay::eth
