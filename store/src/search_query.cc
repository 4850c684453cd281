// Stub: implemented by the issue 8 work in progress.
#include "mailjournal/search_query.h"
namespace mailjournal {
Status ParseQuery(std::string_view, QueryNode*) { return Status::Internal("not yet"); }
}  // namespace mailjournal
