#include "address.h"

#include <cstdio>
#include <cstring>

namespace mailjournal {
namespace policy_internal {

namespace {

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext and '.', plus UTF-8 bytes (RFC 6531).
bool IsLocalChar(unsigned char c) {
  return IsAsciiAlnum(c) || c >= 0x80 || (c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~.", c));
}

// Letters, digits, '-', '.', plus UTF-8 bytes (internationalised domain names).
bool IsDomainChar(unsigned char c) { return IsAsciiAlnum(c) || c >= 0x80 || c == '-' || c == '.'; }

bool IsGlobChar(char c) { return c == '*' || c == '?' || c == '['; }

std::string CharName(char c) { return Quoted(std::string(1, c)); }

bool CheckDomain(const std::string& domain, std::string* reason) {
  if (domain.empty()) {
    *reason = "empty domain";
    return false;
  }
  for (char c : domain) {
    if (!IsDomainChar(static_cast<unsigned char>(c))) {
      *reason = "invalid character " + CharName(c) + " in domain";
      return false;
    }
  }
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string::npos) {
    *reason = "empty label in domain " + Quoted(domain);
    return false;
  }
  return true;
}

bool CheckLocal(const std::string& local, std::string* reason) {
  if (local.empty()) {
    *reason = "empty local part";
    return false;
  }
  for (char c : local) {
    if (!IsLocalChar(static_cast<unsigned char>(c))) {
      *reason = "invalid character " + CharName(c) + " in local part";
      return false;
    }
  }
  return true;
}

// Scans a bracket expression starting at text[*pos] == '['; on success leaves *pos on the
// closing ']'. Accepts POSIX classes such as [[:digit:]].
bool SkipBracket(const std::string& text, size_t* pos) {
  size_t i = *pos + 1;
  if (i < text.size() && (text[i] == '!' || text[i] == '^')) ++i;
  if (i < text.size() && text[i] == ']') ++i;  // a leading ']' is literal
  while (i < text.size()) {
    char c = text[i];
    if (c == '[' && i + 1 < text.size() &&
        (text[i + 1] == ':' || text[i + 1] == '=' || text[i + 1] == '.')) {
      char kind = text[i + 1];
      size_t end = i + 2;
      while (end + 1 < text.size() && !(text[end] == kind && text[end + 1] == ']')) ++end;
      if (end + 1 >= text.size()) return false;
      i = end + 2;
      continue;
    }
    if (c == ']') {
      *pos = i;
      return true;
    }
    ++i;
  }
  return false;
}

bool ParseGlob(const std::string& text, const PolicyOptions& options, ParsedMember* member,
               std::string* reason) {
  // Find the '@' outside bracket expressions and check the characters outside them.
  size_t at = std::string::npos;
  int ats = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '[') {
      size_t start = i;
      if (!SkipBracket(text, &i)) {
        *reason = "unterminated '[' in glob";
        return false;
      }
      for (size_t j = start + 1; j < i; ++j) {
        unsigned char b = static_cast<unsigned char>(text[j]);
        if (b <= 0x20 || b == 0x7f || b == '@') {
          *reason = "invalid character " + CharName(text[j]) + " in glob bracket expression";
          return false;
        }
      }
      continue;
    }
    if (c == '@') {
      ++ats;
      at = i;
      continue;
    }
    if (c == '*' || c == '?') continue;
    bool ok = at == std::string::npos ? IsLocalChar(u) : IsDomainChar(u);
    if (!ok) {
      *reason = "invalid character " + CharName(c) +
                (at == std::string::npos ? " in local part" : " in domain");
      return false;
    }
  }
  if (ats != 1) {
    *reason = "expected exactly one '@'";
    return false;
  }
  if (at == 0) {
    *reason = "empty local part";
    return false;
  }
  if (at + 1 == text.size()) {
    *reason = "empty domain";
    return false;
  }
  std::string local = text.substr(0, at);
  if (!options.case_sensitive_local_part) local = LowerAscii(local);
  member->kind = MatchKind::kGlob;
  member->pattern = local + "@" + LowerAscii(text.substr(at + 1));
  return true;
}

}  // namespace

std::string LowerAscii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string StripAngles(const std::string& address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

std::string NormaliseAddress(const std::string& address, const PolicyOptions& options) {
  std::string text = StripAngles(address);
  size_t at = text.rfind('@');
  std::string local = at == std::string::npos ? text : text.substr(0, at);
  if (!options.case_sensitive_local_part) local = LowerAscii(local);
  if (options.strip_subaddress) {
    size_t sep = local.find(options.subaddress_separator);
    if (sep != std::string::npos && sep > 0) local.resize(sep);
  }
  if (at == std::string::npos) return local;
  return local + "@" + LowerAscii(text.substr(at + 1));
}

bool ParseMember(const std::string& written, const PolicyOptions& options, bool address_only,
                 ParsedMember* member, std::string* reason) {
  std::string text = StripAngles(written);
  if (text.empty()) {
    *reason = "empty address";
    return false;
  }
  if (text.front() == '@') {
    if (address_only) {
      *reason = "expected an address, not a domain";
      return false;
    }
    std::string domain = text.substr(1);
    bool subdomains = domain.compare(0, 2, "*.") == 0;
    if (subdomains) domain = domain.substr(2);
    if (!CheckDomain(domain, reason)) return false;
    member->kind = subdomains ? MatchKind::kSubdomains : MatchKind::kDomain;
    member->pattern = (subdomains ? "@*." : "@") + LowerAscii(domain);
    return true;
  }
  for (char c : text) {
    if (IsGlobChar(c)) {
      if (address_only) {
        *reason = "expected an address, not a glob";
        return false;
      }
      return ParseGlob(text, options, member, reason);
    }
  }
  size_t at = text.find('@');
  if (at == std::string::npos || text.find('@', at + 1) != std::string::npos) {
    *reason = "expected exactly one '@'";
    return false;
  }
  if (!CheckLocal(text.substr(0, at), reason) || !CheckDomain(text.substr(at + 1), reason)) {
    return false;
  }
  member->kind = MatchKind::kAddress;
  member->pattern = NormaliseAddress(text, options);
  return true;
}

std::string Quoted(const std::string& text) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

}  // namespace policy_internal
}  // namespace mailjournal
