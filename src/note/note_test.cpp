#include "bucketpay/note.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace bucketpay {
namespace {

Fr fr(const char* s) {
  auto r = Fr::from_string(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : Fr();
}

// Vectors produced by Noir 1.0.0-beta.26 executing circuits/crosscheck (via
// scripts/noir_execute.mjs), an implementation independent of this one. The randomized version of
// this check is src/tree/crosscheck_test.cpp.
TEST(NoteTest, MatchesNoirVectorAllZero) {
  const SpendingKey sk = SpendingKey::from_fr(Fr::zero());
  const Fr pk = owner_key(sk);
  EXPECT_EQ(pk, fr("0x1e05013a2f40c60dc58cfe36bfa4d7e94676c43436922368628342bc5144d103"));
  const Note note{pk, 0, Fr::zero()};
  // cm = H(pk, 0, 0): note that pk is H(1, 0), not 0.
  const Fr cm = note.commitment();
  EXPECT_EQ(cm, fr("0x0931b5f384898e8dad2b46a443724d923b531802717f22cc8770751bf3bc5288"));
  EXPECT_EQ(nullifier(sk, cm), fr("0x06168e849230d26a43010dcf7866d3b8fdd1f33d5f443e080f8f43a16f93f8a4"));
}

TEST(NoteTest, MatchesNoirVectorMaxValue) {
  const SpendingKey sk = SpendingKey::from_fr(fr("0x2a0f4c5e1b3d7a9c8e6f5d4c3b2a19081726354453627180a9b8c7d6e5f40312"));
  const Fr pk = owner_key(sk);
  EXPECT_EQ(pk, fr("0x16e407069218aab83301bbcc17500b8c00d6f0e17f2c4cef924dd3ae7b89f945"));
  const Note note{pk, 18446744073709551615ULL,
                  fr("0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef")};
  const Fr cm = note.commitment();
  EXPECT_EQ(cm, fr("0x28042935444a9e52231b4f51fc027b9f0a3e2ab09b657649ddd02a66a5fafbbc"));
  EXPECT_EQ(nullifier(sk, cm), fr("0x072f2da6f4df3120a453038d3878804e1afe1f825d874d55360e1816371f1ee0"));
}

TEST(NoteTest, TagsAreTheProtocolsConstants) {
  EXPECT_EQ(kTagPk, 1u);
  EXPECT_EQ(kTagNf, 2u);
}

TEST(NoteTest, GeneratedKeysAreDistinctAndNonZero) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    const SpendingKey sk = SpendingKey::generate();
    EXPECT_FALSE(sk.reveal().is_zero());
    EXPECT_TRUE(seen.insert(sk.reveal().to_hex()).second);
  }
}

TEST(NoteTest, CreateUsesFreshBlindingAndKeepsOwnerAndValue) {
  const Fr pk = owner_key(SpendingKey::generate());
  const Note a = Note::create(pk, 500);
  const Note b = Note::create(pk, 500);
  EXPECT_EQ(a.pk, pk);
  EXPECT_EQ(a.value, 500u);
  EXPECT_NE(a.r, b.r);
  EXPECT_NE(a.commitment(), b.commitment());
}

TEST(NoteTest, EveryInputChangesTheOutputs) {
  const SpendingKey sk = SpendingKey::generate();
  const SpendingKey sk2 = SpendingKey::generate();
  EXPECT_EQ(owner_key(sk), owner_key(SpendingKey::from_fr(sk.reveal())));
  EXPECT_NE(owner_key(sk), owner_key(sk2));

  const Note n{owner_key(sk), 7, Fr::random()};
  const Fr cm = n.commitment();
  EXPECT_EQ(cm, (Note{n.pk, n.value, n.r}).commitment());
  EXPECT_NE(cm, (Note{owner_key(sk2), n.value, n.r}).commitment());
  EXPECT_NE(cm, (Note{n.pk, 8, n.r}).commitment());
  EXPECT_NE(cm, (Note{n.pk, n.value, n.r + Fr::one()}).commitment());

  const Fr nf = nullifier(sk, cm);
  EXPECT_NE(nf, nullifier(sk2, cm));
  EXPECT_NE(nf, nullifier(sk, cm + Fr::one()));
  // Domain separation: the nullifier is not the commitment of anything with the same inputs, nor
  // the owner key.
  EXPECT_NE(nf, cm);
  EXPECT_NE(nf, owner_key(sk));
}

}  // namespace
}  // namespace bucketpay
