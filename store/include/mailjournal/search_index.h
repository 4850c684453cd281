// Indexing a message for search: its text (mailjournal/text_extract.h) tokenized per field
// (mailjournal/search_query.h BuildDocument), each distinct token with the fields it occurs
// in, then hashed under each index key that applies (mailjournal/index_keys.h). The daemon
// does it at capture; the tool, holding the private keys, collects the tokens of older
// messages for "reindex" and the daemon hashes them.
//
// Thread-safety: pure functions.
#ifndef MAILJOURNAL_SEARCH_INDEX_H_
#define MAILJOURNAL_SEARCH_INDEX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailjournal/index_keys.h"
#include "mailjournal/journal.h"
#include "mailjournal/search_query.h"
#include "mailjournal/text_extract.h"

namespace mailjournal {

// Each distinct token of the document with the fields it occurs in (SearchField bits),
// sorted by token.
using TokenFields = std::vector<std::pair<std::string, uint8_t>>;
TokenFields CollectTokens(const SearchDocument& doc);

// The tokens' keyed hashes under `key`, sorted by hash (fields of colliding hashes or-ed).
TermSet HashTokens(const TokenFields& tokens, const IndexKey& key);

// The whole path for a captured message: extract (bounded by kMaxExtractedText), build the
// document with the envelope, collect and hash under every key. `problems` (may be null)
// receives what could not be decoded.
std::vector<TermSet> IndexMessage(std::string_view message,
                                  const std::vector<std::string>& mail_from,
                                  const std::vector<std::string>& rcpt_to,
                                  const std::vector<IndexKey>& keys,
                                  std::vector<std::string>* problems);
// The same for a message whose text was already extracted (ExtractText), so that a caller
// that needs the text for something else extracts it once.
std::vector<TermSet> IndexMessage(const ExtractedText& text,
                                  const std::vector<std::string>& mail_from,
                                  const std::vector<std::string>& rcpt_to,
                                  const std::vector<IndexKey>& keys);

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEARCH_INDEX_H_
