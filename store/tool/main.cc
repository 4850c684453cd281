// mailjournal: the operators' and compliance officers' tool. See mailjournal(8).
//
// Every command builds an admin-protocol request and sends it over a Channel: the daemon's
// admin socket (--socket, the default) or the journal directory opened directly
// (--journal, only while the daemon is stopped). Output is made from the responses alone,
// so it is the same either way.
#include <sys/stat.h>
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "channel.h"
#include "cli.h"
#include "commands.h"
#include "entry_text.h"
#include "fetch.h"
#include "keygen.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/time_util.h"
#include "output.h"
#include "status_text.h"

namespace mailjournal {
namespace {

using nlohmann::json;

constexpr char kDefaultSocket[] = "/run/mailjournal/admin.sock";

int CmdStatus(Channel* ch, const std::string& format) {
  json resp;
  Status s = ch->Call(Request("status"), &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  const json& st = resp["status"];
  if (format == "json") {
    PrintJson(st);
  } else {
    std::fputs(StatusText(st).c_str(), stdout);
  }
  return EX_OK;
}

struct ListOptions {
  std::string since, until, from, rcpt, format = "text";
  uint64_t limit = 0;  // 0: no limit
  bool reverse = false;
  bool all = false;  // entries of every kind, not only messages
};

int CmdList(Channel* ch, const ListOptions& o) {
  json req = Request("list");
  if (!o.since.empty()) req["since"] = o.since;
  if (!o.until.empty()) req["until"] = o.until;
  if (!o.from.empty()) req["from"] = o.from;
  if (!o.rcpt.empty()) req["rcpt"] = o.rcpt;
  req["reverse"] = o.reverse;
  req["all"] = o.all;
  return PrintEntries(ch, req, o.limit, o.format);
}

struct ShowOptions {
  uint64_t seq = 0;
  std::string format = "text";
  bool body = false;  // also print the captured message (opened when sealed)
  KeyOptions keys;
};

void PrintEntry(const json& entry, const std::string& format) {
  if (format == "json") {
    PrintJson(entry);
  } else {
    PrintEntryDetails(entry);
  }
}

int CmdShow(Channel* ch, const ShowOptions& o) {
  if (!o.body) {
    json req = Request("show");
    req["seq"] = o.seq;
    json resp;
    Status s = ch->Call(req, &resp, NoPayload);
    if (!s.ok()) return Fail(s);
    PrintEntry(resp["entry"], o.format);
    return EX_OK;
  }
  if (o.format == "json") return Fail(Status::InvalidArgument("--body prints text: omit --format"));
  Opener opener;
  Status s = opener.Load(o.keys.files, o.keys.passphrase_file);
  if (!s.ok()) return Fail(s);
  // The metadata comes first, then an empty line and the message exactly as captured.
  bool started = false;
  s = FetchMessage(
      ch, o.seq, FetchPurpose::kRead, FetchForm::kCaptured, opener,
      [&](const json& entry) {
        PrintEntry(entry, o.format);
        std::fflush(stdout);
        return Status::OK();
      },
      [&](std::string_view bytes) {
        if (!started && std::fputs("\n", stdout) == EOF) return Status::IOError("standard output");
        started = true;
        if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
          return Status::IOError("standard output: write failed");
        }
        return Status::OK();
      });
  if (s.ok() && std::fflush(stdout) != 0) s = Status::IOError("standard output: write failed");
  return s.ok() ? EX_OK : Fail(s);
}

}  // namespace

void KeyOptions::AddTo(CLI::App* command) {
  command->add_option("--key", files, "private key that opens sealed messages (repeatable)");
  command->add_option("--passphrase-file", passphrase_file, "the keys' passphrase (first line)");
}

}  // namespace mailjournal

int main(int argc, char** argv) {
  using namespace mailjournal;
  CLI::App app{"mailjournal: inspect and export the mail journal (see mailjournal(8))"};
  app.set_version_flag("--version", std::string("mailjournal ") + MAILJOURNAL_VERSION);
  app.require_subcommand(1);
  std::string journal_dir, socket_path;
  auto* journal_opt = app.add_option("--journal", journal_dir,
                                     "open the journal directory directly (daemon stopped)");
  app.add_option("--socket", socket_path, "the daemon's admin socket")->excludes(journal_opt);
  auto formats = CLI::IsMember({"text", "json"});

  std::string format = "text";
  auto* status = app.add_subcommand("status", "show the journal's and the daemon's state");
  status->add_option("--format", format, "text or json")->check(formats);

  ListOptions lo;
  auto* list = app.add_subcommand("list", "list journaled messages");
  list->add_option("--since", lo.since, "from this time on (ISO 8601, inclusive)");
  list->add_option("--until", lo.until, "before this time (ISO 8601, exclusive)");
  list->add_option("--from", lo.from, "sender address contains this text (any case)");
  list->add_option("--rcpt", lo.rcpt, "a recipient address contains this text (any case)");
  list->add_option("--limit", lo.limit, "at most this many entries");
  list->add_flag("--reverse", lo.reverse, "newest first");
  list->add_flag("--all", lo.all, "entries of every kind (policy loads too), not only messages");
  list->add_option("--format", lo.format, "text or json")->check(formats);

  ShowOptions so;
  auto* show = app.add_subcommand("show", "show one entry's envelope and metadata");
  show->add_option("seq", so.seq, "sequence number")->required();
  show->add_option("--format", so.format, "text or json")->check(formats);
  show->add_flag("--body", so.body, "also print the message (sealed ones need --key)");
  so.keys.AddTo(show);

  std::vector<std::string> export_seqs;
  ExportOptions xo;
  auto* exp = app.add_subcommand("export", "write captured messages as eml or mbox");
  exp->add_option("seq", export_seqs,
                  "sequence numbers N or ranges N-M (with --bucket: PREFIX:N or PREFIX:N-M)");
  BucketOptions export_bucket;
  export_bucket.AddTo(exp);
  std::string export_search;
  exp->add_option("--search", export_search, "with --bucket: the messages this query finds");
  auto* export_format =
      exp->add_option("--format", xo.format, "eml or mbox")->check(CLI::IsMember({"eml", "mbox"}));
  auto* output =
      exp->add_option("-o,--output", xo.out_path, "output file (or directory for several eml)");
  xo.keys.AddTo(exp);
  auto* sealed =
      exp->add_flag("--sealed", xo.sealed, "write sealed messages as stored (CMS), unopened");
  auto* bundle = exp->add_option("--bundle", xo.bundle.dir,
                                 "write the evidence bundle into this new or empty directory");
  bundle->excludes(export_format)->excludes(output)->excludes(sealed);
  exp->add_option("--verifier-key", xo.bundle.verifier_key_file,
                  "with --bundle: check the checkpoint with this verifier key and include it")
      ->needs(bundle);

  AuditOptions ao;
  auto* audit =
      app.add_subcommand("audit", "show the audit trail: who asked for what, and what they got");
  audit->add_option("--since", ao.since, "from this time on (ISO 8601, inclusive)");
  audit->add_option("--until", ao.until, "before this time (ISO 8601, exclusive)");
  audit->add_option("--user", ao.user, "requests of this user (name or uid)");
  audit->add_option("--operation", ao.operation,
                    "requests of this operation (list, show, export, ...)");
  audit->add_option("--seq", ao.seq, "requests that returned or named entry SEQ")
      ->check(CLI::PositiveNumber);
  audit->add_option("--limit", ao.limit, "at most this many entries");
  audit->add_flag("--reverse", ao.reverse, "newest first");
  audit->add_option("--format", ao.format, "text or json")->check(formats);
  ao.keys.AddTo(audit);

  auto* policy = app.add_subcommand("policy", "check, explain, show and reload the policy");
  policy->require_subcommand(1);
  std::string policy_file;
  auto* check = policy->add_subcommand("check", "check a policy file (exit 0, or 78)");
  check->add_option("file", policy_file, "the policy file")->required();
  check->add_option("--format", format, "text or json")->check(formats);
  ExplainOptions eo;
  auto* explain = policy->add_subcommand("explain", "how a message would be classified");
  explain->add_option("--policy", eo.policy_file, "this policy file, not the active policy");
  explain->add_option("--from", eo.from, "the sender address")->required();
  explain->add_option("--rcpt", eo.rcpts, "a recipient address (repeatable)")->required();
  explain->add_option("--time", eo.time, "capture time (ISO 8601; default now)");
  explain->add_option("--format", eo.format, "text or json")->check(formats);
  auto* policy_show = policy->add_subcommand("show", "the active policy and its digest");
  policy_show->add_option("--format", format, "text or json")->check(formats);
  auto* reload = policy->add_subcommand("reload", "make the daemon load its policy file again");

  KeygenOptions ko;
  std::string passphrase_file;
  std::string signing_origin;
  auto* keygen = app.add_subcommand(
      "keygen", "make a department's key pair and certificate, or the checkpoint signing key");
  auto* department_opt = keygen->add_option("--department", ko.department, "the department's name");
  auto* signing_opt = keygen->add_option("--signing", signing_origin,
                                         "make the checkpoint signing key for this origin instead");
  department_opt->excludes(signing_opt);
  keygen->add_option("-o,--output", ko.dir, "the directory for the key files")->required();
  keygen->add_option("--passphrase-file", passphrase_file,
                     "read the passphrase from this file's first line (default: prompt)");
  keygen->add_option("--days", ko.days, "certificate validity in days (default 36500)")
      ->check(CLI::Range(1, kKeygenMaxDays));
  keygen->add_option("--format", format, "text or json")->check(formats);

  VerifyCliOptions vo;
  auto* verify = app.add_subcommand("verify", "check the whole journal (exit 0, or 65)");
  verify->add_option("--verifier-key", vo.verifier_key_file,
                     "the checkpoint verifier key file (checkpoint.vkey)");
  verify->add_option("--checkpoints", vo.checkpoint_dir,
                     "a directory of off-host checkpoint copies to check the journal against");
  verify->add_option("--since", vo.since_file, "start from this trusted checkpoint file");
  verify->add_option("--format", vo.format, "text or json")->check(formats);
  BucketOptions verify_bucket;
  verify_bucket.AddTo(verify);

  ProofCliOptions po;
  std::vector<uint64_t> consistency;
  auto* proof = app.add_subcommand("proof", "print an inclusion or consistency proof");
  auto* inclusion_opt = proof->add_option("--inclusion", po.inclusion, "entry SEQ");
  auto* consistency_opt =
      proof->add_option("--consistency", consistency, "OLD_SIZE NEW_SIZE")->expected(2);
  inclusion_opt->excludes(consistency_opt);
  proof->add_option("--checkpoint", po.checkpoint_file, "prove against this checkpoint file");
  proof->add_option("--format", po.format, "text or json")->check(formats);

  RetentionCommands retention;
  retention.AddTo(&app);
  ReviewCommands review;
  review.AddTo(&app);
  SearchCommands search;
  search.AddTo(&app);
  BucketOptions search_bucket;
  search_bucket.AddTo(search.search_command());
  SetupCommands setup;
  setup.AddTo(&app);
  SegmentCommands segments;
  segments.AddTo(&app);
  ShipCommands ship;
  ship.AddTo(&app);
  std::string index_keys = "/etc/mailjournal/index-keys";
  app.add_option("--index-keys", index_keys,
                 "with --journal: the search index keys (mailjournald's index_keys)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? EX_OK : EX_USAGE;
  }

  try {
    // Commands that need no journal.
    if (setup.Selected()) return setup.Run();
    if (ship.Selected()) return ship.Run();
    if (segments.Selected() && segments.Offline()) return segments.RunOffline();
    if (*check) return CmdPolicyCheck(policy_file, format);
    if (*explain && !eo.policy_file.empty()) return CmdPolicyExplain(nullptr, eo);
    if (*keygen && !signing_origin.empty()) return CmdKeygenSigning(signing_origin, ko.dir, format);
    if (*keygen && ko.department.empty()) {
      return Fail(Status::InvalidArgument("keygen: give --department NAME or --signing ORIGIN"));
    }
    if (*keygen) return CmdKeygen(ko, passphrase_file, format);

    // Commands that read a bucket (no journal needed).
    if (*exp && export_bucket.bucket) {
      return CmdExportBucket(export_bucket, export_seqs, export_search, xo);
    }
    if (search.Selected() && search_bucket.bucket) {
      return CmdSearchBucket(search_bucket, search.search_options());
    }
    if (*verify && verify_bucket.bucket) {
      if (!vo.verifier_key_file.empty()) {
        verify_bucket.verifier_key_files.push_back(vo.verifier_key_file);
      }
      // The journal to compare with: only when named (--journal or --socket).
      std::unique_ptr<Channel> local;
      Status ls = Status::OK();
      if (!journal_dir.empty()) ls = OpenLocalChannel(journal_dir, index_keys, &local);
      if (!socket_path.empty()) ls = ConnectSocketChannel(socket_path, &local);
      if (!ls.ok()) return Fail(ls);
      return CmdVerifyBucket(verify_bucket, vo.format, local.get());
    }
    if (*exp && export_seqs.empty()) {
      return Fail(Status::InvalidArgument("export: give the sequence numbers (SEQ or N-M)"));
    }

    std::unique_ptr<Channel> channel;
    Status s =
        journal_dir.empty()
            ? ConnectSocketChannel(socket_path.empty() ? kDefaultSocket : socket_path, &channel)
            : OpenLocalChannel(journal_dir, index_keys, &channel);
    if (!s.ok()) return Fail(s);
    if (*status) return CmdStatus(channel.get(), format);
    if (*list) return CmdList(channel.get(), lo);
    if (*show) return CmdShow(channel.get(), so);
    if (*exp) return CmdExport(channel.get(), export_seqs, xo);
    if (*audit) return CmdAudit(channel.get(), ao);
    if (*explain) return CmdPolicyExplain(channel.get(), eo);
    if (*policy_show) return CmdPolicyShow(channel.get(), format);
    if (*reload) return CmdPolicyReload(channel.get());
    if (*verify) return CmdVerify(channel.get(), vo);
    if (retention.Selected()) return retention.Run(channel.get());
    if (review.Selected()) return review.Run(channel.get());
    if (search.Selected()) return search.Run(channel.get());
    if (segments.Selected()) return segments.Run(channel.get());
    if (*proof) {
      if (consistency.size() == 2) {
        po.old_size = consistency[0];
        po.new_size = consistency[1];
      } else if (po.inclusion == 0) {
        return Fail(
            Status::InvalidArgument("proof: give --inclusion SEQ or --consistency OLD NEW"));
      }
      return CmdProof(channel.get(), po);
    }
  } catch (const std::exception& e) {
    return Fail(Status::Internal(e.what()));
  }
  return EX_USAGE;
}
