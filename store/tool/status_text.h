// The text form of `mailjournal status` (mailjournal(8), status): one "name: value" line per
// figure of the status response, the daemon's own figures ("daemon") summarised per line,
// or one line saying they are unavailable (offline, with --journal).
#ifndef MAILJOURNAL_TOOL_STATUS_TEXT_H_
#define MAILJOURNAL_TOOL_STATUS_TEXT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace mailjournal {

// REQUIRES: status is the "status" object of a status response (missing members are
// left out).
std::string StatusText(const nlohmann::json& status);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_STATUS_TEXT_H_
