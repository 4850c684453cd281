#include "mailjournal/search_index.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "mailjournal/text_extract.h"

namespace mailjournal {

TokenFields CollectTokens(const SearchDocument& doc) {
  // A hash map, sorted once at the end: a message has thousands of token occurrences and
  // hundreds of distinct tokens (search_bench: a std::map took most of this step's time).
  std::unordered_map<std::string_view, uint8_t> fields;
  fields.reserve(1024);
  for (int f = 0; f < kFieldCount; ++f) {
    for (const auto& value : doc.fields[f]) {
      for (const std::string& token : value) fields[token] |= static_cast<uint8_t>(1 << f);
    }
  }
  TokenFields out;
  out.reserve(fields.size());
  for (const auto& [token, mask] : fields) out.emplace_back(std::string(token), mask);
  std::sort(out.begin(), out.end());
  return out;
}

TermSet HashTokens(const TokenFields& tokens, const IndexKey& key) {
  TermSet set;
  set.key_id = key.id;
  set.terms.reserve(tokens.size());
  TermHasher hasher(key);
  for (const auto& [token, fields] : tokens) {
    set.terms.push_back(KeyedTerm{hasher.Hash(token), fields});
  }
  std::sort(set.terms.begin(), set.terms.end(),
            [](const KeyedTerm& a, const KeyedTerm& b) { return a.hash < b.hash; });
  size_t out = 0;
  for (size_t i = 0; i < set.terms.size(); ++i) {
    if (out > 0 && set.terms[out - 1].hash == set.terms[i].hash) {
      set.terms[out - 1].fields |= set.terms[i].fields;
    } else {
      set.terms[out++] = set.terms[i];
    }
  }
  set.terms.resize(out);
  return set;
}

std::vector<TermSet> IndexMessage(std::string_view message,
                                  const std::vector<std::string>& mail_from,
                                  const std::vector<std::string>& rcpt_to,
                                  const std::vector<IndexKey>& keys,
                                  std::vector<std::string>* problems) {
  std::vector<TermSet> sets;
  if (keys.empty()) return sets;
  ExtractedText text = ExtractText(message);
  if (problems != nullptr) *problems = std::move(text.problems);
  return IndexMessage(text, mail_from, rcpt_to, keys);
}

std::vector<TermSet> IndexMessage(const ExtractedText& text,
                                  const std::vector<std::string>& mail_from,
                                  const std::vector<std::string>& rcpt_to,
                                  const std::vector<IndexKey>& keys) {
  std::vector<TermSet> sets;
  if (keys.empty()) return sets;
  TokenFields tokens = CollectTokens(BuildDocument(text, mail_from, rcpt_to));
  for (const IndexKey& key : keys) sets.push_back(HashTokens(tokens, key));
  return sets;
}

}  // namespace mailjournal
