// Stub: implemented by the issue 8 work in progress.
#include "mailjournal/tokenize.h"
namespace mailjournal {
std::vector<Token> Tokenize(std::string_view) { return {}; }
}  // namespace mailjournal
