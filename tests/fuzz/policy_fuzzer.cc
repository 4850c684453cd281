// libFuzzer target for the policy loader and evaluator: whatever the bytes, loading must
// not crash, leak or trip a sanitizer; a refused policy always says why; a loaded one
// classifies messages. The input is the policy file; the bytes after its first NUL, if
// any, are the member list "hr/list.txt". "keys/k.pem" is a valid certificate.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mailjournal/policy.h"

namespace {

constexpr char kCertificate[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjjCCATOgAwIBAgIUJX9H8jJQaGDQ81k14jfJnWZPfNYwCgYIKoZIzj0EAwIw\n"
    "GzEZMBcGA1UEAwwQbWFpbGpvdXJuYWwtZnV6ejAgFw0yNjExMjcxMDQ1MzlaGA8y\n"
    "MTI2MTEwMzEwNDUzOVowGzEZMBcGA1UEAwwQbWFpbGpvdXJuYWwtZnV6ejBZMBMG\n"
    "ByqGSM49AgEGCCqGSM49AwEHA0IABJvZsfASLsHEWCsbuP1Z76sWCYEg0gZciVzL\n"
    "HLLBLbGgU66N8FuGLv2qURn+lqrBeK3cpSyv1DWSnUWoKfVoVSKjUzBRMB0GA1Ud\n"
    "DgQWBBT3bLTgVvGXOCsG/ocQmG3XMKtQ0TAfBgNVHSMEGDAWgBT3bLTgVvGXOCsG\n"
    "/ocQmG3XMKtQ0TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC4\n"
    "Xis9j87Hxfv6tMQ53Vr7XDhvB15mz0fR029zhiFRCgIhAOFSE1E0u7umO8/Fb9Lm\n"
    "9qRoZNSO1oqdcqsoxYVYu+ov\n"
    "-----END CERTIFICATE-----\n";

void Exercise(const mailjournal::Policy& policy) {
  using mailjournal::Decision;
  const int64_t now = 1795000000000000;  // 2026-11-18
  Decision d = policy.Classify("Alice+x@Bank.Example",
                               {"", "<bob@x.bank.example>", "postmaster", "a@b@c", "<>", "@"}, now);
  if (d.matches.size() != 7 || d.departments.empty() || d.retention.empty()) __builtin_trap();
  policy.HoldsCovering(d, now, 150);
  policy.HoldsCovering(d, INT64_MIN, 0);
  policy.Classify("x@y", {}, INT64_MAX);
  // Every address rule classifies its own address into its department.
  for (const mailjournal::Department& dept : policy.departments()) {
    for (const mailjournal::MemberRule& rule : dept.members) {
      mailjournal::AddressMatch m = policy.MatchAddress(rule.text);
      if (rule.kind != mailjournal::MatchKind::kAddress) continue;
      bool found = false;
      for (const std::string& name : m.departments) found = found || name == dept.name;
      if (!found) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string policy_bytes(reinterpret_cast<const char*>(data), size);
  std::string list;
  size_t nul = policy_bytes.find('\0');
  if (nul != std::string::npos) {
    list = policy_bytes.substr(nul + 1);
    policy_bytes.resize(nul);
  }
  mailjournal::FileReader reader = mailjournal::MemoryFileReader({
      {"policy.yaml", policy_bytes},
      {"hr/list.txt", list},
      {"keys/k.pem", kCertificate},
  });
  std::shared_ptr<const mailjournal::Policy> policy;
  std::vector<mailjournal::PolicyError> errors;
  if (mailjournal::LoadPolicy("policy.yaml", reader, &policy, &errors)) {
    if (!errors.empty() || policy == nullptr) __builtin_trap();
    Exercise(*policy);
  } else {
    if (errors.empty() || policy != nullptr) __builtin_trap();
    for (const mailjournal::PolicyError& e : errors) {
      if (e.message.empty() || e.line < 0 || e.column < 0 || e.ToString().empty()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
