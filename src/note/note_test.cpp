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

// Vectors produced by Noir 1.0.0-beta.26 executing circuits/crosscheck (v2: owner = H(pk, r),
// cm = H(owner, v); via scripts/noir_execute.mjs), an implementation independent of this one. The randomized version of
// this check is src/tree/crosscheck_test.cpp.
TEST(NoteTest, MatchesNoirVectorAllZero) {
  const SpendingKey sk = SpendingKey::from_fr(Fr::zero());
  const Fr pk = owner_key(sk);
  EXPECT_EQ(pk, fr("0x1e05013a2f40c60dc58cfe36bfa4d7e94676c43436922368628342bc5144d103"));
  const Note note{pk, 0, Fr::zero()};
  // owner = H(pk, 0), cm = H(owner, 0): note that pk is H(1, 0), not 0.
  EXPECT_EQ(note.owner(), fr("0x06f551d1b7b2583b59427de315fccd04e9974187f5f214b0c120fcb67f50a794"));
  const Fr cm = note.commitment();
  EXPECT_EQ(cm, fr("0x1dd0a69c6b1084181813a3383de9c9487d4972da6448fee33d350e65f59fa0fd"));
  EXPECT_EQ(nullifier(sk, cm), fr("0x2b29254c6f8f066aa71e2a0818cd0ee9d9afe7a389c8db1ded39214cf470800f"));
}

TEST(NoteTest, MatchesNoirVectorMaxValue) {
  const SpendingKey sk = SpendingKey::from_fr(fr("0x2a0f4c5e1b3d7a9c8e6f5d4c3b2a19081726354453627180a9b8c7d6e5f40312"));
  const Fr pk = owner_key(sk);
  EXPECT_EQ(pk, fr("0x16e407069218aab83301bbcc17500b8c00d6f0e17f2c4cef924dd3ae7b89f945"));
  const Note note{pk, 18446744073709551615ULL,
                  fr("0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef")};
  EXPECT_EQ(note.owner(), fr("0x1a71613104fdfc6f1df57bdfea6a274be251c634875fda7f4a5eef42f9303535"));
  const Fr cm = note.commitment();
  EXPECT_EQ(cm, fr("0x0773f6da7dd7b2d55ce1b879f349975feb74906b5b7e6acd177fdfd5fab142f3"));
  EXPECT_EQ(nullifier(sk, cm), fr("0x2d485147ea6c69f5a9ebeb74400921db9c9c0a545eb43816c0a41d901735a2b8"));
  // The free functions are the same formulas.
  EXPECT_EQ(note_owner(note.pk, note.r), note.owner());
  EXPECT_EQ(note_commitment(note.owner(), note.value), cm);
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
  // The hidden owner depends on pk and r but not on v; it is neither pk nor r.
  EXPECT_EQ(n.owner(), (Note{n.pk, 8, n.r}).owner());
  EXPECT_NE(n.owner(), (Note{n.pk, n.value, n.r + Fr::one()}).owner());
  EXPECT_NE(n.owner(), (Note{owner_key(sk2), n.value, n.r}).owner());
  EXPECT_NE(n.owner(), n.pk);
  EXPECT_NE(n.owner(), n.r);

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
