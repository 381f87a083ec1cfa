// Small conversions and rules the wallet's parts share (private to src/wallet).
#pragma once

#include <bit>
#include <cstddef>
#include <string>
#include <string_view>

#include "bucketpay/amount.h"
#include "bucketpay/eth.h"
#include "bucketpay/field.h"
#include "bucketpay/note.h"
#include "bucketpay/store.h"

namespace bucketpay::wallet_util {

inline eth::U256 to_u256(const Fr& f) { return eth::U256::from_word(f.to_bytes()); }
// kInvalidArgument when `u` is not below the field's modulus.
inline Result<Fr> to_fr(const eth::U256& u) { return Fr::from_bytes(u.to_word()); }
// An address as the field element the circuits bind (its 32-byte word, reduced).
inline Fr address_fr(const eth::Address& a) { return Fr::from_bytes_reduce(a.to_word()); }
// A map key for a field element.
inline std::string fr_key(const Fr& f) { return f.to_hex(); }

// "$12.34" (appended, not `"$" + ...`, which GCC 12 misreads as an overlapping copy: -Wrestrict).
inline std::string dollars(Cents cents) {
  std::string s = "$";
  s += format_dollars(cents);
  return s;
}

// Keeps a note the wallet is about to create (a deposit, a split's output) as pending, before
// anything is sent, so that a crash cannot lose its secret; its id.
inline Result<std::int64_t> insert_pending_note(NoteStore& notes, std::string_view wallet, const Note& note) {
  StoredNote sn;
  sn.wallet = std::string(wallet);
  sn.pk = note.pk;
  sn.value = note.value;
  sn.r = note.r;
  sn.commitment = note.commitment();
  return notes.insert_note(sn);
}

// The nullifier that spending `note` publishes.
inline Fr note_nullifier(const Fr& sk, const StoredNote& note) {
  return nullifier(SpendingKey::from_fr(sk), note.commitment);
}

}  // namespace bucketpay::wallet_util
