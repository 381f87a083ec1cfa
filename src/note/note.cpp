#include "bucketpay/note.h"

#include "bucketpay/poseidon2.h"

namespace bucketpay {

SpendingKey SpendingKey::generate() { return SpendingKey(Fr::random()); }

Fr owner_key(const SpendingKey& sk) { return poseidon2::hash2(Fr::from_u64(kTagPk), sk.reveal()); }

Note Note::create(const Fr& pk, std::uint64_t value) { return Note{pk, value, Fr::random()}; }

Fr Note::commitment() const { return poseidon2::hash3(pk, Fr::from_u64(value), r); }

Fr nullifier(const SpendingKey& sk, const Fr& cm) { return poseidon2::hash3(Fr::from_u64(kTagNf), sk.reveal(), cm); }

}  // namespace bucketpay
