// Address syntax and normalisation shared by the loader and the evaluator. Thread-safe.
#ifndef MAILJOURNAL_POLICY_ADDRESS_H_
#define MAILJOURNAL_POLICY_ADDRESS_H_

#include <string>

#include "mailjournal/policy.h"

namespace mailjournal {
namespace policy_internal {

// ASCII letters to lower case; other bytes (UTF-8 included) unchanged.
std::string LowerAscii(std::string text);

// Removes one pair of enclosing angle brackets.
std::string StripAngles(const std::string& address);

// The normalised form of an address as the evaluator compares it: angle brackets removed,
// domain (after the last '@') in lower case, local part in lower case unless
// case_sensitive_local_part, and cut at the first sub-address separator when
// strip_subaddress (unless the separator starts the local part). "" stays "".
std::string NormaliseAddress(const std::string& address, const PolicyOptions& options);

// A member rule as the policy writes it, checked and normalised.
struct ParsedMember {
  MatchKind kind = MatchKind::kAddress;
  std::string pattern;
};

// Parses a member ("a@b", "@b", "@*.b", or a glob with * ? [...]). With address_only only
// plain addresses are accepted (include files, hold scopes). On success returns true and
// sets *member; otherwise returns false and sets *reason (e.g. "empty local part").
bool ParseMember(const std::string& text, const PolicyOptions& options, bool address_only,
                 ParsedMember* member, std::string* reason);

// 'text' in single quotes for messages: control bytes as \xNN, cut after 80 bytes.
std::string Quoted(const std::string& text);

}  // namespace policy_internal
}  // namespace mailjournal

#endif  // MAILJOURNAL_POLICY_ADDRESS_H_
