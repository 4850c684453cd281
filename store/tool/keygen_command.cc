// mailjournal keygen: a department's key pair (mailjournal(8), KEYGEN).
#include <sysexits.h>

#include <cstdio>

#include "cli.h"
#include "commands.h"
#include "keygen.h"
#include "mailjournal/policy.h"

namespace mailjournal {

int CmdKeygen(const KeygenOptions& options, const std::string& passphrase_file,
              const std::string& format) {
  // Check the arguments before asking for a passphrase.
  if (!IsValidPolicyName(options.department)) {
    return Fail(Status::InvalidArgument("invalid department name '" + options.department +
                                        "' (see mailjournal.yaml(5))"));
  }
  Passphrase passphrase;
  Status s = passphrase_file.empty() ? PromptNewPassphrase(options.department + ".key", &passphrase)
                                     : ReadPassphraseFile(passphrase_file, &passphrase);
  if (!s.ok()) return Fail(s);
  KeygenResult r;
  s = GenerateDepartmentKey(options, passphrase, &r);
  passphrase.Clear();
  if (!s.ok()) {
    // A file that cannot be created or written: nothing was left behind.
    return s.code() == Status::Code::kIOError ? FailWith(EX_CANTCREAT, s) : Fail(s);
  }
  if (format == "json") {
    PrintJson({{"department", options.department},
               {"key", r.key_path},
               {"certificate", r.certificate_path},
               {"fingerprint", r.fingerprint}});
  } else {
    PrintField("department", options.department);
    PrintField("key", r.key_path + " (private, passphrase-protected, mode 0600)");
    PrintField("certificate",
               r.certificate_path + " (public, mode 0644, valid until " + r.not_after + ")");
    PrintField("fingerprint", r.fingerprint);
    std::printf(
        "\nCopy %s next to the policy file and list it under department %s:\n"
        "    keys: [%s.crt]\n"
        "Move %s to the compliance officers' machine and keep a backup offline;\n"
        "it must never be on the MTA host, and mailjournald never needs it.\n",
        r.certificate_path.c_str(), options.department.c_str(), options.department.c_str(),
        r.key_path.c_str());
  }
  if (std::fflush(stdout) != 0) return Fail(Status::IOError("standard output: write failed"));
  return EX_OK;
}

}  // namespace mailjournal
