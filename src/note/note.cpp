#include "bucketpay/note.h"

#include "bucketpay/poseidon2.h"

namespace bucketpay {

SpendingKey SpendingKey::generate() { return SpendingKey(Fr::random()); }

Fr owner_key(const SpendingKey& sk) { return poseidon2::hash2(Fr::from_u64(kTagPk), sk.reveal()); }

Note Note::create(const Fr& pk, std::uint64_t value) { return Note{pk, value, Fr::random()}; }

Fr note_owner(const Fr& pk, const Fr& r) { return poseidon2::hash2(pk, r); }

Fr note_commitment(const Fr& owner, std::uint64_t value) { return poseidon2::hash2(owner, Fr::from_u64(value)); }

Fr Note::owner() const { return note_owner(pk, r); }

Fr Note::commitment() const { return note_commitment(owner(), value); }

Fr nullifier(const SpendingKey& sk, const Fr& cm) { return poseidon2::hash3(Fr::from_u64(kTagNf), sk.reveal(), cm); }

}  // namespace bucketpay
