// The tool's side of a search, shared by the journal search (search_commands.cc) and the
// bucket search (bucket_commands.cc): opening a message to confirm the query on its text,
// and printing a hit.
#ifndef MAILJOURNAL_TOOL_SEARCH_HITS_H_
#define MAILJOURNAL_TOOL_SEARCH_HITS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "channel.h"
#include "fetch.h"
#include "mailjournal/search_query.h"
#include "mailjournal/status.h"
#include "mailjournal/text_extract.h"

namespace mailjournal {

// A message's text and envelope as the tool sees it after opening it.
struct Opened {
  ExtractedText text;
  SearchDocument doc;
};

// A message's supervision facts from its entry's JSON (EntryToJson): "flags" and
// "sampled", and the "review_status" and "tags" a search hit carries (absent: unreviewed,
// untagged).
MessageFacts FactsFromJson(const nlohmann::json& entry);

// Fetches and opens message `entry` (purpose read: the daemon checks the grant and records
// it); the document's facts are FactsFromJson(entry). PermissionDenied when no key given is one of
// its recipients or the caller may not read it; NotFound when it was disposed of.
Status OpenMessage(Channel* channel, const Opener& opener, const nlohmann::json& entry,
                   Opened* out);

// One hit as printed: the entry, whether the match is confirmed, and what opening gave.
struct Hit {
  nlohmann::json entry;
  std::string prefix;  // the bucket prefix it is from; "" for the journal's own
  bool confirmed = false;
  bool opened = false;
  std::string subject, snippet;
};

// One line (and subject and snippet lines when opened) in text, "PREFIX:SEQ ..." for a
// bucket's hit; one JSON object ("prefix" for a bucket's hit) in json.
void PrintHit(const Hit& hit, const std::string& format);

// The words of a query joined with spaces.
std::string JoinWords(const std::vector<std::string>& words);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_SEARCH_HITS_H_
