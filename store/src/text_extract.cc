// Stub: implemented by the issue 8 work in progress.
#include "mailjournal/text_extract.h"
namespace mailjournal {
ExtractedText ExtractText(std::string_view, size_t) { return ExtractedText(); }
}  // namespace mailjournal
