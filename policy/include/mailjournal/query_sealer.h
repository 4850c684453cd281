// The QuerySealer (mailjournal/search_admin.h) of the policy in force: a search's query is
// sealed, for its access entry, like a message: to the keys of the departments searched and
// the escrow keys of the active policy (each key once), so the officers who can read that
// mail, and only they, can read what was searched for (mailjournal audit --key).
#ifndef MAILJOURNAL_QUERY_SEALER_H_
#define MAILJOURNAL_QUERY_SEALER_H_

#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/policy_holder.h"
#include "mailjournal/seal.h"
#include "mailjournal/search_admin.h"

namespace mailjournal {

// The keys that what concerns `departments` is sealed to under `policy`: the departments'
// keys (every department's when none is named) and the escrow keys, each once, in the
// policy's key order. Also what an index key is sealed to (index_key_journal.h).
RecipientKeys SealingRecipients(const Policy& policy, const std::vector<std::string>& departments);

// Seals `text` to `recipients` (at least one) like message content (seal.h): sets *sealed
// to the CMS structure and *fingerprints to each recipient key's fingerprint. What search
// queries and review notes (review_admin.h) are sealed with.
Status SealText(const RecipientKeys& recipients, std::string_view text, std::string* sealed,
                std::vector<Sha256Digest>* fingerprints);

// Seals a search query to `recipients` for an access record (local or in a bucket): sets
// *record to {"query_sealed": base64 CMS, "query_recipients": [key fingerprints]}, or to
// {"query_unrecorded": why} when there is no recipient.
Status SealQueryRecord(const RecipientKeys& recipients, const std::string& query,
                       nlohmann::json* record);

// REQUIRES: holder outlives the sealer.
QuerySealer PolicyQuerySealer(const PolicyHolder* holder);

}  // namespace mailjournal

#endif  // MAILJOURNAL_QUERY_SEALER_H_
