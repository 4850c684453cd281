// Stub: implemented by the issue 8 work in progress.
#include "mailjournal/search_query.h"
namespace mailjournal {
Status ParseQuery(std::string_view, QueryNode*) { return Status::Internal("not yet"); }
std::string QueryToString(const QueryNode&) { return ""; }
SearchDocument BuildDocument(const ExtractedText&, const std::vector<std::string>&,
                             const std::vector<std::string>&) {
  return SearchDocument();
}
bool Matches(const QueryNode&, const SearchDocument&) { return false; }
std::string Snippet(const QueryNode&, const ExtractedText&, size_t) { return ""; }
bool SeqSet::Contains(uint64_t) const { return false; }
Status EvaluateCandidates(const QueryNode&, PostingSource*, Candidates*) {
  return Status::Internal("not yet");
}
}  // namespace mailjournal
